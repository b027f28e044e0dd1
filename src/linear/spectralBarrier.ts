import { SymmetricEigenSolver } from '../numerics/eigen.js';
import { marginsInClassBasis } from './classBasis.js';
import type { LinearNorm } from './norms.js';
import { combine, marginCount, margins, type MarginOperator } from './problem.js';
import type { DualSolve } from './schattenDual.js';

/**
 * docs/science.md §14.4: the spectral max-margin problem max t s.t. ⟨A_j, W⟩ ≥ t, σ_max(W) ≤ 1,
 * by a primal barrier (path-following) method. The spectral ball is {W : I − W Wᵀ ⪰ 0}, whose
 * barrier −log det(I − W Wᵀ) is self-concordant (the log-det barrier of [[I, W], [Wᵀ, I]] ⪰ 0,
 * by the Schur complement), so for τ → ∞ the minimizers of
 *
 *   f_τ(W, t) = −τ t − Σ_j log s_j − log det(I − W Wᵀ),  s_j = ⟨A_j, W⟩ − t,
 *
 * follow the central path to the optimum. At a minimizer λ_j = 1/(τ s_j) lies in the simplex (the
 * t-derivative) and Σ λ_j A_j = (2/τ)(I − W Wᵀ)⁻¹ W, with duality gap at most (m + C')/τ: the
 * iterate certifies itself (§14.3), W/σ_max(W) from below and λ_j ∝ 1/s_j from above, both
 * recomputed from scratch on the operator, and the best of each over the iterates is kept.
 *
 * Coordinates as in the dual solver: W [C', r] on the complement of 1 on the left (orthonormal
 * basis, so σ_max is unchanged) and the operator's r coordinates on the right; margin j is
 * u_jᵀ W x_i. Each Newton step solves one dense system of size C'r + 1 (Cholesky); τ grows by
 * `growth` after each centering. Starts from the direction of Σ λ_j A_j for the given λ (the ℓ2
 * multipliers; else uniform), scaled inside the ball.
 *
 * It stops once the relative gap is at most `tolerance`, or after `maxIterations` Hessian
 * factorizations (converged: false), or when rounding stops the path (no step decreases f_τ): then
 * it reports the best certificate it reached, which is honest but may miss the tolerance.
 */
export function solveSpectralBarrier(op: MarginOperator, norm: LinearNorm, start: Float64Array | null = null, tolerance = 1e-9, maxIterations = 200): DualSolve {
  const { n, r, C, X } = op;
  const m = marginCount(op);
  const { Cp, left, u, sampleOf } = marginsInClassBasis(op); // u [m, C']
  const P = Cp * r; // W's entries; t is unknown P
  const perSample = m / n;

  /** L W [C, r]: the reduced W in the operator's coordinates. */
  const lift = (W: Float64Array): Float64Array => {
    const out = new Float64Array(C * r);
    for (let row = 0; row < C; row++) for (let a = 0; a < Cp; a++) {
      const la = left[row * Cp + a]!;
      if (la !== 0) for (let c = 0; c < r; c++) out[row * r + c]! += la * W[a * r + c]!;
    }
    return out;
  };
  /** Lᵀ M [C', r]. */
  const reduce = (M: Float64Array): Float64Array => {
    const out = new Float64Array(P);
    for (let row = 0; row < C; row++) for (let a = 0; a < Cp; a++) {
      const la = left[row * Cp + a]!;
      if (la !== 0) for (let c = 0; c < r; c++) out[a * r + c]! += la * M[row * r + c]!;
    }
    return out;
  };
  /** The margins u_jᵀ W x_i [m]. */
  const marginsOf = (W: Float64Array): Float64Array => {
    const Wx = new Float64Array(Cp);
    const out = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < Cp; a++) {
        let acc = 0;
        for (let c = 0; c < r; c++) acc += W[a * r + c]! * X[i * r + c]!;
        Wx[a] = acc;
      }
      for (let j = i * perSample; j < (i + 1) * perSample; j++) {
        let acc = 0;
        for (let a = 0; a < Cp; a++) acc += u[j * Cp + a]! * Wx[a]!;
        out[j] = acc;
      }
    }
    return out;
  };
  /** I − W Wᵀ [C', C'] and its Cholesky factor, or null outside the open ball. */
  const ball = (W: Float64Array) => {
    const R = gram(W, Cp, r).map((v) => -v);
    for (let a = 0; a < Cp; a++) R[a * Cp + a]! += 1;
    const L = cholesky(R, Cp);
    return L ? { R, L } : null;
  };
  /** Whether I − W Wᵀ − F ≻ 0. */
  const inside = (W: Float64Array, F: Float64Array): boolean => {
    const S = gram(W, Cp, r);
    for (let k = 0; k < Cp * Cp; k++) S[k] = -S[k]! - F[k]!;
    for (let a = 0; a < Cp; a++) S[a * Cp + a]! += 1;
    return cholesky(S, Cp) !== null;
  };
  /** f_τ at (W, t), +∞ outside the domain. */
  const barrier = (W: Float64Array, t: number, tau: number): number => {
    const b = ball(W);
    if (!b) return Infinity;
    const q = marginsOf(W);
    let f = -tau * t;
    for (let j = 0; j < m; j++) {
      const s = q[j]! - t;
      if (!(s > 0)) return Infinity;
      f -= Math.log(s);
    }
    for (let a = 0; a < Cp; a++) f -= 2 * Math.log(b.L[a * Cp + a]!);
    return f;
  };

  // The start: W = ½ G/σ_max(G) for G = Σ λ_j A_j (the given λ, else uniform), inside the ball,
  // and t below every margin by their spread.
  const lambda0 = start ? Float64Array.from(start, (v) => Math.max(v, 0)) : new Float64Array(m).fill(1);
  const G0 = reduce(combine(op, lambda0));
  const eig = new SymmetricEigenSolver(Cp);
  eig.solve(gram(G0, Cp, r));
  const top = Math.sqrt(Math.max(eig.values[Cp - 1]!, 0));
  if (!(top > 0)) throw new Error('every margin has the zero gradient: nothing to separate');
  let W = G0.map((v) => (0.5 * v) / top);
  let t = (() => {
    const q = marginsOf(W);
    const low = Math.min(...q);
    const high = Math.max(...q);
    return low - Math.max(high - low, 1e-3 * Math.abs(high), 1e-6);
  })();
  // τ so that the central path's gap ν/τ, ν = m + C', matches the start's: the upper bound of
  // λ0 less t.
  const upper0 = norm.dual(combine(op, lambda0.map((v) => v / lambda0.reduce((acc, x) => acc + x, 0))), C, r);
  let tau = (m + Cp) / (upper0 - t);

  let best: { K: Float64Array; lower: number; upper: number; lambda: Float64Array } | null = null;
  const relGap = (c: { lower: number; upper: number }) => (c.upper - c.lower) / c.upper;
  /**
   * The certificate of (W, slacks), recomputed on the operator, merged into `best`. The upper
   * bound tries λ_j ∝ 1/s_j and, given the Newton step's slack change ds, its linearization
   * 1/s_j − ds_j/s_j² (clipped at 0), the primal-dual estimate, which is far closer off the path.
   */
  const certify = (W: Float64Array, slack: Float64Array, ds: Float64Array | null) => {
    const K = lift(W);
    const nW = norm.norm(K, C, r);
    const lower = Math.min(...margins(op, K)) / nW;
    const candidates = [slack.map((s) => 1 / s)];
    if (ds) candidates.push(slack.map((s, j) => Math.max((1 - ds[j]! / s) / s, 0)));
    if (best === null || lower > best.lower) best = { K: K.map((v) => v / nW), lower, upper: best?.upper ?? Infinity, lambda: best?.lambda ?? new Float64Array(m) };
    for (const w of candidates) {
      const total = w.reduce((acc, v) => acc + v, 0);
      if (!(total > 0)) continue;
      const lambda = w.map((v) => v / total);
      const upper = norm.dual(combine(op, lambda), C, r);
      if (upper < best.upper) best = { ...best, upper, lambda };
    }
  };

  /** Everything at (W, t) that the gradient and the Hessian share: slacks, R⁻¹, N = R⁻¹ W [C', r], ∇f_τ [P + 1]. */
  const pointAt = (W: Float64Array, t: number) => {
    const slack = marginsOf(W).map((v) => v - t);
    const Rinv = choleskyInverse(ball(W)!.L, Cp);
    const N = new Float64Array(P);
    for (let a = 0; a < Cp; a++) for (let b = 0; b < Cp; b++) {
      const rab = Rinv[a * Cp + b]!;
      for (let c = 0; c < r; c++) N[a * r + c]! += rab * W[b * r + c]!;
    }
    // ∇_W = 2 N − Σ_i b_i x_iᵀ with b_i = Σ u_j/s_j over sample i's margins; ∇_t = Σ 1/s_j − τ.
    const g = new Float64Array(P + 1);
    for (let k = 0; k < P; k++) g[k] = 2 * N[k]!;
    const bi = new Float64Array(Cp);
    let sumInv = 0;
    for (let i = 0; i < n; i++) {
      bi.fill(0);
      for (let j = i * perSample; j < (i + 1) * perSample; j++) {
        const w = 1 / slack[j]!;
        sumInv += w;
        for (let a = 0; a < Cp; a++) bi[a]! += w * u[j * Cp + a]!;
      }
      for (let a = 0; a < Cp; a++) {
        const b = bi[a]!;
        if (b !== 0) for (let c = 0; c < r; c++) g[a * r + c]! -= b * X[i * r + c]!;
      }
    }
    g[P] = sumInv - tau;
    return { W, t, slack, Rinv, N, g };
  };
  type Point = ReturnType<typeof pointAt>;

  /**
   * ∇²f_τ [P + 1, P + 1] (it does not depend on τ): the margins give Σ_j a_j a_jᵀ/s_j² with
   * a_j = (u_j ⊗ x_i, −1), i.e. Σ_i D_i ⊗ x_i x_iᵀ with D_i = Σ u_j u_jᵀ/s_j² over sample i's
   * margins; −log det(I − W Wᵀ) gives 2 R⁻¹ ⊗ (I − Wᵀ W)⁻¹ + 2 N_ad N_bc at ((a, c), (b, d)).
   */
  const hessianAt = (pt: Point): Float64Array => {
    const { W, slack, Rinv, N } = pt;
    const M = new Float64Array(r * r); // I + Wᵀ N = (I − Wᵀ W)⁻¹
    for (let c = 0; c < r; c++) for (let d = c; d < r; d++) {
      let acc = c === d ? 1 : 0;
      for (let a = 0; a < Cp; a++) acc += W[a * r + c]! * N[a * r + d]!;
      M[c * r + d] = M[d * r + c] = acc;
    }
    const ei = new Float64Array(n * Cp); // Σ u_j/s_j² per sample
    const Di = new Float64Array(n * Cp * Cp);
    let sumInv2 = 0;
    for (let j = 0; j < m; j++) {
      const i = sampleOf[j]!;
      const w2 = 1 / (slack[j]! * slack[j]!);
      sumInv2 += w2;
      for (let a = 0; a < Cp; a++) {
        const ua = u[j * Cp + a]!;
        ei[i * Cp + a]! += w2 * ua;
        for (let b = 0; b < Cp; b++) Di[(i * Cp + a) * Cp + b]! += w2 * ua * u[j * Cp + b]!;
      }
    }
    const dim = P + 1;
    const H = new Float64Array(dim * dim);
    const Kab = new Float64Array(r * r); // Σ_i D_i[a, b] x_i x_iᵀ, upper triangle
    for (let a = 0; a < Cp; a++) for (let b = a; b < Cp; b++) {
      Kab.fill(0);
      for (let i = 0; i < n; i++) {
        const w = Di[(i * Cp + a) * Cp + b]!;
        if (w === 0) continue;
        for (let c = 0; c < r; c++) {
          const wc = w * X[i * r + c]!;
          if (wc !== 0) for (let d = c; d < r; d++) Kab[c * r + d]! += wc * X[i * r + d]!;
        }
      }
      const rab = 2 * Rinv[a * Cp + b]!;
      for (let c = 0; c < r; c++) for (let d = 0; d < r; d++) {
        const k = c <= d ? Kab[c * r + d]! : Kab[d * r + c]!;
        const v = k + rab * M[c * r + d]! + 2 * N[a * r + d]! * N[b * r + c]!;
        H[(a * r + c) * dim + b * r + d] = v;
        H[(b * r + d) * dim + a * r + c] = v;
      }
    }
    for (let a = 0; a < Cp; a++) for (let c = 0; c < r; c++) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += ei[i * Cp + a]! * X[i * r + c]!;
      H[(a * r + c) * dim + P] = H[P * dim + a * r + c] = -acc;
    }
    H[P * dim + P] = sumInv2;
    return H;
  };

  /** The slack changes ⟨A_j, ΔW⟩ − Δt of a step [P + 1]. */
  const slackChange = (step: Float64Array) => marginsOf(step.subarray(0, P)).map((v) => v - step[P]!);

  /**
   * One damped step along `step` from pt: Armijo backtracking from the full step, over steps that
   * keep every slack and I − W Wᵀ above `keep` times their current value (a relative
   * fraction-to-the-boundary rule). The next point, or null where no step decreases f_τ.
   */
  const lineSearch = (pt: Point, step: Float64Array, decrement2: number): Point | null => {
    const ds = slackChange(step);
    const keepR = ball(pt.W)!.R.map((v) => v * keep);
    const f0 = barrier(pt.W, pt.t, tau);
    for (let alpha = 1, tries = 0; tries < 60; tries++, alpha /= 2) {
      if (!pt.slack.every((s, j) => s + alpha * ds[j]! >= keep * s)) continue;
      const Wn = pt.W.map((v, k) => v + alpha * step[k]!);
      if (!inside(Wn, keepR)) continue;
      const tn = pt.t + alpha * step[P]!;
      if (barrier(Wn, tn, tau) <= f0 - 0.25 * alpha * decrement2) return pointAt(Wn, tn);
    }
    return null;
  };

  // Path following: τ grows by `growth` once the Newton decrement δ = √(gᵀ H⁻¹ g) is below
  // `centered`. The relative fraction-to-the-boundary rule (`keep`) is what stops a step that
  // Armijo alone accepts from jamming W against the ball, after which each Newton step moves it
  // off only slightly; such stretches are still crossed by many short steps, so each factored
  // Hessian also serves up to `chordSteps` chord steps (the new gradient, the old Hessian), far
  // cheaper than refactoring, while they keep decreasing f_τ.
  const growth = 10;
  const keep = 0.3;
  const centered = 0.25;
  const chordSteps = 50;
  let iterations = 0;
  let pt = pointAt(W, t);
  while (iterations < maxIterations) {
    const L = factorPositive(hessianAt(pt), P + 1);
    iterations++;
    let step = choleskySolve(L, P + 1, pt.g).map((v) => -v);
    certify(pt.W, pt.slack, slackChange(step));
    if (relGap(best!) <= tolerance) break;
    let done = false;
    for (let k = 0, fresh = true; k < chordSteps; k++, fresh = false) {
      if (k > 0) step = choleskySolve(L, P + 1, pt.g).map((v) => -v);
      let decrement2 = 0;
      for (let e = 0; e <= P; e++) decrement2 -= pt.g[e]! * step[e]!;
      if (Math.sqrt(Math.max(decrement2, 0)) < centered) {
        tau *= growth;
        pt = pointAt(pt.W, pt.t);
        // ∇²f_τ does not depend on τ: on a fresh factor the next step is still Newton's.
        if (fresh) continue;
        break;
      }
      const next = lineSearch(pt, step, decrement2);
      if (!next) {
        // Rounding: no step decreases f_τ. Done if that happens on a fresh factor.
        done = fresh;
        break;
      }
      pt = next;
    }
    if (done) break;
  }
  const out = best!;
  return { ...out, iterations, converged: relGap(out) <= tolerance };
}

/** W Wᵀ [k, k] of W [k, r]. */
function gram(W: Float64Array, k: number, r: number): Float64Array {
  const S = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = a; b < k; b++) {
    let acc = 0;
    for (let c = 0; c < r; c++) acc += W[a * r + c]! * W[b * r + c]!;
    S[a * k + b] = S[b * k + a] = acc;
  }
  return S;
}

/**
 * The lower Cholesky factor L (row-major, L Lᵀ = A) of a symmetric A [n, n], or null if A is not
 * positive definite. Its own loop over flat rows rather than ml-matrix's CholeskyDecomposition,
 * which took twice as long on the barrier's systems (C'r + 1 of about 900).
 */
export function cholesky(A: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const Li = i * n;
    for (let j = 0; j <= i; j++) {
      const Lj = j * n;
      let acc = A[Li + j]!;
      for (let k = 0; k < j; k++) acc -= L[Li + k]! * L[Lj + k]!;
      if (i === j) {
        if (!(acc > 0)) return null;
        L[Li + i] = Math.sqrt(acc);
      } else L[Li + j] = acc / L[Lj + j]!;
    }
  }
  return L;
}

/** x = (L Lᵀ)⁻¹ b. */
function choleskySolve(L: Float64Array, n: number, b: Float64Array): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    let acc = x[i]!;
    for (let k = 0; k < i; k++) acc -= L[i * n + k]! * x[k]!;
    x[i] = acc / L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let acc = x[i]!;
    for (let k = i + 1; k < n; k++) acc -= L[k * n + i]! * x[k]!;
    x[i] = acc / L[i * n + i]!;
  }
  return x;
}

/** (L Lᵀ)⁻¹ [n, n]. */
function choleskyInverse(L: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let e = 0; e < n; e++) {
    const unit = new Float64Array(n);
    unit[e] = 1;
    out.set(choleskySolve(L, n, unit), e * n);
  }
  return out;
}

/** The Cholesky factor of a symmetric positive (semi-)definite H, a ridge grown until H + ridge·I factors. */
function factorPositive(H: Float64Array, n: number): Float64Array {
  let L = cholesky(H, n);
  if (L) return L;
  let trace = 0;
  for (let k = 0; k < n; k++) trace += H[k * n + k]!;
  let ridge = 1e-14 * (trace / n);
  for (let tries = 0; tries < 30 && !L; tries++, ridge *= 10) {
    const A = Float64Array.from(H);
    for (let k = 0; k < n; k++) A[k * n + k]! += ridge;
    L = cholesky(A, n);
  }
  if (!L) throw new Error('the barrier Newton system does not factor (non-finite entries)');
  return L;
}

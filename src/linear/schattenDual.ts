import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { SymmetricEigenSolver } from '../numerics/eigen.js';
import type { LinearNorm } from './norms.js';
import { combine, marginCount, marginRows, margins, type MarginOperator } from './problem.js';
import type { SolvedMargin } from './highs.js';

/** What the dual Newton solver reports beyond the solution: its iterations, and whether it met the tolerance. */
export interface DualSolve extends SolvedMargin {
  iterations: number;
  converged: boolean;
}

/**
 * docs/science.md §14.4: the Schatten-p max-margin problem (p = ∞: spectral) of a linear
 * classifier, through its smooth dual
 *
 *   minimize F(λ) = ½ ‖G(λ)‖_q² − Σ_j λ_j over λ ≥ 0,  G(λ) = Σ_j λ_j A_j,  1/p + 1/q = 1,
 *
 * the conjugate of min ½‖W‖_p² subject to ⟨A_j, W⟩ ≥ 1. ∂F/∂λ_j = ⟨A_j, W(λ)⟩ − 1 with
 * W(λ) = ∇ ½‖G‖_q², the dual norm's gradient (q = 1: ‖G‖_* times the polar factor of G).
 *
 * The matrices stay tiny: W and G live on the span of the data on the right (the operator's r
 * coordinates) and on the complement of 1 on the left (a margin W_y − W_k x never sees W's
 * component along 1, and removing it lowers a Schatten norm), C' = C − 1 rows (1 for the binary
 * task). Every A_j is then rank one, u_j x_iᵀ, and with K = X Xᵀ, B = Σ λ u xᵀ's row weights and
 * S = G Gᵀ = Bᵀ K B [C', C'] = V diag(s) Vᵀ, all of F, ∇F and ∇²F are sums over C'-vectors: with
 * h(s) = s^{q/2}, φ = tr h(S) = ‖G‖_q^q, ũ = Vᵀ u, g̃ = Vᵀ G x_i and Γ the divided differences of
 * h' on s (the Daleckii–Krein formula),
 *
 *   ∂φ/∂λ_j = 2 Σ_a h'(s_a) ũ_j[a] g̃_j[a],
 *   ∂²φ/∂λ_j∂λ_l = 2 Σ_ab Γ_ab ũ_j[a] g̃_j[b] (ũ_l[a] g̃_l[b] + g̃_l[a] ũ_l[b]) + 2 Σ_a h'(s_a) ũ_j[a] ũ_l[a] K_jl.
 *
 * The method is Bertsekas' projected Newton method for bound constraints: variables at their
 * bound with a positive gradient are held there, a Newton step is taken on the others, and an
 * Armijo search runs along the projected arc. It starts from the ℓ2 problem's multipliers when
 * given (the same problem at q = 2), else from the best multiple of the uniform λ.
 *
 * Every iterate certifies itself (§14.3): α = λ/Σλ gives the upper bound ‖G(α)‖_q ≥ γ*, and
 * W(λ)/‖W(λ)‖_p the lower bound min_j ⟨A_j, W⟩/‖W‖_p ≤ γ*; for the nuclear dual also the
 * recovered primal of `recover` (G's null space), and the best bounds of all iterates are kept. It stops once the relative gap is at most
 * `tolerance`, or after `maxIterations` with the best certificate seen (converged: false). The
 * dual is smooth where G has full row rank C', which the data give in practice; where it does
 * not the gap says so.
 */
export function solveSchattenDual(op: MarginOperator, p: number, norm: LinearNorm, start: Float64Array | null = null, tolerance = 1e-9, maxIterations = 200): DualSolve {
  if (!(p > 1)) throw new Error(`the Schatten dual solver needs p > 1 (∞: spectral), got ${p}`);
  const q = p === Infinity ? 1 : p / (p - 1);
  const { n, r, C } = op;
  const m = marginCount(op);
  const Cp = C === 1 ? 1 : C - 1;
  const left = leftBasis(C); // [C, C']
  // u_j [m, C'] and the sample of each margin.
  const u = new Float64Array(m * Cp);
  const sampleOf = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const { sample, rows } = marginRows(op, j);
    sampleOf[j] = sample;
    for (const [row, coef] of rows) for (let a = 0; a < Cp; a++) u[j * Cp + a]! += coef * left[row * Cp + a]!;
  }
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = i; k < n; k++) {
      let s = 0;
      for (let c = 0; c < r; c++) s += op.X[i * r + c]! * op.X[k * r + c]!;
      K[i * n + k] = s;
      K[k * n + i] = s;
    }
  }
  const eig = new SymmetricEigenSolver(Cp);
  // The nuclear norm (q = 1) is smoothed as tr (S + μI)^{1/2}, μ → 0 over the stages below.
  let mu = 0;
  const h = (s: number) => (q === 2 ? s : (Math.max(s, 0) + mu) ** (q / 2));
  const dh = (s: number) => (q === 2 ? 1 : (q / 2) * (Math.max(s, 0) + mu) ** (q / 2 - 1));
  const ddh = (s: number) => (q === 2 ? 0 : (q / 2) * (q / 2 - 1) * (Math.max(s, 0) + mu) ** (q / 2 - 2));

  /** Everything at λ: the eigen-decomposition of S, g̃ per sample, ũ per margin, φ, F, ∇F. */
  const at = (lambda: Float64Array) => {
    const B = new Float64Array(n * Cp);
    for (let j = 0; j < m; j++) {
      const l = lambda[j]!;
      if (l === 0) continue;
      const i = sampleOf[j]!;
      for (let a = 0; a < Cp; a++) B[i * Cp + a]! += l * u[j * Cp + a]!;
    }
    const KB = new Float64Array(n * Cp); // row i: G x_i
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const kik = K[i * n + k]!;
        if (kik === 0) continue;
        for (let a = 0; a < Cp; a++) KB[i * Cp + a]! += kik * B[k * Cp + a]!;
      }
    }
    const S = new Float64Array(Cp * Cp);
    for (let i = 0; i < n; i++) for (let a = 0; a < Cp; a++) for (let b = 0; b < Cp; b++) S[a * Cp + b]! += B[i * Cp + a]! * KB[i * Cp + b]!;
    for (let a = 0; a < Cp; a++) for (let b = 0; b < a; b++) S[a * Cp + b] = S[b * Cp + a] = (S[a * Cp + b]! + S[b * Cp + a]!) / 2;
    eig.solve(S);
    const s = Float64Array.from(eig.values, (v) => Math.max(v, 0));
    const Vt = Float64Array.from(eig.vectorRows); // row e: eigenvector e
    const phi = s.reduce((acc, v) => acc + h(v), 0);
    const total = lambda.reduce((acc, v) => acc + v, 0);
    const Nq = phi ** (1 / q);
    const F = 0.5 * Nq * Nq - total;
    // Rotated: g̃ [n, C'] and ũ [m, C'].
    const gt = rotate(KB, n, Vt, Cp);
    const ut = rotate(u, m, Vt, Cp);
    const d1 = s.map(dh);
    // ∇φ_j and the margins of W = (1/q) φ^{2/q − 1} ∇_G φ: ⟨A_j, W⟩ = c ∇φ_j.
    const coef = phi > 0 ? (1 / q) * phi ** (2 / q - 1) : 0;
    const dphi = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      const i = sampleOf[j]!;
      let acc = 0;
      for (let a = 0; a < Cp; a++) acc += d1[a]! * ut[j * Cp + a]! * gt[i * Cp + a]!;
      dphi[j] = 2 * acc;
    }
    const grad = dphi.map((v) => coef * v - 1);
    return { B, s, Vt, phi, Nq, F, gt, ut, d1, coef, dphi, grad, total };
  };
  type Point = ReturnType<typeof at>;

  /** G = Bᵀ X [C', r], the dual matrix in the reduced coordinates. */
  const denseG = (pt: Point): Float64Array => {
    const G = new Float64Array(Cp * r);
    for (let i = 0; i < n; i++) for (let a = 0; a < Cp; a++) {
      const b = pt.B[i * Cp + a]!;
      if (b !== 0) for (let c = 0; c < r; c++) G[a * r + c]! += b * op.X[i * r + c]!;
    }
    return G;
  };

  /** W(λ) [C, r] in the operator's coordinates: c · 2 h'(S) G, G = Bᵀ X, lifted by the left basis. */
  const primal = (pt: Point): Float64Array => {
    const G = denseG(pt);
    // M = V diag(2 c h') Vᵀ [C', C'].
    const M = new Float64Array(Cp * Cp);
    for (let e = 0; e < Cp; e++) for (let a = 0; a < Cp; a++) for (let b = 0; b < Cp; b++) M[a * Cp + b]! += pt.Vt[e * Cp + a]! * 2 * pt.coef * pt.d1[e]! * pt.Vt[e * Cp + b]!;
    const W = new Float64Array(C * r);
    for (let row = 0; row < C; row++) for (let a = 0; a < Cp; a++) {
      let la = 0;
      for (let b = 0; b < Cp; b++) la += left[row * Cp + b]! * M[b * Cp + a]!;
      if (la !== 0) for (let c = 0; c < r; c++) W[row * r + c]! += la * G[a * r + c]!;
    }
    return W;
  };

  const certify = (pt: Point, lambda: Float64Array) => {
    const W = primal(pt);
    const nW = norm.norm(W, C, r);
    const lower = Math.min(...margins(op, W)) / nW;
    const upper = norm.dual(combine(op, lambda.map((v) => v / pt.total)), C, r);
    return { K: W.map((v) => v / nW), lower, upper, lambda: lambda.map((v) => v / pt.total) };
  };

  /**
   * The nuclear dual's optimum G* is often rank-deficient, and then W(λ) of a smoothed stage is
   * poor on G's near-null space, where the primal optimum is W* = U_k V_kᵀ + U_⊥ Y P_⊥ with
   * P_⊥ = I − V_k V_kᵀ and ‖Y‖₂ ≤ 1 free. The recovery: for each k, the top k singular pairs of
   * G(λ) and the minimum-Frobenius Y that puts every margin with λ_j > 0 at the upper bound
   * (complementary slackness), by the normal equations. Its certificate is computed as any
   * other (on the W it builds, spectral norm included), so a poor guess only gives a poor bound.
   */
  const recover = (pt: Point, lambda: Float64Array, target: number) => {
    const G = denseG(pt);
    const top = lambda.reduce((acc, v) => Math.max(acc, v), 0);
    const active: number[] = [];
    for (let j = 0; j < m; j++) if (lambda[j]! > 1e-7 * top) active.push(j);
    let out: ReturnType<typeof certify> | null = null;
    // Eigenvalues of S ascend: the top k are the last k rows of Vt.
    for (let k = 1; k <= Cp; k++) {
      const Uk: number[] = [];
      const Vk: Float64Array[] = [];
      for (let e = Cp - k; e < Cp; e++) {
        const sigma = Math.sqrt(pt.s[e]!);
        if (!(sigma > 0)) continue;
        Uk.push(e);
        const v = new Float64Array(r);
        for (let a = 0; a < Cp; a++) {
          const ua = pt.Vt[e * Cp + a]!;
          for (let c = 0; c < r; c++) v[c]! += (ua * G[a * r + c]!) / sigma;
        }
        Vk.push(v);
      }
      const perp = Array.from({ length: Cp - k }, (_, e) => e); // rows of Vt spanning U_⊥
      const Wred = new Float64Array(Cp * r);
      Uk.forEach((e, t) => {
        for (let a = 0; a < Cp; a++) for (let c = 0; c < r; c++) Wred[a * r + c]! += pt.Vt[e * Cp + a]! * Vk[t]![c]!;
      });
      if (perp.length > 0 && active.length > 0) {
        // Feature of margin j: (U_⊥ᵀ u_j) ⊗ (P_⊥ x_i), over (C' − k)·r entries; right side target − c_j.
        const dim = perp.length * r;
        const feats = active.map((j) => {
          const i = sampleOf[j]!;
          const x = op.X.subarray(i * r, (i + 1) * r);
          const px = Float64Array.from(x);
          for (const v of Vk) {
            let dot = 0;
            for (let c = 0; c < r; c++) dot += v[c]! * x[c]!;
            for (let c = 0; c < r; c++) px[c]! -= dot * v[c]!;
          }
          const f = new Float64Array(dim);
          perp.forEach((e, t) => {
            let uu = 0;
            for (let a = 0; a < Cp; a++) uu += pt.Vt[e * Cp + a]! * u[j * Cp + a]!;
            for (let c = 0; c < r; c++) f[t * r + c] = uu * px[c]!;
          });
          return f;
        });
        const base = active.map((j) => {
          const i = sampleOf[j]!;
          let acc = 0;
          for (let a = 0; a < Cp; a++) for (let c = 0; c < r; c++) acc += u[j * Cp + a]! * Wred[a * r + c]! * op.X[i * r + c]!;
          return target - acc;
        });
        const f = active.length;
        const H = new Float64Array(f * f);
        for (let a = 0; a < f; a++) for (let b = a; b < f; b++) {
          let acc = 0;
          for (let e = 0; e < dim; e++) acc += feats[a]![e]! * feats[b]![e]!;
          H[a * f + b] = H[b * f + a] = acc;
        }
        let solved: Float64Array | null = null;
        try {
          solved = newton(H, base);
        } catch {
          solved = null;
        }
        if (solved) {
          const Y = new Float64Array(dim);
          for (let a = 0; a < f; a++) for (let e = 0; e < dim; e++) Y[e]! += solved[a]! * feats[a]![e]!;
          perp.forEach((e, t) => {
            for (let a = 0; a < Cp; a++) for (let c = 0; c < r; c++) Wred[a * r + c]! += pt.Vt[e * Cp + a]! * Y[t * r + c]!;
          });
        }
      }
      const W = new Float64Array(C * r);
      for (let row = 0; row < C; row++) for (let a = 0; a < Cp; a++) {
        const la = left[row * Cp + a]!;
        if (la !== 0) for (let c = 0; c < r; c++) W[row * r + c]! += la * Wred[a * r + c]!;
      }
      const nW = norm.norm(W, C, r);
      if (!(nW > 0)) continue;
      const lower = Math.min(...margins(op, W)) / nW;
      if (out === null || lower > out.lower) out = { K: W.map((v) => v / nW), lower, upper: 0, lambda: new Float64Array(0) };
    }
    return out;
  };

  // The start: the given multipliers (scaled), else uniform; then the best multiple c λ
  // (F(cλ) = ½ c² N² − c Σλ is minimal at c = Σλ / N²).
  let lambda = start ? Float64Array.from(start, (v) => Math.max(v, 0)) : new Float64Array(m).fill(1);
  let pt = at(lambda);
  if (!(pt.Nq > 0)) throw new Error('every margin has the zero gradient: nothing to separate');
  lambda = lambda.map((v) => (v * pt.total) / (pt.Nq * pt.Nq));
  pt = at(lambda);

  let best = certify(pt, lambda);
  const relGap = (c: { lower: number; upper: number }) => (c.upper - c.lower) / c.upper;
  // Stages: one for q > 1; for the nuclear norm μ = 10^-2 … 10^-16 of S's largest eigenvalue.
  const stages = q === 1 ? 15 : 1;
  let iterations = 0;
  for (let stage = 0; stage < stages; stage++) {
    if (q === 1) {
      mu = 0;
      mu = Math.max(...at(lambda).s) * 10 ** (-2 - stage);
    }
    pt = at(lambda);
    for (let it = 1; it <= maxIterations && iterations < maxIterations; it++) {
      iterations++;
      // Bertsekas' ε-active set: at (or near) the bound with a positive gradient.
      let dist = 0;
      let stationarity = 0;
      for (let j = 0; j < m; j++) {
        const moveTo = lambda[j]! - Math.max(lambda[j]! - pt.grad[j]!, 0);
        dist += moveTo ** 2;
        stationarity = Math.max(stationarity, Math.abs(moveTo));
      }
      const eps = Math.min((1e-3 * pt.total) / m, Math.sqrt(dist));
      const free: number[] = [];
      for (let j = 0; j < m; j++) if (!(lambda[j]! <= eps && pt.grad[j]! > 0)) free.push(j);
      const dir = new Float64Array(m);
      const Hdiag = hessianDiagonalScale(pt, K, n);
      for (let j = 0; j < m; j++) dir[j] = -pt.grad[j]! / Hdiag;
      if (free.length > 0) {
        const H = hessianOn(free, pt);
        const step = newton(H, free.map((j) => -pt.grad[j]!));
        free.forEach((j, k) => (dir[j] = step[k]!));
      }
      // Armijo along the projected arc λ(α) = [λ + α d]_+.
      let alpha = 1;
      let moved = false;
      const before = pt.F;
      for (let tries = 0; tries < 50; tries++) {
        const trial = lambda.map((v, j) => Math.max(v + alpha * dir[j]!, 0));
        let decrease = 0;
        for (let j = 0; j < m; j++) decrease += pt.grad[j]! * (trial[j]! - lambda[j]!);
        const next = at(trial);
        if (next.Nq > 0 && next.F <= pt.F + 1e-4 * decrease) {
          lambda = trial;
          pt = next;
          moved = true;
          break;
        }
        alpha /= 2;
      }
      const cert = certify(pt, lambda);
      if (q === 1) {
        // The upper bound is λ's; the lower bound the better of W(λ) and the recovered primal.
        const rec = recover(pt, lambda, cert.upper);
        if (rec && rec.lower > cert.lower) Object.assign(cert, { K: rec.K, lower: rec.lower });
        if (cert.upper < best.upper || cert.lower > best.lower) {
          // Bounds of different iterates combine: the smallest upper and the largest lower.
          const merged = cert.upper < best.upper ? { ...cert } : { ...best };
          if (cert.lower > best.lower) merged.K = cert.K, merged.lower = cert.lower;
          else merged.K = best.K, merged.lower = best.lower;
          best = merged;
        }
      } else if (relGap(cert) < relGap(best)) best = cert;
      if (relGap(best) <= tolerance) return { ...best, iterations, converged: true };
      // No step decreases F; or (a smoothed stage) the stage is solved to rounding: on to the next μ.
      const top = lambda.reduce((a, v) => Math.max(a, v), 0);
      if (!moved || (q === 1 && (stationarity <= 1e-11 * top || before - pt.F <= 1e-15 * Math.abs(pt.F)))) break;
    }
  }
  return { ...best, iterations, converged: relGap(best) <= tolerance };

  /** ∇²F restricted to `free`: (1/q) φ^{2/q−1} ∇²φ + (1/q)(2/q − 1) φ^{2/q−2} ∇φ ∇φᵀ. */
  function hessianOn(free: number[], pt: Point): Float64Array {
    const f = free.length;
    const C2 = Cp * Cp;
    // Divided differences of h' on the eigenvalues.
    const Gam = new Float64Array(C2);
    for (let a = 0; a < Cp; a++) for (let b = 0; b < Cp; b++) {
      const sa = pt.s[a]!;
      const sb = pt.s[b]!;
      Gam[a * Cp + b] = Math.abs(sa - sb) > 1e-8 * Math.max(sa, sb) ? (pt.d1[a]! - pt.d1[b]!) / (sa - sb) : ddh((sa + sb) / 2);
    }
    const P = new Float64Array(f * C2);
    const PT = new Float64Array(f * C2);
    for (let k = 0; k < f; k++) {
      const j = free[k]!;
      const i = sampleOf[j]!;
      for (let a = 0; a < Cp; a++) for (let b = 0; b < Cp; b++) {
        P[k * C2 + a * Cp + b] = pt.ut[j * Cp + a]! * pt.gt[i * Cp + b]!;
        PT[k * C2 + a * Cp + b] = pt.gt[i * Cp + a]! * pt.ut[j * Cp + b]!;
      }
    }
    const c1 = pt.coef; // (1/q) φ^{2/q − 1}
    const c2 = (1 / q) * (2 / q - 1) * pt.phi ** (2 / q - 2);
    const H = new Float64Array(f * f);
    const z = new Float64Array(C2);
    for (let k = 0; k < f; k++) {
      for (let e = 0; e < C2; e++) z[e] = P[k * C2 + e]! * Gam[e]!;
      const jk = free[k]!;
      const ik = sampleOf[jk]!;
      for (let l = k; l < f; l++) {
        const jl = free[l]!;
        let t1 = 0;
        if (q !== 2) for (let e = 0; e < C2; e++) t1 += z[e]! * (P[l * C2 + e]! + PT[l * C2 + e]!);
        let t2 = 0;
        const kk = K[ik * n + sampleOf[jl]!]!;
        if (kk !== 0) for (let a = 0; a < Cp; a++) t2 += pt.d1[a]! * pt.ut[jk * Cp + a]! * pt.ut[jl * Cp + a]!;
        const v = c1 * (2 * t1 + 2 * t2 * kk) + c2 * pt.dphi[jk]! * pt.dphi[jl]!;
        H[k * f + l] = v;
        H[l * f + k] = v;
      }
    }
    return H;
  }
}

/** A scale for the gradient step of the held variables: the mean diagonal of ∇²F's ℓ2 part. */
function hessianDiagonalScale(pt: { coef: number; d1: Float64Array }, K: Float64Array, n: number): number {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += K[i * n + i]!;
  const mean = pt.d1.reduce((a, v) => a + v, 0) / pt.d1.length;
  return Math.max(2 * pt.coef * mean * (trace / n), 1e-300);
}

/** x = H⁻¹ b by Cholesky (ml-matrix), with a ridge grown until H + ridge·I factors. */
function newton(H: Float64Array, b: number[]): Float64Array {
  const f = b.length;
  let trace = 0;
  for (let k = 0; k < f; k++) trace += H[k * f + k]!;
  let ridge = 1e-12 * (trace / f);
  for (let tries = 0; tries < 30; tries++) {
    const M = new Matrix(f, f);
    for (let k = 0; k < f; k++) for (let l = 0; l < f; l++) M.set(k, l, H[k * f + l]! + (k === l ? ridge : 0));
    const chol = new CholeskyDecomposition(M);
    if (chol.isPositiveDefinite()) return Float64Array.from(chol.solve(Matrix.columnVector(b)).getColumn(0));
    ridge *= 100;
  }
  throw new Error('the dual Newton system does not factor (non-finite entries)');
}

/** Rows of Y [rows, C'] in the eigenbasis: Y Vᵀᵀ, i.e. row · V. */
function rotate(Y: Float64Array, rows: number, Vt: Float64Array, Cp: number): Float64Array {
  const out = new Float64Array(rows * Cp);
  for (let i = 0; i < rows; i++) for (let e = 0; e < Cp; e++) {
    let acc = 0;
    for (let a = 0; a < Cp; a++) acc += Y[i * Cp + a]! * Vt[e * Cp + a]!;
    out[i * Cp + e] = acc;
  }
  return out;
}

/**
 * An orthonormal basis [C, C'] of the vectors orthogonal to 1 (the Helmert basis), C' = C − 1; for
 * the binary task (C = 1) the single row [1].
 */
export function leftBasis(C: number): Float64Array {
  if (C === 1) return Float64Array.of(1);
  const Cp = C - 1;
  const P = new Float64Array(C * Cp);
  for (let a = 0; a < Cp; a++) {
    // Column a: (1, …, 1, −(a+1), 0, …) / √((a+1)(a+2)) over the first a + 2 entries.
    const scale = 1 / Math.sqrt((a + 1) * (a + 2));
    for (let row = 0; row <= a; row++) P[row * Cp + a] = scale;
    P[(a + 1) * Cp + a] = -(a + 1) * scale;
  }
  return P;
}

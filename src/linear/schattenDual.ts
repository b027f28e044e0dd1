import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { SymmetricEigenSolver } from '../numerics/eigen.js';
import type { LinearNorm } from './norms.js';
import { combine, marginCount, margins, type MarginOperator } from './problem.js';
import type { SolvedMargin } from './highs.js';
import { marginsInClassBasis } from './classBasis.js';
import { solveSpectralBarrier } from './spectralBarrier.js';

/** What the iterative solvers (the dual Newton method, the spectral barrier) report beyond the solution: their iterations, and whether they met the tolerance. */
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
 * W(λ)/‖W(λ)‖_p the lower bound min_j ⟨A_j, W⟩/‖W‖_p ≤ γ*; the best certificate seen is kept. It
 * stops once the relative gap is at most `tolerance`, or after `maxIterations` with the best
 * certificate seen (converged: false).
 *
 * p = ∞ (spectral, q = 1) is not smooth: the nuclear norm's optimum G* is typically of low rank
 * (on MNIST digits, rank one), where ‖G‖_* has no gradient, so spectral is handed to the primal
 * barrier method of src/linear/spectralBarrier.ts, started from the same λ.
 */
export function solveSchattenDual(op: MarginOperator, p: number, norm: LinearNorm, start: Float64Array | null = null, tolerance = 1e-9, maxIterations = 200): DualSolve {
  if (!(p > 1)) throw new Error(`the Schatten dual solver needs p > 1 (∞: spectral), got ${p}`);
  if (p === Infinity) return solveSpectralBarrier(op, norm, start, tolerance, maxIterations);
  const q = p / (p - 1);
  const { n, r, C } = op;
  const m = marginCount(op);
  // u_j [m, C'] and the sample of each margin.
  const { Cp, left, u, sampleOf } = marginsInClassBasis(op);
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
  const h = (s: number) => (q === 2 ? s : Math.max(s, 0) ** (q / 2));
  const dh = (s: number) => (q === 2 ? 1 : (q / 2) * Math.max(s, 0) ** (q / 2 - 1));
  const ddh = (s: number) => (q === 2 ? 0 : (q / 2) * (q / 2 - 1) * Math.max(s, 0) ** (q / 2 - 2));

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

  // The start: the given multipliers (scaled), else uniform; then the best multiple c λ
  // (F(cλ) = ½ c² N² − c Σλ is minimal at c = Σλ / N²).
  let lambda = start ? Float64Array.from(start, (v) => Math.max(v, 0)) : new Float64Array(m).fill(1);
  let pt = at(lambda);
  if (!(pt.Nq > 0)) throw new Error('every margin has the zero gradient: nothing to separate');
  lambda = lambda.map((v) => (v * pt.total) / (pt.Nq * pt.Nq));
  pt = at(lambda);

  let best = certify(pt, lambda);
  const relGap = (c: { lower: number; upper: number }) => (c.upper - c.lower) / c.upper;
  let iterations = 0;
  while (iterations < maxIterations) {
    iterations++;
    // Bertsekas' ε-active set: at (or near) the bound with a positive gradient.
    let dist = 0;
    for (let j = 0; j < m; j++) dist += (lambda[j]! - Math.max(lambda[j]! - pt.grad[j]!, 0)) ** 2;
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
    if (relGap(cert) < relGap(best)) best = cert;
    if (relGap(best) <= tolerance) return { ...best, iterations, converged: true };
    // No step decreases F: rounding.
    if (!moved) break;
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

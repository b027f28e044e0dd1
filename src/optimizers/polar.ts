import { gramOfRows, matmul, symmetricEigen, thinSvd, transpose } from '../numerics/linalg.js';

/**
 * SPEC §6: the polar factor U Vᵀ of a matrix M = U Σ Vᵀ, the update direction of spectral descent
 * and Muon. Singular values below POLAR_RANK_CUTOFF · σ_max are dropped (their directions get no
 * step), so a rank-deficient M gives a partial isometry.
 */
export const POLAR_RANK_CUTOFF = 1e-10;

/**
 * The exact route used on every step is the Gram one: for M [r, c] with r ≤ c,
 * U Vᵀ = (M Mᵀ)^{−1/2} M, from an r × r symmetric eigendecomposition, about 3 r² c flops.
 * Forming M Mᵀ squares the condition number, so it is trusted only while every eigenvalue is at
 * least GRAM_TRUSTED_RATIO · λ_max (singular values within 10^-3 of σ_max, where the result is
 * accurate to ~1e-10). Otherwise the step falls back to a full SVD of M, which is slower but
 * resolves every singular value down to the cutoff. Exactly-zero rows (hidden units that never
 * received gradient) are removed first: they are rank deficiency we know about, not noise.
 */
const GRAM_TRUSTED_RATIO = 1e-6;

export type PolarRoute = 'gram' | 'svd' | 'zero';

/** SPEC §6: exact polar factor of M [r, c] (row-major); reports which route computed it. */
export function polarFactorExact(M: Float64Array, r: number, c: number): { Q: Float64Array; route: PolarRoute } {
  if (r > c) {
    const { Q, route } = polarFactorExact(transpose(M, r, c), c, r);
    return { Q: transpose(Q, c, r), route };
  }
  // Exactly-zero rows and columns stay zero in U Vᵀ; dropping them first makes the Gram route
  // cheaper (pixels that are black in every image give zero columns of W_1's momentum) and keeps
  // known rank deficiency out of the conditioning test below.
  const rows: number[] = [];
  const colLive = new Uint8Array(c);
  for (let i = 0; i < r; i++) {
    let any = false;
    for (let j = 0; j < c; j++) {
      if (M[i * c + j] !== 0) {
        any = true;
        colLive[j] = 1;
      }
    }
    if (any) rows.push(i);
  }
  const cols: number[] = [];
  for (let j = 0; j < c; j++) if (colLive[j]) cols.push(j);
  const Q = new Float64Array(r * c);
  if (rows.length === 0) return { Q, route: 'zero' };
  const k = rows.length;
  const n = cols.length;
  const sub = k === r && n === c ? M : gather(M, c, rows, cols);

  const { values, vectors } = symmetricEigen(gramOfRows(sub, k, n), k);
  let lambdaMax = 0;
  let lambdaMin = Infinity;
  for (const v of values) {
    lambdaMax = Math.max(lambdaMax, v);
    lambdaMin = Math.min(lambdaMin, v);
  }
  const trusted = lambdaMin >= GRAM_TRUSTED_RATIO * lambdaMax;
  const QSub = trusted ? polarFromGram(sub, k, n, values, vectors) : polarFromSvd(sub, k, n);
  for (let a = 0; a < k; a++) {
    const dst = rows[a]! * c;
    for (let b = 0; b < n; b++) Q[dst + cols[b]!] = QSub[a * n + b]!;
  }
  return { Q, route: trusted ? 'gram' : 'svd' };
}

/** The [rows, cols] submatrix of M [·, c]. */
function gather(M: Float64Array, c: number, rows: number[], cols: number[]): Float64Array {
  const n = cols.length;
  const out = new Float64Array(rows.length * n);
  rows.forEach((i, a) => {
    for (let b = 0; b < n; b++) out[a * n + b] = M[i * c + cols[b]!]!;
  });
  return out;
}

/** (M Mᵀ)^{−1/2} M with M Mᵀ = V diag(λ) Vᵀ; all λ are well above the cutoff here. */
function polarFromGram(M: Float64Array, k: number, c: number, lambda: Float64Array, V: Float64Array): Float64Array {
  // P = V diag(λ^{-1/2}) Vᵀ  [k, k]
  const P = new Float64Array(k * k);
  for (let e = 0; e < k; e++) {
    const w = 1 / Math.sqrt(lambda[e]!);
    for (let a = 0; a < k; a++) {
      const va = V[a * k + e]! * w;
      for (let b = 0; b < k; b++) P[a * k + b]! += va * V[b * k + e]!;
    }
  }
  return matmul(P, M, k, k, c);
}

/** U Vᵀ over the singular values above the cutoff, from a full SVD. */
function polarFromSvd(M: Float64Array, r: number, c: number): Float64Array {
  const { U, s, V, k } = thinSvd(M, r, c);
  const sMax = Math.max(...s);
  const Q = new Float64Array(r * c);
  for (let e = 0; e < k; e++) {
    if (!(s[e]! > POLAR_RANK_CUTOFF * sMax)) continue;
    for (let i = 0; i < r; i++) {
      const u = U[i * k + e]!;
      if (u === 0) continue;
      for (let j = 0; j < c; j++) Q[i * c + j]! += u * V[j * k + e]!;
    }
  }
  return Q;
}

/** Muon's quintic Newton–Schulz coefficients (Keller Jordan's Muon, `zeropower_via_newtonschulz5`). */
const NS_A = 3.4445;
const NS_B = -4.775;
const NS_C = 2.0315;
const NS_STEPS = 5;

/**
 * SPEC §6: Muon's usual approximation of the polar factor: 5 steps of the quintic
 * X ← a X + (b A + c A²) X, A = X Xᵀ, from X = M / ‖M‖_F. It does NOT produce U Vᵀ: the
 * coefficients trade convergence for speed, and singular values land roughly in [0.7, 1.2]; it is
 * also known to stall short of the spectral max-margin. An option, never the default.
 */
export function polarFactorNewtonSchulz(M: Float64Array, r: number, c: number): Float64Array {
  if (r > c) return transpose(polarFactorNewtonSchulz(transpose(M, r, c), c, r), c, r);
  let fro = 0;
  for (let i = 0; i < M.length; i++) fro += M[i]! * M[i]!;
  fro = Math.sqrt(fro);
  let X = new Float64Array(M.length);
  if (fro === 0) return X;
  for (let i = 0; i < M.length; i++) X[i] = M[i]! / fro;
  for (let step = 0; step < NS_STEPS; step++) {
    const A = gramOfRows(X, r, c); // [r, r]
    const B = new Float64Array(r * r); // b A + c A²
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let a2 = 0;
        for (let l = 0; l < r; l++) a2 += A[i * r + l]! * A[l * r + j]!;
        B[i * r + j] = NS_B * A[i * r + j]! + NS_C * a2;
      }
    }
    const next = new Float64Array(r * c);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) next[i * c + j] = NS_A * X[i * c + j]!;
      for (let l = 0; l < r; l++) {
        const b = B[i * r + l]!;
        for (let j = 0; j < c; j++) next[i * c + j]! += b * X[l * c + j]!;
      }
    }
    X = next;
  }
  return X;
}

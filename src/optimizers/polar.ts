import { gramOfRows, leftSingular, symmetricEigen, transpose } from '../numerics/linalg.js';
import { KernelArena, scratchArena } from '../numerics/wasm/kernels.js';

/**
 * SPEC §6: the polar factor U Vᵀ of a matrix M = U Σ Vᵀ, the update direction of spectral descent
 * and Muon. Singular values below POLAR_RANK_CUTOFF · σ_max are dropped (their directions get no
 * step), so a rank-deficient M gives a partial isometry.
 */
export const POLAR_RANK_CUTOFF = 1e-10;

/**
 * The route used on every step is the Gram one: for M [r, c] with r ≤ c,
 * U Vᵀ = (M Mᵀ)^{−1/2} M, from an r × r symmetric eigendecomposition, about 3 r² c flops against
 * ~4× that for an SVD. Forming M Mᵀ squares the condition number: its eigenvalues carry an
 * absolute rounding error of about r · ε · λ_max, so a singular value below ~3e-7 σ_max cannot be
 * told from zero there. The momentum matrices of these networks are rank deficient in exactly that
 * way (the output layer's rows sum to zero because softmax gradients do; hidden layers lose a
 * direction later in training): their spectra show a clean gap, singular values ≥ 1e-4 σ_max and
 * then one at 1e-16 (measured on the SPEC §9 runs). So the Gram route
 *   - keeps eigenvalues ≥ GRAM_TRUSTED · λ_max (σ ≥ 1e-5 σ_max), where it is accurate,
 *   - treats eigenvalues ≤ GRAM_NOISE · λ_max (σ ≤ 3e-7 σ_max) as exact zeros,
 * and hands anything in between to a full SVD, which resolves singular values down to the SPEC
 * cutoff. The one thing it does NOT do: a true singular value between 1e-10 and 3e-7 σ_max that
 * sits in the noise band is dropped instead of stepped on. `polar: svd` always takes the SVD.
 */
const GRAM_TRUSTED = 1e-10;
const GRAM_NOISE = 1e-13;

export type PolarRoute = 'gram' | 'svd' | 'zero';

/**
 * SPEC §6: exact polar factor of M [r, c] (row-major); reports which route computed it.
 * method 'gram' tries the Gram route first (see above); 'svd' always factors M itself.
 */
export function polarFactorExact(
  M: Float64Array,
  r: number,
  c: number,
  method: 'gram' | 'svd' = 'gram',
): { Q: Float64Array; route: PolarRoute } {
  if (r > c) {
    const { Q, route } = polarFactorExact(transpose(M, r, c), c, r, method);
    return { Q: transpose(Q, c, r), route };
  }
  // Exactly-zero rows and columns stay zero in U Vᵀ; dropping them first makes the Gram route
  // cheaper (pixels that are black in every image give zero columns of W_1's momentum) and keeps
  // known rank deficiency out of the conditioning test below.
  const rows: number[] = [];
  const colLive = new Uint8Array(c);
  let maxAbs = 0;
  for (let i = 0; i < r; i++) {
    let any = false;
    for (let j = 0; j < c; j++) {
      const v = M[i * c + j]!;
      if (v !== 0) {
        any = true;
        colLive[j] = 1;
        maxAbs = Math.max(maxAbs, Math.abs(v));
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
  // Every matrix of the computation lives in one kernel arena, so the products read their
  // operands where they were written (no copies in and out).
  const arena = scratchArena(KernelArena.bytesFor([k * n, n * k, k * k, k * k, k * n], [n]));
  const sub = arena.f64(k * n); // [k, n]
  const subT = arena.f64(n * k); // [n, k]
  const gram = arena.f64(k * k);
  const P = arena.f64(k * k);
  const QSub = arena.f64(k * n);
  const iota = arena.i32(n);
  for (let j = 0; j < n; j++) iota.view[j] = j;
  // U Vᵀ does not depend on M's scale; max|entry| = 1 keeps the squares in the Gram matrix (and
  // σ² below) clear of overflow and underflow for a matrix of any size.
  gatherScaled(M, c, rows, cols, 1 / maxAbs, sub.view, subT.view);

  let route: PolarRoute = 'svd';
  let spectrum: { values: Float64Array; vectors: Float64Array; keepFrom: number } | null = null;
  if (method === 'gram') {
    arena.rowCombine(gram, k, subT, sub, iota, null, k, n); // sub subᵀ
    const { values, vectors } = symmetricEigen(gram.view, k);
    const lambdaMax = Math.max(...values);
    if (values.every((v) => v >= GRAM_TRUSTED * lambdaMax || v <= GRAM_NOISE * lambdaMax)) {
      spectrum = { values, vectors, keepFrom: GRAM_TRUSTED * lambdaMax };
      route = 'gram';
    }
  }
  spectrum ??= svdSpectrum(sub.view, k, n);
  // (sub subᵀ)^{−1/2} sub over the kept eigenvalues: P = Σ_kept v_e v_eᵀ / √λ_e [k, k], then P · sub.
  inverseRootInto(spectrum.values, spectrum.vectors, spectrum.keepFrom, k, P.view);
  arena.rowCombine(QSub, n, sub, P, iota, null, k, k);
  const q = QSub.view;
  for (let a = 0; a < k; a++) {
    const dst = rows[a]! * c;
    for (let b = 0; b < n; b++) Q[dst + cols[b]!] = q[a * n + b]!;
  }
  return { Q, route };
}

/** sub = the [rows, cols] submatrix of M [·, c] times `scale`, and its transpose subT. */
function gatherScaled(M: Float64Array, c: number, rows: number[], cols: number[], scale: number, sub: Float64Array, subT: Float64Array): void {
  const k = rows.length;
  const n = cols.length;
  for (let a = 0; a < k; a++) {
    const src = rows[a]! * c;
    for (let b = 0; b < n; b++) {
      const v = M[src + cols[b]!]! * scale;
      sub[a * n + b] = v;
      subT[b * k + a] = v;
    }
  }
}

/** P = Σ_{e: λ_e ≥ keepFrom} v_e v_eᵀ / √λ_e, with V's columns the eigenvectors. P: [k, k], overwritten. */
function inverseRootInto(lambda: Float64Array, V: Float64Array, keepFrom: number, k: number, P: Float64Array): void {
  P.fill(0);
  for (let e = 0; e < k; e++) {
    if (!(lambda[e]! >= keepFrom)) continue;
    const w = 1 / Math.sqrt(lambda[e]!);
    for (let a = 0; a < k; a++) {
      const va = V[a * k + e]! * w;
      for (let b = 0; b < k; b++) P[a * k + b]! += va * V[b * k + e]!;
    }
  }
}

/**
 * The SVD route: M's singular values and left singular vectors from a backward-stable SVD of Mᵀ
 * (its n × k factor is never formed), then U Vᵀ = Σ_kept u_e u_eᵀ M / σ_e. Each σ_e and u_e is
 * accurate to ε σ_max in absolute terms, so a kept direction with σ_e ≥ 1e-10 σ_max carries a
 * relative error of at most ~ε σ_max/σ_e ≤ 1e-6, and the dropped ones are exactly those below the
 * SPEC cutoff. Returned as the spectrum of M Mᵀ (λ = σ², eigenvectors u_e) for inverseRootInto.
 */
function svdSpectrum(M: Float64Array, k: number, c: number): { values: Float64Array; vectors: Float64Array; keepFrom: number } {
  const { s, U } = leftSingular(M, k, c);
  const sMax = Math.max(...s);
  return { values: s.map((v) => v * v), vectors: U, keepFrom: (POLAR_RANK_CUTOFF * sMax) ** 2 * (1 + 1e-12) };
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

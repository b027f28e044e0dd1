import { f64s, KernelArena } from './wasm/kernels.js';

/**
 * The row space of the fixed input X [n, d], where every first-layer gradient lives.
 *
 * In full-batch training ∂W_1 = ∂Z_1ᵀ X, so each row of ∂W_1 is a combination of X's rows. Let
 * Xᵀ = Q R be a thin QR factorization of the live pixels (those non-zero in some sample): Q [d, r]
 * with orthonormal columns (zero on the other pixels), R [r, n] upper triangular, r = n. Then
 * X = Rᵀ Qᵀ, and for W_1 = W_1(0) + C Qᵀ
 *
 *   X W_1ᵀ = X W_1(0)ᵀ + Rᵀ Cᵀ,   ∂C = ∂W_1 Q = ∂Z_1ᵀ Rᵀ,   ‖∂W_1‖_F = ‖∂C‖_F,
 *   polar(M Qᵀ) = polar(M) Qᵀ.
 *
 * So an optimizer whose step of W_1 is a linear or polar function of W_1's momentum keeps W_1 in
 * W_1(0) + span(Qᵀ) for ever, and it may train the coordinates K = W_1 Q [m, r] on the data Rᵀ
 * instead: X W_1ᵀ = Rᵀ Kᵀ (X (I − Q Qᵀ) = 0), and W_1 = W_1(0) + (K − K(0)) Qᵀ. That is exact in
 * exact arithmetic; only rounding differs. It pays where Rᵀ, a triangle of n(n + 1)/2 entries, is
 * smaller than X's non-zero pixels (100 digits: 5,050 entries against ~15,500).
 */
export interface DataSpan {
  n: number;
  d: number;
  /** r = n: the span's dimension (X's rank where X has full row rank; X's rows may be dependent). */
  r: number;
  /** Qᵀ [r, d] row-major: row j is the j-th orthonormal basis vector of X's row space, 0 on dead pixels. */
  QT: Float64Array;
  /** X Q = Rᵀ [n, r] row-major, lower triangular (exact zeros above the diagonal): the data the span coordinates see. */
  XQ: Float64Array;
  /** The pixels non-zero in some sample, ascending: the columns where Qᵀ can be non-zero. */
  livePixels: Int32Array;
}

/**
 * X's row space by a Householder QR of its live pixels' columns (backward stable: Q is orthonormal
 * to rounding whatever X's conditioning), or null where it would not pay: X has at least as many
 * samples as live pixels, or the triangle Rᵀ has more entries than X has non-zero ones. R comes
 * from the kernel (KernelArena.householderR), Q from its reflectors, applied to the unit vectors
 * from the last reflector back (as LINPACK and ml-matrix form it).
 */
export function dataSpan(X: Float64Array, n: number, d: number): DataSpan | null {
  if (X.length !== n * d) throw new Error(`dataSpan: X holds ${X.length} entries, expected ${n} × ${d}`);
  let nonZero = 0;
  const live: number[] = [];
  for (let j = 0; j < d; j++) {
    let count = 0;
    for (let i = 0; i < n; i++) if (X[i * d + j] !== 0) count++;
    if (count > 0) live.push(j);
    nonZero += count;
  }
  const r = n;
  if (n === 0 || r >= live.length || (r * (r + 1)) / 2 > nonZero) return null;
  // B = Xᵀ over the live pixels [p, n], p > n: tall, as the QR wants it, given by its columns
  // (column i is sample i's live pixels).
  const p = live.length;
  const { arena, blocks } = KernelArena.create({ cols: f64s(n * p), rdiag: f64s(n) });
  const V = blocks.cols.view; // [n, p]: column k of B, then the k-th reflector v_k (entries k … p − 1)
  for (let i = 0; i < n; i++) live.forEach((j, a) => (V[i * p + a] = X[i * d + j]!));
  arena.householderR(blocks.cols, p, n, blocks.rdiag);
  const XQ = new Float64Array(n * r); // Rᵀ
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) XQ[i * r + k] = V[i * p + k]!; // R[k, i], above the diagonal
    XQ[i * r + i] = blocks.rdiag.view[i]!;
  }
  // Q = H_0 H_1 … H_{n−1} [I; 0], column by column, with H_k = I − v_k v_kᵀ / v_k[k] (0 where v_k[k] = 0).
  const Q = new Float64Array(r * p); // [r, p]: column k of Q as row k
  for (let k = n - 1; k >= 0; k--) {
    Q[k * p + k] = 1;
    const vkk = V[k * p + k]!;
    if (vkk === 0) continue;
    for (let j = k; j < n; j++) {
      let s = 0;
      for (let a = k; a < p; a++) s += V[k * p + a]! * Q[j * p + a]!;
      s = -s / vkk;
      for (let a = k; a < p; a++) Q[j * p + a]! += s * V[k * p + a]!;
    }
  }
  const QT = new Float64Array(r * d);
  for (let k = 0; k < r; k++) live.forEach((j, a) => (QT[k * d + j] = Q[k * p + a]!));
  return { n, d, r, QT, XQ, livePixels: Int32Array.from(live) };
}

import { EigenvalueDecomposition, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { denseProduct } from './wasm/kernels.js';

/**
 * Small dense linear algebra on row-major Float64Arrays. Decompositions come from ml-matrix
 * (symmetric tridiagonal QL for eigen, Golub–Kahan for SVD); this file moves data in and out
 * and forms the products, which are the hot part (in WebAssembly, src/numerics/wasm/).
 */

/**
 * Gram matrix of the rows, A Aᵀ. A: [r, c] row-major → [r, r], in the WebAssembly kernel. Exactly
 * symmetric: entries (a, b) and (b, a) add the same products in the same order.
 */
export function gramOfRows(A: Float64Array, r: number, c: number): Float64Array {
  return denseProduct(A, transpose(A, r, c), r, c, r, true);
}

/** P B for P: [r, k], B: [k, c] → [r, c], in the WebAssembly kernel. */
export function matmul(P: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  return denseProduct(P, B, r, k, c);
}

/** Transpose of a row-major [r, c] matrix → [c, r]. */
export function transpose(A: Float64Array, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

export function toMatrix(A: Float64Array, r: number, c: number): Matrix {
  const M = new Matrix(r, c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) M.set(i, j, A[i * c + j]!);
  return M;
}

export function fromMatrix(M: Matrix): Float64Array {
  const r = M.rows;
  const c = M.columns;
  const A = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) A[i * c + j] = M.get(i, j);
  return A;
}

/** Eigen-decomposition of a symmetric [k, k] matrix: eigenvalues and eigenvectors as columns of V. */
export function symmetricEigen(S: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const evd = new EigenvalueDecomposition(toMatrix(S, k, k), { assumeSymmetric: true });
  return { values: Float64Array.from(evd.realEigenvalues), vectors: fromMatrix(evd.eigenvectorMatrix) };
}

/** Thin SVD A = U diag(s) Vᵀ of a row-major [r, c] matrix (any shape). U: [r, k], V: [c, k], k = min(r, c). */
export function thinSvd(A: Float64Array, r: number, c: number): { U: Float64Array; s: Float64Array; V: Float64Array; k: number } {
  const tall = r >= c;
  // ml-matrix's Golub–Kahan wants rows ≥ columns; factor Aᵀ instead and swap U and V.
  const M = tall ? toMatrix(A, r, c) : toMatrix(transpose(A, r, c), c, r);
  const svd = new SingularValueDecomposition(M, { autoTranspose: false });
  const left = fromMatrix(svd.leftSingularVectors);
  const right = fromMatrix(svd.rightSingularVectors);
  const k = Math.min(r, c);
  const s = Float64Array.from(svd.diagonal.slice(0, k));
  const U = tall ? takeColumns(left, r, svd.leftSingularVectors.columns, k) : takeColumns(right, r, svd.rightSingularVectors.columns, k);
  const V = tall ? takeColumns(right, c, svd.rightSingularVectors.columns, k) : takeColumns(left, c, svd.leftSingularVectors.columns, k);
  return { U, s, V, k };
}

/**
 * Singular values and left singular vectors of a wide M [k, n] (k ≤ n): the SVD of the tall Mᵀ
 * without its n × k factor, which is most of an SVD's cost (10.7 vs 28 ms for 522 × 50 here),
 * taken on the triangular factor of Mᵀ when that is smaller (squareFactor: 8.6 vs 11.9 ms).
 * U: [k, k], columns in the order of s.
 */
export function leftSingular(M: Float64Array, k: number, n: number): { s: Float64Array; U: Float64Array } {
  const svd = new SingularValueDecomposition(squareFactor(toMatrix(transpose(M, k, n), n, k)), {
    autoTranspose: false,
    computeLeftSingularVectors: false,
  });
  return { s: Float64Array.from(svd.diagonal.slice(0, k)), U: fromMatrix(svd.rightSingularVectors) };
}

function takeColumns(A: Float64Array, rows: number, cols: number, k: number): Float64Array {
  if (cols === k) return A;
  const out = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = A[i * cols + j]!;
  return out;
}

/**
 * Largest singular value σ_max(A), exact to float64: √ of the top eigenvalue of the smaller Gram
 * matrix. The top eigenvalue of a Gram matrix is perfectly conditioned (relative error ~ machine
 * epsilon), unlike the small ones, so squaring costs nothing here. A is scaled by its largest
 * entry first, so weights of any size (a diverging run reaches 1e200) neither overflow nor
 * underflow when squared.
 */
export function spectralNormOf(A: Float64Array, r: number, c: number): number {
  let scale = 0;
  for (let k = 0; k < A.length; k++) scale = Math.max(scale, Math.abs(A[k]!));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  const B = A.map((v) => v / scale);
  const G = r <= c ? gramOfRows(B, r, c) : gramOfRows(transpose(B, r, c), c, r);
  const k = Math.min(r, c);
  const { values } = symmetricEigen(G, k);
  let top = 0;
  for (const v of values) if (v > top) top = v;
  return scale * Math.sqrt(top);
}

/**
 * Nuclear norm ‖A‖_* = Σ σ_i, from the SVD (small singular values matter here, so no Gram).
 * Two reductions that leave the singular values as they are come first: exactly-zero rows and
 * columns are dropped (W_1's columns of pixels that are black in every image), and a remainder
 * at least twice as tall as wide is replaced by its triangular factor (squareFactor), so the SVD
 * works on a q × q matrix.
 */
export function nuclearNormOf(A: Float64Array, r: number, c: number): number {
  const { B, p, q } = nonZeroPartTall(A, r, c);
  if (q === 0) return 0;
  const svd = new SingularValueDecomposition(squareFactor(toMatrix(B, p, q)), {
    autoTranspose: false,
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
  });
  let sum = 0;
  for (const v of svd.diagonal) sum += v;
  return sum;
}

/**
 * A tall M [p, q] at least twice as tall as wide, replaced by the triangular factor R [q, q] of its
 * Householder QR (M = Q R, Q with orthonormal columns): R has M's singular values and right
 * singular vectors, and the reduction is backward stable like the SVD that follows, so that SVD
 * keeps its accuracy (ε σ_max in absolute terms) at a fraction of the cost. Other shapes pass
 * through.
 */
function squareFactor(M: Matrix): Matrix {
  return M.rows >= 2 * M.columns ? new QrDecomposition(M).upperTriangularMatrix : M;
}

/** A [r, c] without its all-zero rows and columns, transposed if need be so that it is tall: B [p, q], p ≥ q. */
function nonZeroPartTall(A: Float64Array, r: number, c: number): { B: Float64Array; p: number; q: number } {
  const rowLive = new Uint8Array(r);
  const colLive = new Uint8Array(c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      if (A[i * c + j] !== 0) {
        rowLive[i] = 1;
        colLive[j] = 1;
      }
    }
  }
  const rows = [...rowLive.keys()].filter((i) => rowLive[i]);
  const cols = [...colLive.keys()].filter((j) => colLive[j]);
  const tall = rows.length >= cols.length;
  const [p, q] = tall ? [rows.length, cols.length] : [cols.length, rows.length];
  const B = new Float64Array(p * q);
  rows.forEach((i, a) =>
    cols.forEach((j, b) => {
      B[tall ? a * q + b : b * q + a] = A[i * c + j]!;
    }),
  );
  return { B, p, q };
}

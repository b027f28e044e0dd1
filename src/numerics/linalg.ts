import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { f64s, i32s, KernelArena, type Blocks, type F64Block, type I32Block } from './wasm/kernels.js';

/**
 * Small dense linear algebra on row-major Float64Arrays. The symmetric eigendecomposition is our
 * own (eigen.ts, tridiagonal QL, in the kernel), so is the QR's triangular factor (Householder, in
 * the kernel); the SVD comes from ml-matrix (Golub–Kahan); this file moves data in and out
 * and forms the products, which are the hot part (in WebAssembly, src/numerics/wasm/, in an arena
 * owned by the caller: a GramWorkspace here, a PolarWorkspace in the optimizer).
 */

/** The largest shorter side, longer side and entry count among some matrix shapes: what a workspace is sized for. */
export interface ShapeBounds {
  short: number;
  long: number;
  area: number;
}

export function shapeBounds(shapes: readonly { out: number; in: number }[]): ShapeBounds {
  return {
    short: Math.max(0, ...shapes.map((s) => Math.min(s.out, s.in))),
    long: Math.max(0, ...shapes.map((s) => Math.max(s.out, s.in))),
    area: Math.max(0, ...shapes.map((s) => s.out * s.in)),
  };
}

/** Throws unless an r × c matrix (either way round) fits a workspace sized for `bounds`. */
export function checkFits(bounds: ShapeBounds, r: number, c: number, what: string): void {
  if (Math.min(r, c) > bounds.short || Math.max(r, c) > bounds.long || r * c > bounds.area) {
    throw new Error(`a ${what} for shapes up to ${bounds.short} × ${bounds.long} (${bounds.area} entries) cannot take a ${r} × ${c} matrix`);
  }
}

/** The blocks of a Gram product X Xᵀ of a wide X [r, c] (r ≤ c): X, Xᵀ, the result, and 0, 1, … for the term indices. */
export interface GramBlocks {
  X: F64Block; // [r, c]
  XT: F64Block; // [c, r]
  gram: F64Block; // [r, r]
  iota: I32Block; // 0, 1, …, c − 1 at least
}

/** X Xᵀ [r, r] of a wide X [r, c] (r ≤ c), in the kernel (KernelArena.gram), in `blocks` of `arena`; a fresh array. */
export function gramOfRowsIn(arena: KernelArena, blocks: GramBlocks, X: Float64Array, r: number, c: number): Float64Array {
  if (X.length !== r * c) throw new Error(`Gram matrix of a ${r} × ${c} matrix handed ${X.length} entries`);
  blocks.X.view.set(X);
  transposeInto(X, r, c, blocks.XT.view);
  arena.gram(blocks.gram, blocks.X, blocks.XT, blocks.iota, r, c);
  return blocks.gram.view.slice(0, r * r);
}

function gramLayout({ short, long, area }: ShapeBounds) {
  return {
    X: f64s(area),
    XT: f64s(area),
    gram: f64s(short * short),
    iota: i32s(long),
    values: f64s(short), // the Gram matrix's eigenvalues
    vectors: f64s(short * short), // its eigenvectors (as rows)
    scratch: f64s(short),
    qr: f64s(area), // a tall matrix by its columns, then its QR's state (triangularFactor)
    rdiag: f64s(short), // R's diagonal
  };
}

/**
 * A kernel arena for Gram matrices of wide matrices up to the shapes it was sized for, their
 * eigenvalues, and the triangular factors of QRs (the norms of a run's layers and the dual norms of
 * its gradients: the training loop holds one). An arena costs far more to set up than a small
 * product, so a caller that multiplies often keeps one.
 */
export class GramWorkspace {
  readonly bounds: ShapeBounds;
  private readonly arena: KernelArena;
  private readonly blocks: Blocks<ReturnType<typeof gramLayout>>;

  constructor(shapes: readonly { out: number; in: number }[]) {
    this.bounds = shapeBounds(shapes);
    const { arena, blocks } = KernelArena.create(gramLayout(this.bounds));
    this.arena = arena;
    this.blocks = blocks;
    blocks.iota.view.forEach((_, j, iota) => (iota[j] = j));
  }

  /**
   * Gram matrix of the rows, X Xᵀ. X: [r, c] row-major with r ≤ c → [r, r], in the WebAssembly
   * kernel. Exactly symmetric: entries (a, b) and (b, a) add the same products in the same order.
   */
  gramOfRows(X: Float64Array, r: number, c: number): Float64Array {
    if (r > c) throw new Error(`gramOfRows takes a wide matrix, got ${r} × ${c}`);
    checkFits(this.bounds, r, c, 'Gram workspace');
    return gramOfRowsIn(this.arena, this.blocks, X, r, c);
  }

  /**
   * The eigenvalues, ascending, of the smaller Gram matrix of B = A / divisor for A [r, c]: B Bᵀ
   * [r, r] when r ≤ c, else Bᵀ B [c, c] (src/numerics/eigen.ts). B and Bᵀ are written into the
   * arena in one pass. A view, overwritten by the next call.
   */
  gramEigenvalues(A: Float64Array, r: number, c: number, divisor = 1): Float64Array {
    const wide = r <= c;
    const [k, n] = wide ? [r, c] : [c, r];
    checkFits(this.bounds, k, n, 'Gram workspace');
    const { X, XT, gram, iota, vectors, values, scratch } = this.blocks;
    // X [k, n] is B or Bᵀ, whichever is wide; XT its transpose.
    const [rowMajor, colMajor] = wide ? [X.view, XT.view] : [XT.view, X.view];
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        const v = A[i * c + j]! / divisor;
        rowMajor[i * c + j] = v;
        colMajor[j * r + i] = v;
      }
    }
    this.arena.gram(gram, X, XT, iota, k, n);
    this.arena.symmetricEigen(gram, vectors, values, scratch, k);
    return values.view.subarray(0, k);
  }

  /**
   * The triangular factor R [q, q] of a Householder QR of the tall M [p, q] (p ≥ q), given by its
   * columns (cols = Mᵀ [q, p] row-major): in the kernel (KernelArena.householderR), bit for bit
   * ml-matrix's QrDecomposition(M).upperTriangularMatrix.
   */
  triangularFactor(cols: Float64Array, p: number, q: number): Matrix {
    checkFits(this.bounds, q, p, 'QR workspace');
    const { qr, rdiag } = this.blocks;
    qr.view.set(cols.subarray(0, q * p));
    this.arena.householderR(qr, p, q, rdiag);
    const R = new Matrix(q, q); // zero-filled
    const state = qr.view;
    for (let i = 0; i < q; i++) {
      R.set(i, i, rdiag.view[i]!);
      for (let j = i + 1; j < q; j++) R.set(i, j, state[j * p + i]!);
    }
    return R;
  }
}

/** Transpose of a row-major [r, c] matrix → [c, r]. */
export function transpose(A: Float64Array, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  transposeInto(A, r, c, T);
  return T;
}

/** out = Aᵀ for A [r, c] → out [c, r] (the first r·c entries of out). */
export function transposeInto(A: Float64Array, r: number, c: number, out: Float64Array): void {
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = A[i * c + j]!;
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
 * without its n × k factor, which is most of an SVD's cost, taken on the triangular factor of Mᵀ
 * when that is smaller (squareFactor).
 * U: [k, k], columns in the order of s.
 */
export function leftSingular(M: Float64Array, k: number, n: number): { s: Float64Array; U: Float64Array } {
  // For k > n, Mᵀ would be wide, outside what ml-matrix's Golub–Kahan handles (it warns and
  // carries on), and a square U would hold k − n arbitrary null directions: callers factor Mᵀ instead.
  if (k > n) throw new Error(`leftSingular needs a wide matrix, got ${k} × ${n}`);
  // Mᵀ [n, k] is tall; its columns are M's rows.
  const svd = new SingularValueDecomposition(squareFactor(M, n, k), {
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
 * underflow when squared. `workspace`: one sized for at least this shape (a one-off one by default).
 */
export function spectralNormOf(A: Float64Array, r: number, c: number, workspace: GramWorkspace = new GramWorkspace([{ out: r, in: c }])): number {
  let scale = 0;
  for (let k = 0; k < A.length; k++) scale = Math.max(scale, Math.abs(A[k]!));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  const values = workspace.gramEigenvalues(A, r, c, scale);
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
export function nuclearNormOf(A: Float64Array, r: number, c: number, workspace?: GramWorkspace): number {
  const { cols, p, q } = nonZeroPartTall(A, r, c);
  if (q === 0) return 0;
  const svd = new SingularValueDecomposition(squareFactor(cols, p, q, workspace), {
    autoTranspose: false,
    computeLeftSingularVectors: false,
    computeRightSingularVectors: false,
  });
  let sum = 0;
  for (const v of svd.diagonal) sum += v;
  return sum;
}

/**
 * The tall M [p, q] (p ≥ q), given by its columns (cols = Mᵀ [q, p] row-major), as the matrix an
 * SVD should take. At least twice as tall as wide: the triangular factor R [q, q] of its
 * Householder QR (M = Q R, Q with orthonormal columns; GramWorkspace.triangularFactor, in
 * `workspace` or a one-off one): R has M's singular values and right singular vectors, and the
 * reduction is backward stable like the SVD that follows, so that SVD keeps its accuracy (ε σ_max in
 * absolute terms) at a fraction of the cost. Otherwise M itself.
 */
function squareFactor(cols: Float64Array, p: number, q: number, workspace?: GramWorkspace): Matrix {
  if (p < 2 * q) return toMatrix(transpose(cols, q, p), p, q);
  return (workspace ?? new GramWorkspace([{ out: q, in: p }])).triangularFactor(cols, p, q);
}

/**
 * A [r, c] without its all-zero rows and columns, transposed if need be so that it is tall, B [p, q]
 * with p ≥ q, given by its columns: cols = Bᵀ [q, p] row-major.
 */
function nonZeroPartTall(A: Float64Array, r: number, c: number): { cols: Float64Array; p: number; q: number } {
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
  const rows = Int32Array.from(rowLive.keys()).filter((i) => rowLive[i] === 1);
  const cols = Int32Array.from(colLive.keys()).filter((j) => colLive[j] === 1);
  const tall = rows.length >= cols.length;
  const [p, q] = tall ? [rows.length, cols.length] : [cols.length, rows.length];
  const out = new Float64Array(p * q);
  // tall: B is the live part, and column b of B is A's column cols[b]; wide: B is its transpose,
  // and column a of B is A's row rows[a]. Either way out[b, a] or out[a, b] = A[rows[a], cols[b]].
  const [rowStride, colStride] = tall ? [1, p] : [p, 1];
  for (let a = 0; a < rows.length; a++) {
    const src = rows[a]! * c;
    for (let b = 0; b < cols.length; b++) out[a * rowStride + b * colStride] = A[src + cols[b]!]!;
  }
  return { cols: out, p, q };
}

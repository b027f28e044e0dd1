import { KERNELS_WASM_BASE64 } from './kernels.wasm.js';

/**
 * The float64 kernels in WebAssembly (kernels.wat): SIMD f64x2 with register-blocked output rows,
 * several times faster than the same sums in JavaScript (docs/performance.md). Arithmetic is IEEE
 * float64 throughout, like the JavaScript it replaces.
 */

/**
 * The compiled kernels, compiled when this file is first imported (a worker thread imports its own
 * copy). Each arena instantiates them with a memory of its own.
 */
const KERNEL_MODULE = new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));

interface KernelExports {
  memory: WebAssembly.Memory;
  rowCombine(out: number, m: number, src: number, val: number, idx: number, rowStart: number, nrows: number, kd: number, upper: number): void;
  ema(m: number, g: number, n: number, ca: number, cb: number): number;
  rmsEma(r: number, g: number, n: number, ca: number, cb: number): number;
  scaleInto(out: number, x: number, n: number, s: number): void;
  sumSquares(x: number, n: number): number;
  sign(out: number, m: number, n: number): void;
  adamDiv(out: number, m: number, r: number, n: number, factor: number): void;
  descend(w: number, d: number, n: number, eta: number): void;
  maxAbs(x: number, n: number): number;
  gatherColumns(dst: number, w: number, m: number, d: number, idx: number, nidx: number): void;
  scatterColumns(w: number, src: number, m: number, d: number, idx: number, nidx: number, scale: number): void;
  lineMaxAbs(M: number, r: number, c: number, rowMax: number, colMax: number): void;
  gatherSub(sub: number, subT: number, M: number, c: number, rows: number, k: number, cols: number, n: number, scale: number): void;
  scatterSub(Q: number, c: number, S: number, rows: number, k: number, cols: number, n: number): void;
  symmetricEigen(S: number, Z: number, d: number, e: number, n: number): void;
  householderR(cols: number, m: number, n: number, rdiag: number): void;
}

/** An array living in an arena's memory: `ptr` is its byte offset there, for the kernels. */
export interface F64Block {
  readonly ptr: number;
  readonly view: Float64Array;
}
export interface I32Block {
  readonly ptr: number;
  readonly view: Int32Array;
}

/** A sparse matrix by rows (CSR): row r's terms are q ∈ [start[r], start[r + 1]), each value[q] · source row index[q]. */
export interface SparseRows {
  start: Int32Array; // [rows + 1]
  index: Int32Array; // [nnz]
  value: Float64Array; // [nnz]
}

/**
 * SparseRows copied into an arena and checked there, once (KernelArena.create): start runs from 0
 * to nnz without decreasing, and every index lies in [0, maxIndex]. Its arrays are not handed out
 * and the kernels write only into F64 blocks, so they stay as checked.
 */
export interface SparseBlock {
  readonly arena: KernelArena;
  readonly rows: number;
  readonly nnz: number;
  /** The largest source row a term reads; −1 when there are no terms. */
  readonly maxIndex: number;
  /** Byte offsets of the three arrays. */
  readonly start: number;
  readonly index: number;
  readonly value: number;
}

export class BlockRequest<K extends 'f64' | 'i32'> {
  constructor(
    readonly kind: K,
    readonly length: number,
  ) {}
}
export class SparseRequest {
  constructor(readonly csr: SparseRows) {}
}
/** In a layout: a block of `length` doubles (zero-filled). */
export const f64s = (length: number): BlockRequest<'f64'> => new BlockRequest('f64', length);
/** In a layout: a block of `length` int32s (zero-filled). */
export const i32s = (length: number): BlockRequest<'i32'> => new BlockRequest('i32', length);
/** In a layout: a checked copy of `csr` (SparseBlock). */
export const sparseRows = (csr: SparseRows): SparseRequest => new SparseRequest(csr);

/**
 * Everything an arena holds, declared in one place by its owner (KernelArena.create): block
 * requests, nested in arrays and records as the owner likes to hold them; null stands for nothing.
 */
export type Layout = BlockRequest<'f64'> | BlockRequest<'i32'> | SparseRequest | null | readonly Layout[] | { readonly [name: string]: Layout };

/** The blocks a layout becomes: the same nesting, each request replaced by its block. */
export type Blocks<S> = S extends BlockRequest<'f64'>
  ? F64Block
  : S extends BlockRequest<'i32'>
    ? I32Block
    : S extends SparseRequest
      ? SparseBlock
      : S extends null
        ? null
        : { -readonly [K in keyof S]: Blocks<S[K]> };

/** Kernel arguments that do not fit together; the message names the kernel, its dimensions and the block at fault. */
export class KernelArgumentError extends Error {
  override name = 'KernelArgumentError';
}

const PAGE = 65536;
/** A WebAssembly memory holds at most 65536 pages (4 GiB). */
const MAX_PAGES = 65536;
const ALIGN = 16; // one f64x2
/** Offset 0 is never handed out: a rowStart of 0 tells the rowCombine kernel to run dense. */
const FIRST = ALIGN;
const MAX_I32 = 2 ** 31 - 1;

const aligned = (bytes: number) => Math.ceil(bytes / ALIGN) * ALIGN;

function checkedLength(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > MAX_I32) throw new KernelArgumentError(`kernel arena: cannot hold a block of ${length} elements`);
  return length;
}

/** The bytes `layout` takes in an arena: the one place an arena's size comes from. */
function bytesOf(layout: Layout): number {
  if (layout === null) return 0;
  if (layout instanceof BlockRequest) return aligned(checkedLength(layout.length) * (layout.kind === 'f64' ? 8 : 4));
  if (layout instanceof SparseRequest) {
    const { start, index, value } = layout.csr;
    return aligned(4 * start.length) + aligned(4 * index.length) + aligned(8 * value.length);
  }
  return Object.values(layout).reduce((sum: number, l: Layout) => sum + bytesOf(l), 0);
}

/**
 * A kernel instance with its own fixed-size memory, holding the blocks its owner declared (one
 * Layout, given to `create`). The memory is sized once and never grows, so the typed views stay
 * valid for the arena's life, and blocks are never reused, so no two overlap.
 *
 * Every kernel entry point checks its arguments before the kernel runs: each block belongs to this
 * arena and holds what the dimensions say the kernel will touch, and each index the kernel follows
 * points inside the block it indexes. A kernel that passes the checks reads and writes only inside
 * the blocks it was handed. The checks cost O(1) per block plus one pass over the index lists
 * (dense products, column and submatrix moves: O(indices) against the kernel's O(indices × row
 * length)); a sparse matrix's indices are checked once, when it is copied in. A failed check
 * throws a KernelArgumentError.
 */
export class KernelArena {
  /** Bytes of memory; the blocks lie below. */
  readonly capacity: number;
  private readonly kernels: KernelExports;
  private readonly buffer: ArrayBuffer;
  private next = FIRST;

  /** An arena holding exactly `layout`'s blocks, and those blocks (zero-filled; sparse ones copied in). */
  static create<S extends Layout>(layout: S): { arena: KernelArena; blocks: Blocks<S> } {
    const arena = new KernelArena(bytesOf(layout));
    return { arena, blocks: arena.place(layout) as Blocks<S> };
  }

  private constructor(bytes: number) {
    this.kernels = new WebAssembly.Instance(KERNEL_MODULE, {}).exports as unknown as KernelExports;
    const memory = this.kernels.memory;
    const want = Math.ceil((bytes + FIRST) / PAGE);
    if (want > MAX_PAGES) throw new KernelArgumentError(`kernel arena: ${bytes} bytes exceed the 4 GiB a WebAssembly memory can hold`);
    const have = memory.buffer.byteLength / PAGE;
    if (want > have) memory.grow(want - have);
    this.buffer = memory.buffer;
    this.capacity = this.buffer.byteLength;
  }

  private place(layout: Layout): unknown {
    if (layout === null) return null;
    if (layout instanceof BlockRequest) {
      const { length } = layout;
      if (layout.kind === 'f64') {
        const ptr = this.take(8 * length);
        return { ptr, view: new Float64Array(this.buffer, ptr, length) };
      }
      const ptr = this.take(4 * length);
      return { ptr, view: new Int32Array(this.buffer, ptr, length) };
    }
    if (layout instanceof SparseRequest) return this.placeSparse(layout.csr);
    if (Array.isArray(layout)) return layout.map((l: Layout) => this.place(l));
    return Object.fromEntries(Object.entries(layout).map(([name, l]) => [name, this.place(l)]));
  }

  private placeSparse({ start, index, value }: SparseRows): SparseBlock {
    const rows = start.length - 1;
    const nnz = index.length;
    const bad = (what: string): never => {
      throw new KernelArgumentError(`sparse rows (${rows} rows, ${nnz} terms): ${what}`);
    };
    if (rows < 0) bad('start is empty (it holds rows + 1 offsets)');
    if (value.length !== nnz) bad(`${value.length} values for ${nnz} indices`);
    if (start[0] !== 0 || start[rows] !== nnz) bad(`start runs from ${start[0]} to ${start[rows]}, expected 0 to ${nnz}`);
    for (let r = 0; r < rows; r++) if (start[r + 1]! < start[r]!) bad(`start decreases after row ${r}`);
    let maxIndex = -1;
    for (let q = 0; q < nnz; q++) {
      const j = index[q]!;
      if (j < 0) bad(`term ${q} reads source row ${j}`);
      if (j > maxIndex) maxIndex = j;
    }
    const s = this.place(i32s(start.length)) as I32Block;
    const i = this.place(i32s(nnz)) as I32Block;
    const v = this.place(f64s(nnz)) as F64Block;
    s.view.set(start);
    i.view.set(index);
    v.view.set(value);
    return { arena: this, rows, nnz, maxIndex, start: s.ptr, index: i.ptr, value: v.ptr };
  }

  private take(bytes: number): number {
    const ptr = this.next;
    const end = ptr + aligned(bytes);
    if (end > this.capacity) throw new KernelArgumentError(`kernel arena of ${this.capacity} bytes cannot hold ${bytes} more`);
    this.next = end;
    return ptr;
  }

  private args(kernel: string, dims: Record<string, number>): KernelArgs {
    return new KernelArgs(this.buffer, kernel, dims);
  }

  /**
   * Dense product out = A · src: out[r, 0..m) = Σ_{q<kd} A[r, q] · src[idx[q], 0..m) for r < nrows,
   * A [nrows, kd] (kernels.wat). With idx = 0, 1, …, kd − 1 it is the matrix product of A and src [kd, m].
   */
  rowCombine(out: F64Block, m: number, src: F64Block, A: F64Block, idx: I32Block, nrows: number, kd: number): void {
    const a = this.args('rowCombine', { m, nrows, kd });
    const top = a.indices('idx', idx, kd, 'kd');
    a.f64('A', A, nrows * kd, 'nrows·kd');
    a.f64('src', src, (top + 1) * m, 'm·(largest idx + 1)');
    a.f64('out', out, nrows * m, 'nrows·m');
    a.disjoint('out', out, 'src', src);
    a.disjoint('out', out, 'A', A);
    this.kernels.rowCombine(out.ptr, m, src.ptr, A.ptr, idx.ptr, 0, nrows, kd, 0);
  }

  /** Sparse product out = A · src: out[r, 0..m) = Σ_{q ∈ row r} A.value[q] · src[A.index[q], 0..m) for every row of A (kernels.wat). */
  rowCombineSparse(out: F64Block, m: number, src: F64Block, A: SparseBlock): void {
    const a = this.args('rowCombineSparse', { m, rows: A.rows, nnz: A.nnz });
    if (A.arena !== this) a.fail('A is not a block of this kernel arena');
    a.f64('src', src, (A.maxIndex + 1) * m, 'm·(largest index + 1)');
    a.f64('out', out, A.rows * m, 'rows·m');
    a.disjoint('out', out, 'src', src);
    this.kernels.rowCombine(out.ptr, m, src.ptr, A.value, A.index, A.start, A.rows, 0, 0);
  }

  /**
   * The Gram matrix out = A Aᵀ [k, k] of A [k, n], given A and AT = Aᵀ [n, k] and iota = 0, 1, …,
   * n − 1. Row a sums only the columns from a (or a − 1) on (rowCombine's upper mode); the
   * entries left of them are copied from their mirror images. Bitwise the full product:
   * entries (a, b) and (b, a) add the same products in the same order, so out is exactly symmetric.
   */
  gram(out: F64Block, A: F64Block, AT: F64Block, iota: I32Block, k: number, n: number): void {
    const a = this.args('gram', { k, n });
    const top = a.indices('iota', iota, n, 'n');
    a.f64('A', A, k * n, 'k·n');
    a.f64('AT', AT, (top + 1) * k, 'k·(largest iota + 1)');
    a.f64('out', out, k * k, 'k·k');
    a.disjoint('out', out, 'A', A);
    a.disjoint('out', out, 'AT', AT);
    this.kernels.rowCombine(out.ptr, k, AT.ptr, A.ptr, iota.ptr, 0, k, n, 1);
    const g = out.view;
    for (let r = 1; r < k; r++) for (let c = 0; c < r; c++) g[r * k + c] = g[c * k + r]!;
  }

  // The optimizers' elementwise passes (kernels.wat): n = the first block's length, and every other
  // block must have exactly that length.

  /** m ← ca·m + cb·g; returns max|m| (NaN ignored). */
  ema(m: F64Block, g: F64Block, ca: number, cb: number): number {
    const n = m.view.length;
    const a = this.args('ema', { n });
    a.sameLength('m', m, n);
    a.sameLength('g', g, n);
    return this.kernels.ema(m.ptr, g.ptr, n, ca, cb);
  }

  /** r ← √((ca·r)² + (cb·g)²) without squaring either term (0 where both are 0); returns max r. */
  rmsEma(r: F64Block, g: F64Block, ca: number, cb: number): number {
    const n = r.view.length;
    const a = this.args('rmsEma', { n });
    a.sameLength('r', r, n);
    a.sameLength('g', g, n);
    return this.kernels.rmsEma(r.ptr, g.ptr, n, ca, cb);
  }

  /** out ← s·x (out may be x). */
  scaleInto(out: F64Block, x: F64Block, s: number): void {
    const n = x.view.length;
    const a = this.args('scaleInto', { n });
    a.sameLength('x', x, n);
    a.sameLength('out', out, n);
    this.kernels.scaleInto(out.ptr, x.ptr, n, s);
  }

  /** Σ x² (one partial sum per SIMD lane). */
  sumSquares(x: F64Block): number {
    const n = x.view.length;
    this.args('sumSquares', { n }).sameLength('x', x, n);
    return this.kernels.sumSquares(x.ptr, n);
  }

  /** out ← sign(m), with sign(±0) = 0 and sign(NaN) = NaN. */
  sign(out: F64Block, m: F64Block): void {
    const n = m.view.length;
    const a = this.args('sign', { n });
    a.sameLength('m', m, n);
    a.sameLength('out', out, n);
    this.kernels.sign(out.ptr, m.ptr, n);
  }

  /** out ← (m/r)·factor where r > 0, else 0. */
  adamDiv(out: F64Block, m: F64Block, r: F64Block, factor: number): void {
    const n = m.view.length;
    const a = this.args('adamDiv', { n });
    a.sameLength('m', m, n);
    a.sameLength('r', r, n);
    a.sameLength('out', out, n);
    this.kernels.adamDiv(out.ptr, m.ptr, r.ptr, n, factor);
  }

  /** w ← w − η·d. */
  descend(w: F64Block, d: F64Block, eta: number): void {
    const n = w.view.length;
    const a = this.args('descend', { n });
    a.sameLength('w', w, n);
    a.sameLength('d', d, n);
    this.kernels.descend(w.ptr, d.ptr, n, eta);
  }

  /** max |x_k| (NaN ignored). */
  maxAbs(x: F64Block): number {
    const n = x.view.length;
    this.args('maxAbs', { n }).sameLength('x', x, n);
    return this.kernels.maxAbs(x.ptr, n);
  }

  /** The columns `cols` of W [m, d] as rows of Wᵀ [d, m]: dst[p, :] = W[:, p]; other rows of dst untouched. */
  gatherColumns(dst: F64Block, W: F64Block, m: number, d: number, cols: I32Block): void {
    const nidx = cols.view.length;
    const a = this.args('gatherColumns', { m, d, nidx });
    a.below('cols', a.indices('cols', cols, nidx, 'nidx'), d, 'd');
    a.f64('W', W, m * d, 'm·d');
    a.f64('dst', dst, d * m, 'd·m');
    a.disjoint('dst', dst, 'W', W);
    this.kernels.gatherColumns(dst.ptr, W.ptr, m, d, cols.ptr, nidx);
  }

  /** The inverse of gatherColumns, scaled: W[:, p] = scale · src[p, :] for p in `cols`; other columns of W untouched. */
  scatterColumns(W: F64Block, src: F64Block, m: number, d: number, cols: I32Block, scale: number): void {
    const nidx = cols.view.length;
    const a = this.args('scatterColumns', { m, d, nidx });
    a.below('cols', a.indices('cols', cols, nidx, 'nidx'), d, 'd');
    a.f64('src', src, d * m, 'd·m');
    a.f64('W', W, m * d, 'm·d');
    a.disjoint('W', W, 'src', src);
    this.kernels.scatterColumns(W.ptr, src.ptr, m, d, cols.ptr, nidx, scale);
  }

  /** rowMax[i] = max_j |M[i, j]| and colMax[j] = max_i |M[i, j]| for M [r, c] (NaN ignored). */
  lineMaxAbs(M: F64Block, r: number, c: number, rowMax: F64Block, colMax: F64Block): void {
    const a = this.args('lineMaxAbs', { r, c });
    a.f64('M', M, r * c, 'r·c');
    a.f64('rowMax', rowMax, r, 'r');
    a.f64('colMax', colMax, c, 'c');
    a.disjoint('rowMax', rowMax, 'M', M);
    a.disjoint('colMax', colMax, 'M', M);
    a.disjoint('rowMax', rowMax, 'colMax', colMax);
    this.kernels.lineMaxAbs(M.ptr, r, c, rowMax.ptr, colMax.ptr);
  }

  /** sub = scale · M[rows, cols] [k, n] and subT = its transpose [n, k], for M [·, c], over the first k rows and n cols listed. */
  gatherSub(sub: F64Block, subT: F64Block, M: F64Block, c: number, rows: I32Block, k: number, cols: I32Block, n: number, scale: number): void {
    const a = this.args('gatherSub', { c, k, n });
    const topRow = a.indices('rows', rows, k, 'k');
    a.below('cols', a.indices('cols', cols, n, 'n'), c, 'c');
    a.f64('M', M, (topRow + 1) * c, 'c·(largest row + 1)');
    a.f64('sub', sub, k * n, 'k·n');
    a.f64('subT', subT, n * k, 'n·k');
    a.disjoint('sub', sub, 'M', M);
    a.disjoint('subT', subT, 'M', M);
    a.disjoint('sub', sub, 'subT', subT);
    this.kernels.gatherSub(sub.ptr, subT.ptr, M.ptr, c, rows.ptr, k, cols.ptr, n, scale);
  }

  /** Q[rows[a], cols[b]] = S[a, b] for S [k, n] and Q [·, c], over the first k rows and n cols listed; the rest of Q untouched. */
  scatterSub(Q: F64Block, c: number, S: F64Block, rows: I32Block, k: number, cols: I32Block, n: number): void {
    const a = this.args('scatterSub', { c, k, n });
    const topRow = a.indices('rows', rows, k, 'k');
    a.below('cols', a.indices('cols', cols, n, 'n'), c, 'c');
    a.f64('S', S, k * n, 'k·n');
    a.f64('Q', Q, (topRow + 1) * c, 'c·(largest row + 1)');
    a.disjoint('Q', Q, 'S', S);
    this.kernels.scatterSub(Q.ptr, c, S.ptr, rows.ptr, k, cols.ptr, n);
  }

  /**
   * The eigendecomposition S = V Λ Vᵀ of the symmetric S [n, n] (src/numerics/eigen.ts, kernels.wat):
   * eigenvalues ascending into d [n], the eigenvectors as the rows of Z [n, n] (Z = Vᵀ); e [n] is
   * scratch. S is read as given (Z starts as Sᵀ) and left as it was.
   */
  symmetricEigen(S: F64Block, Z: F64Block, d: F64Block, e: F64Block, n: number): void {
    const a = this.args('symmetricEigen', { n });
    a.f64('S', S, n * n, 'n·n');
    a.f64('Z', Z, n * n, 'n·n');
    a.f64('d', d, n, 'n');
    a.f64('e', e, n, 'n');
    a.disjoint('Z', Z, 'S', S);
    a.disjoint('d', d, 'S', S);
    a.disjoint('e', e, 'S', S);
    a.disjoint('Z', Z, 'd', d);
    a.disjoint('Z', Z, 'e', e);
    a.disjoint('d', d, 'e', e);
    if (n > 0) this.kernels.symmetricEigen(S.ptr, Z.ptr, d.ptr, e.ptr, n);
  }

  /**
   * The triangular factor of a Householder QR of a tall B [m, n] (m ≥ n), given by its columns:
   * cols = Bᵀ [n, m] row-major (kernels.wat). In place: above the diagonal R[i, j] = cols[j, i]
   * (i < j); R's diagonal into rdiag [n]. ml-matrix's QrDecomposition bit for bit.
   */
  householderR(cols: F64Block, m: number, n: number, rdiag: F64Block): void {
    const a = this.args('householderR', { m, n });
    if (m < n) a.fail('the matrix must be at least as tall as wide');
    a.f64('cols', cols, n * m, 'n·m');
    a.f64('rdiag', rdiag, n, 'n');
    a.disjoint('rdiag', rdiag, 'cols', cols);
    this.kernels.householderR(cols.ptr, m, n, rdiag.ptr);
  }
}

/** The checks of one kernel call (see KernelArena); `dims` are the counts it was given, named for the message. */
class KernelArgs {
  constructor(
    private readonly buffer: ArrayBuffer,
    private readonly kernel: string,
    private readonly dims: Record<string, number>,
  ) {
    for (const name in dims) {
      const v = dims[name]!;
      if (!Number.isInteger(v) || v < 0 || v > MAX_I32) this.fail(`${name} = ${v} is not a count`);
    }
  }

  fail(what: string): never {
    const dims = Object.entries(this.dims)
      .map(([name, v]) => `${name} ${v}`)
      .join(', ');
    throw new KernelArgumentError(`kernel ${this.kernel}(${dims}): ${what}`);
  }

  /** `block` is one of this arena's and holds at least `need` (= `formula`) elements. */
  f64(name: string, block: F64Block, need: number, formula: string): void {
    this.owned(name, block);
    if (block.view.length < need) this.fail(`${name} holds ${block.view.length} doubles, needs ${formula} = ${need}`);
  }

  /** An elementwise operand: exactly n elements. */
  sameLength(name: string, block: F64Block, n: number): void {
    this.owned(name, block);
    if (block.view.length !== n) this.fail(`${name} holds ${block.view.length} doubles, expected n = ${n}`);
  }

  /** The first `count` (= `formula`) entries of `block` are row or column indices: none negative. Returns the largest (−1 for none). */
  indices(name: string, block: I32Block, count: number, formula: string): number {
    this.owned(name, block);
    const v = block.view;
    if (v.length < count) this.fail(`${name} holds ${v.length} indices, needs ${formula} = ${count}`);
    let top = -1;
    for (let q = 0; q < count; q++) {
      const j = v[q]!;
      if (j < 0) this.fail(`${name}[${q}] = ${j} is negative`);
      if (j > top) top = j;
    }
    return top;
  }

  /** The largest index `top` of `name` is below `bound` (= `formula`). */
  below(name: string, top: number, bound: number, formula: string): void {
    if (top >= bound) this.fail(`${name} holds index ${top}, not below ${formula} = ${bound}`);
  }

  /** The kernel writes `out` while it reads `input`: they must not share memory. */
  disjoint(outName: string, out: F64Block, inName: string, input: F64Block): void {
    const a = out.view;
    const b = input.view;
    if (a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength) this.fail(`${outName} overlaps ${inName}`);
  }

  private owned(name: string, block: F64Block | I32Block): void {
    if (block.view.buffer !== this.buffer || block.view.byteOffset !== block.ptr) this.fail(`${name} is not a block of this kernel arena`);
  }
}

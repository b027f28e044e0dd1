import { KERNELS_WASM_BASE64 } from './kernels.wasm.js';

/**
 * The float64 kernels in WebAssembly (kernels.wat): SIMD f64x2 with register-blocked output rows,
 * 2.5–3× faster than the same sums in JavaScript on the SPEC §9 sizes (measured with `npm run
 * bench`). Arithmetic is IEEE float64 throughout, like the JavaScript it replaces.
 */

/** Compiled once per thread (a worker thread compiles its own); instances are per arena. */
let compiled: WebAssembly.Module | null = null;
function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  return compiled;
}

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
}

/** An array living in an arena's memory: `ptr` is its byte offset there, for the kernels. */
export interface F64Block {
  ptr: number;
  view: Float64Array;
}
export interface I32Block {
  ptr: number;
  view: Int32Array;
}

const PAGE = 65536;
const ALIGN = 16; // one f64x2
/** Offset 0 is never handed out: a rowStart of 0 tells rowCombine to run dense. */
const FIRST = ALIGN;

/**
 * A kernel instance with its own fixed-size memory and a bump allocator over it. The memory is
 * sized once, at construction, and never grows, so the typed views handed out stay valid for the
 * arena's life.
 */
export class KernelArena {
  readonly capacity: number;
  private readonly kernels: KernelExports;
  private next = FIRST;

  constructor(bytes: number) {
    this.kernels = new WebAssembly.Instance(kernelModule(), {}).exports as unknown as KernelExports;
    const memory = this.kernels.memory;
    const want = Math.ceil((bytes + FIRST) / PAGE);
    const have = memory.buffer.byteLength / PAGE;
    if (want > have) memory.grow(want - have);
    this.capacity = memory.buffer.byteLength;
  }

  /** Bytes an arena needs for blocks of these sizes (f64 and i32 element counts). */
  static bytesFor(f64Counts: number[], i32Counts: number[] = []): number {
    const aligned = (b: number) => Math.ceil(b / ALIGN) * ALIGN;
    return f64Counts.reduce((s, n) => s + aligned(8 * n), 0) + i32Counts.reduce((s, n) => s + aligned(4 * n), 0);
  }

  f64(length: number): F64Block {
    const ptr = this.take(8 * length);
    return { ptr, view: new Float64Array(this.kernels.memory.buffer, ptr, length) };
  }

  i32(length: number): I32Block {
    const ptr = this.take(4 * length);
    return { ptr, view: new Int32Array(this.kernels.memory.buffer, ptr, length) };
  }

  /** Forget every block (their views must not be used afterwards). */
  reset(): void {
    this.next = FIRST;
  }

  /**
   * out[r, 0..m) = Σ_q val[q] · src[j(q), 0..m) for r < nrows (kernels.wat). Sparse (CSR): pass
   * rowStart [nrows + 1] and idx = the source row of each term. Dense: rowStart null, val an
   * [nrows, kd] matrix A and idx = 0, 1, …, kd − 1, giving out = A · src.
   */
  rowCombine(out: F64Block, m: number, src: F64Block, val: F64Block, idx: I32Block, rowStart: I32Block | null, nrows: number, kd = 0): void {
    this.kernels.rowCombine(out.ptr, m, src.ptr, val.ptr, idx.ptr, rowStart?.ptr ?? 0, nrows, kd, 0);
  }

  /**
   * The Gram matrix out = A Aᵀ [k, k] of A [k, n], given A and AT = Aᵀ [n, k] and iota = 0, 1, …,
   * n − 1. Row a sums only the 16-column blocks from the one holding column a (rowCombine's upper
   * mode); the entries left of them are copied from their mirror images. Bitwise the full product:
   * entries (a, b) and (b, a) add the same products in the same order, so out is exactly symmetric.
   */
  gram(out: F64Block, A: F64Block, AT: F64Block, iota: I32Block, k: number, n: number): void {
    this.kernels.rowCombine(out.ptr, k, AT.ptr, A.ptr, iota.ptr, 0, k, n, 1);
    const g = out.view;
    for (let a = 1; a < k; a++) for (let b = 0; b < a; b++) g[a * k + b] = g[b * k + a]!;
  }

  // The optimizers' elementwise passes (kernels.wat); blocks of one arena, n = the first's length.

  /** m ← ca·m + cb·g; returns max|m| (NaN ignored). */
  ema(m: F64Block, g: F64Block, ca: number, cb: number): number {
    return this.kernels.ema(m.ptr, g.ptr, m.view.length, ca, cb);
  }

  /** r ← √((ca·r)² + (cb·g)²) without squaring either term (0 where both are 0); returns max r. */
  rmsEma(r: F64Block, g: F64Block, ca: number, cb: number): number {
    return this.kernels.rmsEma(r.ptr, g.ptr, r.view.length, ca, cb);
  }

  /** out ← s·x (out may be x). */
  scaleInto(out: F64Block, x: F64Block, s: number): void {
    this.kernels.scaleInto(out.ptr, x.ptr, x.view.length, s);
  }

  /** Σ x² (one partial sum per SIMD lane). */
  sumSquares(x: F64Block): number {
    return this.kernels.sumSquares(x.ptr, x.view.length);
  }

  /** out ← sign(m), with sign(±0) = 0 and sign(NaN) = NaN. */
  sign(out: F64Block, m: F64Block): void {
    this.kernels.sign(out.ptr, m.ptr, m.view.length);
  }

  /** out ← (m/r)·factor where r > 0, else 0. */
  adamDiv(out: F64Block, m: F64Block, r: F64Block, factor: number): void {
    this.kernels.adamDiv(out.ptr, m.ptr, r.ptr, m.view.length, factor);
  }

  /** w ← w − η·d. */
  descend(w: F64Block, d: F64Block, eta: number): void {
    this.kernels.descend(w.ptr, d.ptr, w.view.length, eta);
  }

  /** max |x_k| (NaN ignored). */
  maxAbs(x: F64Block): number {
    return this.kernels.maxAbs(x.ptr, x.view.length);
  }

  /** The columns `cols` of W [m, d] as rows of Wᵀ [d, m]: dst[p, :] = W[:, p]; other rows of dst untouched. */
  gatherColumns(dst: F64Block, W: F64Block, m: number, d: number, cols: I32Block): void {
    this.kernels.gatherColumns(dst.ptr, W.ptr, m, d, cols.ptr, cols.view.length);
  }

  /** The inverse of gatherColumns, scaled: W[:, p] = scale · src[p, :] for p in `cols`; other columns of W untouched. */
  scatterColumns(W: F64Block, src: F64Block, m: number, d: number, cols: I32Block, scale: number): void {
    this.kernels.scatterColumns(W.ptr, src.ptr, m, d, cols.ptr, cols.view.length, scale);
  }

  /** rowMax[i] = max_j |M[i, j]| and colMax[j] = max_i |M[i, j]| for M [r, c] (NaN ignored). */
  lineMaxAbs(M: F64Block, r: number, c: number, rowMax: F64Block, colMax: F64Block): void {
    this.kernels.lineMaxAbs(M.ptr, r, c, rowMax.ptr, colMax.ptr);
  }

  /** sub = scale · M[rows, cols] [k, n] and subT = its transpose [n, k], for M [·, c]. */
  gatherSub(sub: F64Block, subT: F64Block, M: F64Block, c: number, rows: I32Block, cols: I32Block, scale: number): void {
    this.kernels.gatherSub(sub.ptr, subT.ptr, M.ptr, c, rows.ptr, rows.view.length, cols.ptr, cols.view.length, scale);
  }

  /** Q[rows[a], cols[b]] = S[a, b] for S [k, n] and Q [·, c]; the rest of Q untouched. */
  scatterSub(Q: F64Block, c: number, S: F64Block, rows: I32Block, cols: I32Block): void {
    this.kernels.scatterSub(Q.ptr, c, S.ptr, rows.ptr, rows.view.length, cols.ptr, cols.view.length);
  }

  private take(bytes: number): number {
    const ptr = this.next;
    const end = ptr + Math.ceil(bytes / ALIGN) * ALIGN;
    if (end > this.capacity) throw new Error(`kernel arena of ${this.capacity} bytes cannot hold ${bytes} more`);
    this.next = end;
    return ptr;
  }
}

/**
 * The arena the stateless dense products use, one per thread, replaced by a larger one when a
 * product needs more (so its size follows the largest matrices of the run).
 */
let scratch: KernelArena | null = null;
export function scratchArena(bytes: number): KernelArena {
  if (!scratch || scratch.capacity < bytes + FIRST) scratch = new KernelArena(Math.max(bytes, 2 * (scratch?.capacity ?? 0)));
  scratch.reset();
  return scratch;
}

/**
 * Product A B of row-major A [r, k] and B [k, c] → [r, c], in the kernel. `gram`: B is Aᵀ (so
 * c = r), and only one triangle is summed (KernelArena.gram), with the same result.
 */
export function denseProduct(A: Float64Array, B: Float64Array, r: number, k: number, c: number, gram = false): Float64Array {
  const arena = scratchArena(KernelArena.bytesFor([r * k, k * c, r * c], [k]));
  const a = arena.f64(r * k);
  const b = arena.f64(k * c);
  const out = arena.f64(r * c);
  const iota = arena.i32(k);
  a.view.set(A);
  b.view.set(B);
  for (let j = 0; j < k; j++) iota.view[j] = j;
  if (gram) arena.gram(out, a, b, iota, r, k);
  else arena.rowCombine(out, c, b, a, iota, null, r, k);
  return out.view.slice();
}

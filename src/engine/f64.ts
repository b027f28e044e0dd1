import type { Activation } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import type { LayerShape, Params } from '../model/mlp.js';
import { crossEntropyLogDomain, logisticLogDomain } from '../numerics/logLoss.js';
import { KernelArena, type F64Block, type I32Block } from '../numerics/wasm/kernels.js';
import type { Engine, Evaluation } from './types.js';

/**
 * The default engine: float64 on the CPU in TypeScript (typed arrays, no allocation per step).
 * MNIST pixels are ~81% zero and the input is fixed, so the first layer works on compressed
 * copies of X: forward Z_1 = X W_1ᵀ and backward ∂W_1 = ∂Z_1ᵀ X touch only the non-zero pixels
 * (155 of 784 per digit on average), in the WebAssembly kernel (src/numerics/wasm/), which holds
 * X and the first layer's work buffers in its memory. The dense layers skip rows of ∂Z that are
 * 0 (inactive ReLU units).
 */

/** The fixed input X [n, d] with only its non-zero pixels, by rows (forward) and by columns (backward). */
export interface SparseInput {
  n: number;
  d: number;
  rowStart: Int32Array; // [n + 1]
  rowCol: Int32Array; // [nnz] pixel index
  rowVal: Float64Array; // [nnz]
  colStart: Int32Array; // [d + 1]
  colRow: Int32Array; // [nnz] sample index
  colVal: Float64Array; // [nnz]
  /** Pixels non-zero in at least one sample; the others never get gradient. */
  activePixels: Int32Array;
}

/** Both compressed views of X (CSR and CSC). */
export function toSparse(X: Float64Array, n: number, d: number): SparseInput {
  const perRow = new Int32Array(n);
  const perCol = new Int32Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      if (X[i * d + j] !== 0) {
        perRow[i]!++;
        perCol[j]!++;
      }
    }
  }
  const rowStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rowStart[i + 1] = rowStart[i]! + perRow[i]!;
  const colStart = new Int32Array(d + 1);
  for (let j = 0; j < d; j++) colStart[j + 1] = colStart[j]! + perCol[j]!;
  const nnz = rowStart[n]!;
  const rowCol = new Int32Array(nnz);
  const rowVal = new Float64Array(nnz);
  const colRow = new Int32Array(nnz);
  const colVal = new Float64Array(nnz);
  const colFill = colStart.slice(0, d);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const x = X[i * d + j]!;
      if (x === 0) continue;
      rowCol[p] = j;
      rowVal[p] = x;
      p++;
      const q = colFill[j]!++;
      colRow[q] = i;
      colVal[q] = x;
    }
  }
  const activePixels = Int32Array.from({ length: d }, (_, j) => j).filter((j) => perCol[j]! > 0);
  return { n, d, rowStart, rowCol, rowVal, colStart, colRow, colVal, activePixels };
}

/** σ(z) in place, keeping what backward needs: σ'(z) for each unit (SPEC §3). */
function activateInPlace(z: Float64Array, deriv: Float64Array, activation: Activation): void {
  if (activation === 'relu') {
    for (let k = 0; k < z.length; k++) {
      const v = z[k]!;
      if (v > 0) deriv[k] = 1;
      else {
        z[k] = 0;
        deriv[k] = 0;
      }
    }
  } else {
    // squared ReLU: σ(z) = max(0, z)², σ'(z) = 2 max(0, z)
    for (let k = 0; k < z.length; k++) {
      const v = z[k]!;
      if (v > 0) {
        z[k] = v * v;
        deriv[k] = 2 * v;
      } else {
        z[k] = 0;
        deriv[k] = 0;
      }
    }
  }
}

/** A dense layer's operands in the kernel's memory (layers after the first). */
interface DenseBlocks {
  weightT: F64Block; // W_lᵀ [in, out], for the forward pass
  weight: F64Block; // W_l [out, in], for ∂A_{l−1} = ∂Z_l W_l
  dzT: F64Block; // ∂Z_lᵀ [out, n], for ∂W_l = ∂Z_lᵀ A_{l−1}
  grad: F64Block; // ∂W_l [out, in]
}

export class F64Engine implements Engine {
  readonly name = 'f64-cpu';
  private readonly x: SparseInput;
  private readonly labels: Int32Array;
  private readonly numClasses: number;
  private readonly shapes: LayerShape[];
  private readonly activation: Activation;
  private readonly n: number;
  /**
   * Every product runs in the WebAssembly kernel, on operands kept in its memory: the sparse
   * views of X, the layers' work buffers and copies of the weights, all allocated once.
   */
  private readonly arena: KernelArena;
  private readonly xRows: { start: I32Block; index: I32Block; value: F64Block }; // X by rows (CSR)
  private readonly xCols: { start: I32Block; index: I32Block; value: F64Block }; // X by columns (CSC)
  private readonly firstW: F64Block; // W_1 [m, d], copied in
  private readonly firstT: F64Block; // W_1ᵀ [d, m]
  private readonly firstGradT: F64Block; // ∂W_1ᵀ [d, m]
  private readonly activePixels: I32Block; // SparseInput.activePixels
  private readonly dense: (DenseBlocks | null)[]; // [l] for l ≥ 1
  /** acts[l] = Z_{l+1}, then σ(Z_{l+1}) in place [n, out]; dOut[l] = ∂Z_{l+1} [n, out]; logits [n, C]. */
  private readonly acts: F64Block[];
  private readonly dOut: F64Block[];
  private readonly logits: F64Block;
  /** 0, 1, 2, …: the term indices of a dense product (KernelArena.rowCombine). */
  private readonly iota: I32Block;
  private readonly derivs: Float64Array[]; // σ'(Z_l) [n, out]
  /** The normalized gradient handed out, per layer [out, in] (grad[l] = gradOut[l].view). */
  private readonly gradOut: F64Block[];
  private readonly grad: Params;

  constructor(data: Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>, shapes: LayerShape[], activation: Activation) {
    if (shapes[0]!.in !== data.d) throw new Error(`first layer expects ${shapes[0]!.in} inputs, data has ${data.d}`);
    if (shapes.length < 2) throw new Error(`the model needs depth ≥ 2, got ${shapes.length}`);
    this.x = toSparse(data.X, data.n, data.d);
    this.labels = data.y;
    this.numClasses = data.numClasses;
    this.shapes = shapes;
    this.activation = activation;
    const n = data.n;
    const d = data.d;
    const m = shapes[0]!.out;
    const L = shapes.length;
    const nnz = this.x.rowVal.length;
    const later = shapes.slice(1);
    const longest = Math.max(n, ...shapes.map((s) => Math.max(s.in, s.out)));
    const arena = new KernelArena(
      KernelArena.bytesFor(
        [
          ...[nnz, nnz, d * m, d * m, d * m],
          ...shapes.map((s) => 2 * n * s.out + s.in * s.out), // acts (logits for the last), dOut, gradOut
          ...later.map((s) => 3 * s.in * s.out + s.out * n),
        ],
        [n + 1, nnz, d + 1, nnz, longest, this.x.activePixels.length],
      ),
    );
    const filled = <B extends F64Block | I32Block>(block: B, from: ArrayLike<number>): B => (block.view.set(from), block);
    this.arena = arena;
    this.xRows = { start: filled(arena.i32(n + 1), this.x.rowStart), index: filled(arena.i32(nnz), this.x.rowCol), value: filled(arena.f64(nnz), this.x.rowVal) };
    this.xCols = { start: filled(arena.i32(d + 1), this.x.colStart), index: filled(arena.i32(nnz), this.x.colRow), value: filled(arena.f64(nnz), this.x.colVal) };
    this.firstW = arena.f64(m * d);
    this.firstT = arena.f64(d * m);
    this.firstGradT = arena.f64(d * m);
    this.activePixels = filled(arena.i32(this.x.activePixels.length), this.x.activePixels);
    this.acts = shapes.slice(0, L - 1).map((s) => arena.f64(n * s.out));
    this.logits = arena.f64(n * shapes[L - 1]!.out);
    this.dOut = shapes.map((s) => arena.f64(n * s.out));
    this.dense = shapes.map((s, l) =>
      l === 0 ? null : { weightT: arena.f64(s.in * s.out), weight: arena.f64(s.out * s.in), dzT: arena.f64(s.out * n), grad: arena.f64(s.out * s.in) },
    );
    this.iota = arena.i32(longest);
    for (let j = 0; j < longest; j++) this.iota.view[j] = j;
    this.n = n;
    this.derivs = shapes.slice(0, L - 1).map((s) => new Float64Array(n * s.out));
    // Zero-filled: the first layer's columns of pixels that are 0 in every sample are never written.
    this.gradOut = shapes.map((s) => arena.f64(s.out * s.in));
    for (const g of this.gradOut) g.view.fill(0);
    this.grad = this.gradOut.map((g) => g.view);
  }

  /** The returned arrays belong to the engine and are overwritten by the next call. */
  evaluate(params: Params, wantGrad: boolean): Evaluation {
    const { arena, iota, shapes, n } = this;
    const L = shapes.length;
    this.forwardFirst(params[0]!);
    for (let l = 1; l < L; l++) {
      const s = shapes[l]!;
      const layer = this.dense[l]!;
      activateInPlace(this.acts[l - 1]!.view, this.derivs[l - 1]!, this.activation);
      transposeInto(params[l]!, s.out, s.in, layer.weightT.view);
      // Z_{l+1} = A_l W_lᵀ: each row is Σ_j A_l[i, j] W_lᵀ[j, :]
      arena.rowCombine(l === L - 1 ? this.logits : this.acts[l]!, s.out, layer.weightT, this.acts[l - 1]!, iota, null, n, s.in);
    }
    const logits = this.logits.view;
    const dLogits = wantGrad ? this.dOut[L - 1]!.view : null;
    // One output: the binary task (labels ±1, logistic loss); otherwise softmax cross-entropy.
    const loss =
      this.numClasses === 1
        ? logisticLogDomain(logits, this.labels, dLogits)
        : crossEntropyLogDomain(logits, this.labels, this.numClasses, dLogits);
    const result: Evaluation = { logits, logLoss: loss.logLoss, margins: loss.margins, grad: null, gradLogScale: loss.gradLogScale };
    if (!wantGrad || loss.gradLogScale === -Infinity) return result;

    for (let l = L - 1; l >= 1; l--) {
      const s = shapes[l]!;
      const layer = this.dense[l]!;
      const dZ = this.dOut[l]!;
      // ∂W_l = ∂Z_lᵀ A_{l−1}: row k is Σ_i ∂Z_l[i, k] A_{l−1}[i, :]
      transposeInto(dZ.view, n, s.out, layer.dzT.view);
      arena.rowCombine(layer.grad, s.in, this.acts[l - 1]!, layer.dzT, iota, null, s.out, n);
      // ∂A_{l−1} = ∂Z_l W_l, then ∂Z_{l−1} = ∂A_{l−1} ⊙ σ'(Z_{l−1})
      layer.weight.view.set(params[l]!);
      const dPrev = this.dOut[l - 1]!;
      arena.rowCombine(dPrev, s.in, layer.weight, dZ, iota, null, n, s.out);
      const dp = dPrev.view;
      const deriv = this.derivs[l - 1]!;
      for (let k = 0; k < dp.length; k++) dp[k]! *= deriv[k]!;
    }
    // ∂W_1ᵀ = Xᵀ ∂Z_1, pixel by pixel over the samples where it is non-zero: ∂W_1ᵀ[p, :] = Σ_i x_ip ∂Z_1[i, :]
    arena.rowCombine(this.firstGradT, shapes[0]!.out, this.dOut[0]!, this.xCols.value, this.xCols.index, this.xCols.start, this.x.d);

    // Renormalize so that max|G| = 1 over all layers; the scale moves into the log.
    let maxAbs = arena.maxAbs(this.firstGradT);
    for (let l = 1; l < L; l++) maxAbs = Math.max(maxAbs, arena.maxAbs(this.dense[l]!.grad));
    if (maxAbs === 0) {
      result.gradLogScale = -Infinity;
      return result;
    }
    const inv = 1 / maxAbs;
    // grad[0] = ∂W_1 [m, d] from ∂W_1ᵀ, over the pixels that are non-zero somewhere
    arena.scatterColumns(this.gradOut[0]!, this.firstGradT, shapes[0]!.out, this.x.d, this.activePixels, inv);
    for (let l = 1; l < L; l++) arena.scaleInto(this.gradOut[l]!, this.dense[l]!.grad, inv);
    result.grad = this.grad;
    result.gradLogScale = loss.gradLogScale + Math.log(maxAbs);
    return result;
  }

  /** Z_1 = X W_1ᵀ over the non-zero pixels only: Z_1[i, :] = Σ_p x_ip W_1ᵀ[p, :]. W: [m, d]; into acts[0]. */
  private forwardFirst(W: Float64Array): void {
    const m = this.shapes[0]!.out;
    this.firstW.view.set(W);
    // Rows of pixels that are 0 in every sample are never read.
    this.arena.gatherColumns(this.firstT, this.firstW, m, this.x.d, this.activePixels);
    this.arena.rowCombine(this.acts[0]!, m, this.firstT, this.xRows.value, this.xRows.index, this.xRows.start, this.n);
  }
}

/** out = Aᵀ for A: [r, c] → out: [c, r]. */
function transposeInto(A: Float64Array, r: number, c: number, out: Float64Array): void {
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = A[i * c + j]!;
}

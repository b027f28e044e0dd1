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

export class F64Engine implements Engine {
  readonly name = 'f64-cpu';
  private readonly x: SparseInput;
  private readonly labels: Int32Array;
  private readonly numClasses: number;
  private readonly shapes: LayerShape[];
  private readonly activation: Activation;
  // Work buffers, reused across steps: acts[l] = σ(z_l) [n, out_l]; derivs[l] = σ'(z_l).
  // acts[0] and dOut[0] are views into the kernel arena.
  private readonly acts: Float64Array[];
  private readonly derivs: Float64Array[];
  private readonly dOut: Float64Array[];
  private readonly logits: Float64Array;
  private readonly grad: Params;
  /** The first layer's operands in the kernel's memory. */
  private readonly first: {
    arena: KernelArena;
    rowStart: I32Block; // X by rows (CSR)
    rowCol: I32Block;
    rowVal: F64Block;
    colStart: I32Block; // X by columns (CSC)
    colRow: I32Block;
    colVal: F64Block;
    weightT: F64Block; // W_1ᵀ [d, m]
    z: F64Block; // Z_1, then σ(Z_1) [n, m]
    dz: F64Block; // ∂Z_1 [n, m]
    gradT: F64Block; // ∂W_1ᵀ [d, m]
  };

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
    const arena = new KernelArena(KernelArena.bytesFor([nnz, nnz, d * m, n * m, n * m, d * m], [n + 1, nnz, d + 1, nnz]));
    const copy = <B extends F64Block | I32Block>(block: B, from: ArrayLike<number>): B => (block.view.set(from), block);
    this.first = {
      arena,
      rowStart: copy(arena.i32(n + 1), this.x.rowStart),
      rowCol: copy(arena.i32(nnz), this.x.rowCol),
      rowVal: copy(arena.f64(nnz), this.x.rowVal),
      colStart: copy(arena.i32(d + 1), this.x.colStart),
      colRow: copy(arena.i32(nnz), this.x.colRow),
      colVal: copy(arena.f64(nnz), this.x.colVal),
      weightT: arena.f64(d * m),
      z: arena.f64(n * m),
      dz: arena.f64(n * m),
      gradT: arena.f64(d * m),
    };
    this.acts = shapes.slice(0, L - 1).map((s, l) => (l === 0 ? this.first.z.view : new Float64Array(n * s.out)));
    this.derivs = shapes.slice(0, L - 1).map((s) => new Float64Array(n * s.out));
    this.dOut = shapes.map((s, l) => (l === 0 ? this.first.dz.view : new Float64Array(n * s.out)));
    this.logits = new Float64Array(n * shapes[L - 1]!.out);
    this.grad = shapes.map((s) => new Float64Array(s.out * s.in));
  }

  /** The returned arrays belong to the engine and are overwritten by the next call. */
  evaluate(params: Params, wantGrad: boolean): Evaluation {
    const L = this.shapes.length;
    const n = this.x.n;
    this.forwardFirst(params[0]!);
    for (let l = 1; l < L; l++) {
      activateInPlace(this.acts[l - 1]!, this.derivs[l - 1]!, this.activation);
      denseForward(this.acts[l - 1]!, params[l]!, this.shapes[l]!, n, l === L - 1 ? this.logits : this.acts[l]!);
    }
    const dLogits = wantGrad ? this.dOut[L - 1]! : null;
    // One output: the binary task (labels ±1, logistic loss); otherwise softmax cross-entropy.
    const loss =
      this.numClasses === 1
        ? logisticLogDomain(this.logits, this.labels, dLogits)
        : crossEntropyLogDomain(this.logits, this.labels, this.numClasses, dLogits);
    const result: Evaluation = {
      logits: this.logits,
      logLoss: loss.logLoss,
      margins: loss.margins,
      grad: null,
      gradLogScale: loss.gradLogScale,
    };
    if (!wantGrad || loss.gradLogScale === -Infinity) return result;

    const grad = this.grad;
    for (let l = 1; l < L; l++) grad[l]!.fill(0);
    for (let l = L - 1; l >= 1; l--) {
      const dZ = this.dOut[l]!;
      denseWeightGrad(dZ, this.acts[l - 1]!, this.shapes[l]!, n, grad[l]!);
      const dPrev = this.dOut[l - 1]!;
      denseBackwardInput(dZ, params[l]!, this.shapes[l]!, n, dPrev);
      const deriv = this.derivs[l - 1]!;
      for (let k = 0; k < dPrev.length; k++) dPrev[k]! *= deriv[k]!;
    }
    this.weightGradFirst(grad[0]!);

    // Renormalize so that max|G| = 1 over all layers; the scale moves into the log.
    let maxAbs = 0;
    for (const g of grad) for (let k = 0; k < g.length; k++) if (Math.abs(g[k]!) > maxAbs) maxAbs = Math.abs(g[k]!);
    if (maxAbs === 0) {
      result.gradLogScale = -Infinity;
      return result;
    }
    const inv = 1 / maxAbs;
    for (const g of grad) for (let k = 0; k < g.length; k++) g[k]! *= inv;
    result.grad = grad;
    result.gradLogScale = loss.gradLogScale + Math.log(maxAbs);
    return result;
  }

  /** Z_1 = X W_1ᵀ over the non-zero pixels only: Z_1[i, :] = Σ_p x_ip W_1ᵀ[p, :]. W: [m, d]; into acts[0]. */
  private forwardFirst(W: Float64Array): void {
    const { arena, rowStart, rowCol, rowVal, weightT, z } = this.first;
    const d = this.x.d;
    const m = this.shapes[0]!.out;
    const WT = weightT.view;
    // Rows of pixels that are 0 in every sample are never read.
    for (const p of this.x.activePixels) for (let k = 0; k < m; k++) WT[p * m + k] = W[k * d + p]!;
    arena.rowCombine(z, m, weightT, rowVal, rowCol, rowStart, this.x.n);
  }

  /** ∂W_1 = ∂Z_1ᵀ X, pixel by pixel over the samples where it is non-zero: ∂W_1ᵀ[p, :] = Σ_i x_ip ∂Z_1[i, :]. grad: [m, d]. */
  private weightGradFirst(grad: Float64Array): void {
    const { arena, colStart, colRow, colVal, dz, gradT } = this.first;
    const d = this.x.d;
    const m = this.shapes[0]!.out;
    arena.rowCombine(gradT, m, dz, colVal, colRow, colStart, d);
    const gT = gradT.view;
    // Pixels that are 0 in every sample keep the zero gradient the buffer was created with.
    for (const p of this.x.activePixels) for (let k = 0; k < m; k++) grad[k * d + p] = gT[p * m + k]!;
  }
}

/** out = A Wᵀ. A: [n, in]; W: [out, in]; out: [n, out]. */
function denseForward(A: Float64Array, W: Float64Array, s: LayerShape, n: number, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const a = i * s.in;
    for (let k = 0; k < s.out; k++) {
      const w = k * s.in;
      let acc = 0;
      for (let j = 0; j < s.in; j++) acc += A[a + j]! * W[w + j]!;
      out[i * s.out + k] = acc;
    }
  }
}

/** grad = dZᵀ A. dZ: [n, out]; A: [n, in]; grad: [out, in] (accumulated into zeros). */
function denseWeightGrad(dZ: Float64Array, A: Float64Array, s: LayerShape, n: number, grad: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const a = i * s.in;
    for (let k = 0; k < s.out; k++) {
      const c = dZ[i * s.out + k]!;
      if (c === 0) continue;
      const w = k * s.in;
      for (let j = 0; j < s.in; j++) grad[w + j]! += c * A[a + j]!;
    }
  }
}

/** dA = dZ W. dZ: [n, out]; W: [out, in]; dA: [n, in] (overwritten). */
function denseBackwardInput(dZ: Float64Array, W: Float64Array, s: LayerShape, n: number, dA: Float64Array): void {
  dA.fill(0);
  for (let i = 0; i < n; i++) {
    const a = i * s.in;
    for (let k = 0; k < s.out; k++) {
      const c = dZ[i * s.out + k]!;
      if (c === 0) continue;
      const w = k * s.in;
      for (let j = 0; j < s.in; j++) dA[a + j]! += c * W[w + j]!;
    }
  }
}

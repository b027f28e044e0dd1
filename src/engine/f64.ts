import type { Activation } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { activateInPlace, type LayerShape, type Params } from '../model/mlp.js';
import { dataSpan, type DataSpan } from '../numerics/dataSpan.js';
import { transposeInto } from '../numerics/linalg.js';
import { crossEntropyLogDomain, logisticLogDomain } from '../numerics/logLoss.js';
import { f64s, i32s, KernelArena, sparseRows, type Blocks } from '../numerics/wasm/kernels.js';
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

/**
 * Everything the engine keeps in the kernel's memory, declared once (KernelArena.create sizes the
 * arena from it): the sparse views of X, the first layer's work buffers, each dense layer's operands,
 * the activations and their gradients, and the normalized gradient handed out.
 */
function engineLayout(x: SparseInput, shapes: LayerShape[]) {
  const { n, d } = x;
  const m = shapes[0]!.out;
  const L = shapes.length;
  // The longest term list of a dense product: kd is a layer's input width (forward), n (∂W_l) or its output width (∂A_{l−1}).
  const longest = Math.max(n, ...shapes.map((s) => Math.max(s.in, s.out)));
  return {
    xRows: sparseRows({ start: x.rowStart, index: x.rowCol, value: x.rowVal }), // X by rows (CSR) [n, d]
    xCols: sparseRows({ start: x.colStart, index: x.colRow, value: x.colVal }), // Xᵀ by rows (X's CSC) [d, n]
    firstW: f64s(m * d), // W_1 [m, d], copied in
    firstT: f64s(d * m), // W_1ᵀ [d, m]
    firstGradT: f64s(d * m), // ∂W_1ᵀ [d, m]
    activePixels: i32s(x.activePixels.length), // SparseInput.activePixels
    /** acts[l] = Z_{l+1}, then σ(Z_{l+1}) in place [n, out]; logits [n, C]; dOut[l] = ∂Z_{l+1} [n, out]. */
    acts: shapes.slice(0, L - 1).map((s) => f64s(n * s.out)),
    logits: f64s(n * shapes[L - 1]!.out),
    dOut: shapes.map((s) => f64s(n * s.out)),
    /** A dense layer's operands (layers after the first). */
    dense: shapes.map((s, l) =>
      l === 0
        ? null
        : {
            weightT: f64s(s.in * s.out), // W_lᵀ [in, out], for the forward pass
            weight: f64s(s.out * s.in), // W_l [out, in], for ∂A_{l−1} = ∂Z_l W_l
            dzT: f64s(s.out * n), // ∂Z_lᵀ [out, n], for ∂W_l = ∂Z_lᵀ A_{l−1}
            grad: f64s(s.out * s.in), // ∂W_l [out, in]
          },
    ),
    /** 0, 1, 2, …: the term indices of a dense product (KernelArena.rowCombine). */
    iota: i32s(longest),
    /** The normalized gradient handed out, per layer [out, in]. */
    gradOut: shapes.map((s) => f64s(s.out * s.in)),
  };
}

export class F64Engine implements Engine {
  readonly name = 'f64-cpu';
  /** One θ per call: the evaluation's arrays live in the engine's one kernel memory. */
  readonly batchLimit = 1;
  private readonly x: SparseInput;
  private readonly labels: Int32Array;
  private readonly numClasses: number;
  private readonly shapes: LayerShape[];
  private readonly activation: Activation;
  private readonly n: number;
  /**
   * Every product runs in the WebAssembly kernel, on operands kept in its memory (engineLayout),
   * all allocated once.
   */
  private readonly arena: KernelArena;
  private readonly b: Blocks<ReturnType<typeof engineLayout>>;
  private readonly derivs: Float64Array[]; // σ'(Z_l) [n, out]
  private readonly grad: Params; // grad[l] = b.gradOut[l].view
  /** inDataSpan's answer once asked: undefined before. */
  private spanned: { engine: F64Engine; span: DataSpan } | null | undefined;

  constructor(
    private readonly data: Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>,
    shapes: LayerShape[],
    activation: Activation,
  ) {
    if (shapes[0]!.in !== data.d) throw new Error(`first layer expects ${shapes[0]!.in} inputs, data has ${data.d}`);
    if (shapes.length < 1) throw new Error('the model needs at least one layer');
    this.x = toSparse(data.X, data.n, data.d);
    this.labels = data.y;
    this.numClasses = data.numClasses;
    this.shapes = shapes;
    this.activation = activation;
    this.n = data.n;
    const { arena, blocks } = KernelArena.create(engineLayout(this.x, shapes));
    this.arena = arena;
    this.b = blocks;
    blocks.activePixels.view.set(this.x.activePixels);
    blocks.iota.view.forEach((_, j, iota) => (iota[j] = j));
    this.derivs = shapes.slice(0, -1).map((s) => new Float64Array(data.n * s.out));
    // Zero-filled (as blocks are): the first layer's columns of pixels that are 0 in every sample are never written.
    this.grad = blocks.gradOut.map((g) => g.view);
  }

  /**
   * Engine.inDataSpan: an F64Engine on the data X Q = Rᵀ [n, r] (a triangle, as sparse rows like X)
   * with the first layer [m, r]; null where the span would not pay (src/numerics/dataSpan.ts).
   */
  inDataSpan(): { engine: F64Engine; span: DataSpan } | null {
    if (this.spanned === undefined) {
      const { data, shapes } = this;
      const span = dataSpan(data.X, data.n, data.d);
      this.spanned = span && {
        engine: new F64Engine({ ...data, X: span.XQ, d: span.r }, [{ out: shapes[0]!.out, in: span.r }, ...shapes.slice(1)], this.activation),
        span,
      };
    }
    return this.spanned;
  }

  /** Engine.evaluate for one θ (batchLimit 1); the returned arrays are overwritten by the next call. */
  evaluate(sets: readonly Params[], wantGrad: boolean): Evaluation[] {
    if (sets.length !== 1) throw new Error(`${this.name} evaluates one parameter set per call, got ${sets.length}`);
    return [this.evaluateOne(sets[0]!, wantGrad)];
  }

  private evaluateOne(params: Params, wantGrad: boolean): Evaluation {
    const { arena, b, shapes, n } = this;
    const L = shapes.length;
    this.forwardFirst(params[0]!);
    for (let l = 1; l < L; l++) {
      const s = shapes[l]!;
      const layer = b.dense[l]!;
      activateInPlace(b.acts[l - 1]!.view, this.derivs[l - 1]!, this.activation);
      transposeInto(params[l]!, s.out, s.in, layer.weightT.view);
      // Z_{l+1} = A_l W_lᵀ: each row is Σ_j A_l[i, j] W_lᵀ[j, :]
      arena.rowCombine(l === L - 1 ? b.logits : b.acts[l]!, s.out, layer.weightT, b.acts[l - 1]!, b.iota, n, s.in);
    }
    const logits = b.logits.view;
    const dLogits = wantGrad ? b.dOut[L - 1]!.view : null;
    // One output: the binary task (labels ±1, logistic loss); otherwise softmax cross-entropy.
    const loss =
      this.numClasses === 1
        ? logisticLogDomain(logits, this.labels, dLogits)
        : crossEntropyLogDomain(logits, this.labels, this.numClasses, dLogits);
    const result: Evaluation = { logits, logLoss: loss.logLoss, margins: loss.margins, grad: null, gradLogScale: loss.gradLogScale };
    if (!wantGrad || loss.gradLogScale === -Infinity) return result;

    for (let l = L - 1; l >= 1; l--) {
      const s = shapes[l]!;
      const layer = b.dense[l]!;
      const dZ = b.dOut[l]!;
      // ∂W_l = ∂Z_lᵀ A_{l−1}: row k is Σ_i ∂Z_l[i, k] A_{l−1}[i, :]
      transposeInto(dZ.view, n, s.out, layer.dzT.view);
      arena.rowCombine(layer.grad, s.in, b.acts[l - 1]!, layer.dzT, b.iota, s.out, n);
      // ∂A_{l−1} = ∂Z_l W_l, then ∂Z_{l−1} = ∂A_{l−1} ⊙ σ'(Z_{l−1})
      layer.weight.view.set(params[l]!);
      const dPrev = b.dOut[l - 1]!;
      arena.rowCombine(dPrev, s.in, layer.weight, dZ, b.iota, n, s.out);
      const dp = dPrev.view;
      const deriv = this.derivs[l - 1]!;
      for (let k = 0; k < dp.length; k++) dp[k]! *= deriv[k]!;
    }
    // ∂W_1ᵀ = Xᵀ ∂Z_1, pixel by pixel over the samples where it is non-zero: ∂W_1ᵀ[p, :] = Σ_i x_ip ∂Z_1[i, :]
    arena.rowCombineSparse(b.firstGradT, shapes[0]!.out, b.dOut[0]!, b.xCols);

    // Renormalize so that max|G| = 1 over all layers; the scale moves into the log.
    let maxAbs = arena.maxAbs(b.firstGradT);
    for (let l = 1; l < L; l++) maxAbs = Math.max(maxAbs, arena.maxAbs(b.dense[l]!.grad));
    if (maxAbs === 0) {
      result.gradLogScale = -Infinity;
      return result;
    }
    const inv = 1 / maxAbs;
    // grad[0] = ∂W_1 [m, d] from ∂W_1ᵀ, over the pixels that are non-zero somewhere
    arena.scatterColumns(b.gradOut[0]!, b.firstGradT, shapes[0]!.out, this.x.d, b.activePixels, inv);
    for (let l = 1; l < L; l++) arena.scaleInto(b.gradOut[l]!, b.dense[l]!.grad, inv);
    result.grad = this.grad;
    result.gradLogScale = loss.gradLogScale + Math.log(maxAbs);
    return result;
  }

  /**
   * Z_1 = X W_1ᵀ over the non-zero pixels only: Z_1[i, :] = Σ_p x_ip W_1ᵀ[p, :]. W: [m, d]; into
   * acts[0], or into the logits when the first layer is the only one (the linear model).
   */
  private forwardFirst(W: Float64Array): void {
    const { b } = this;
    const m = this.shapes[0]!.out;
    b.firstW.view.set(W);
    // Rows of pixels that are 0 in every sample are never read.
    this.arena.gatherColumns(b.firstT, b.firstW, m, this.x.d, b.activePixels);
    this.arena.rowCombineSparse(this.shapes.length === 1 ? b.logits : b.acts[0]!, m, b.firstT, b.xRows);
  }
}

import type * as TF from '@tensorflow/tfjs-core';
import type { Activation } from '../../config/types.js';
import type { Dataset } from '../../data/dataset.js';
import type { LayerShape, Params } from '../../model/mlp.js';
import { crossEntropyLogDomain, logisticLogDomain } from '../../numerics/logLoss.js';
import type { Engine, Evaluation } from '../types.js';
import { BACKEND_INFO, type TfRuntime } from './backends.js';
import { DEVICE_POLAR_MIN_DIM, devicePolarFactor } from './polar.js';

/**
 * The TF.js engine (issue #8): the same Evaluation as the float64 engine, with the matrix work in
 * float32 on a TF.js backend and everything that needs range in float64 on the host.
 *
 * One evaluation:
 *   host   W̃_l = W_l / s_l with s_l = ‖W_l‖_∞→∞ (largest row ℓ1 norm), log s_l kept in float64
 *   device f̃ = W̃_L σ(… σ(W̃_1 x))                               (float32; |f̃| ≤ 1, see below)
 *   host   f = e^{Σ_l e_l log s_l} · f̃ in float64; loss, margins and the logit-gradient direction
 *          G_f (max|G_f| = 1, scale as a float64 log) in the log domain (SPEC §4, numerics/logLoss)
 *   device g̃_l = ∂⟨G_f, f̃⟩/∂W̃_l                                  (float32 backward pass)
 *   host   ∂L/∂W_l = e^{s_f + log K − log s_l} · g̃_l, renormalized to max|G| = 1 over all layers
 *
 * Why s_l is the ∞-operator norm: pixels lie in [0, 1], and a matrix with unit ∞-norm maps
 * |a| ≤ 1 to |z| ≤ 1, which ReLU and squared ReLU keep, so no float32 value of the forward pass
 * can overflow, however large θ grows. The exponent e_l is how f scales with layer l's weights:
 * 1 for ReLU, 2^{L−l} (l = 1…L) for squared ReLU, since each later σ squares it; Σ e_l = D.
 * dLogits underflowing to 0 in float32 (entries below ~1e-38 of the largest) is harmless: they are
 * that much below the gradient's largest term. What float32 does limit: margins and logits carry a
 * relative error ~1e-7 · |f|/q, and the gradient direction ~1e-6 relative (README "TF.js engine").
 */
export class TfjsEngine implements Engine {
  readonly name: string;
  /** webgpu in Node: no synchronous read-back (BACKEND_INFO.syncReadback). */
  readonly asyncOnly: boolean;
  private readonly tf: typeof TF;
  private readonly x: TF.Tensor2D; // [n, d]
  private readonly xT: TF.Tensor2D; // [d, n]
  private readonly labels: Int32Array;
  private readonly numClasses: number;
  private readonly n: number;
  private readonly shapes: LayerShape[];
  private readonly activation: Activation;
  /** e_l: f(…, c W_l, …) = c^{e_l} f(θ) for c > 0. */
  private readonly exponents: number[];
  private readonly logits: Float64Array;
  private readonly grad: Params;

  private readonly devicePolar: boolean;
  /** The TF.js backend this engine's tensors and kernels belong to. */
  private readonly tfName: string;

  /** options.devicePolar: compute large layers' polar factors on the device (polarFactor); off by default (the factory sets it per backend). */
  constructor(
    runtime: TfRuntime,
    data: Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>,
    shapes: LayerShape[],
    activation: Activation,
    options: { devicePolar?: boolean } = {},
  ) {
    if (shapes[0]!.in !== data.d) throw new Error(`first layer expects ${shapes[0]!.in} inputs, data has ${data.d}`);
    this.tf = runtime.tf;
    this.name = `tfjs-${runtime.backend}`;
    this.tfName = BACKEND_INFO[runtime.backend].tfName;
    this.asyncOnly = !BACKEND_INFO[runtime.backend].syncReadback;
    this.activate();
    this.x = this.tf.tensor2d(Float32Array.from(data.X), [data.n, data.d]);
    this.xT = this.tf.transpose(this.x);
    this.labels = data.y;
    this.numClasses = data.numClasses;
    this.n = data.n;
    this.shapes = shapes;
    this.activation = activation;
    this.devicePolar = options.devicePolar ?? false;
    const L = shapes.length;
    this.exponents = shapes.map((_, l) => (activation === 'relu' ? 1 : 2 ** (L - 1 - l)));
    this.logits = new Float64Array(data.n * shapes[L - 1]!.out);
    this.grad = shapes.map((s) => new Float64Array(s.out * s.in));
  }

  /** The returned arrays belong to the engine and are overwritten by the next call. */
  evaluate(params: Params, wantGrad: boolean): Evaluation {
    if (this.asyncOnly) throw new Error(`${this.name} reads results back only asynchronously: use evaluateAsync (trainRunAsync)`);
    const run = this.evaluation(params, wantGrad);
    let next = run.next();
    while (!next.done) next = run.next(next.value.map((t) => t.dataSync()));
    return next.value;
  }

  /** evaluate with `await tensor.data()` for every read-back: the same computation, for webgpu in Node. */
  async evaluateAsync(params: Params, wantGrad: boolean): Promise<Evaluation> {
    const run = this.evaluation(params, wantGrad);
    let next = run.next();
    while (!next.done) next = run.next(await Promise.all(next.value.map((t) => t.data())));
    return next.value;
  }

  /**
   * One evaluation, as a generator so that evaluate and evaluateAsync share it: it launches the
   * device work, yields the tensors it needs read back and takes their data back in the same order
   * (twice: the logits, then the weight gradients), and returns the Evaluation.
   */
  private *evaluation(params: Params, wantGrad: boolean): Generator<TF.Tensor[], Evaluation, ArrayLike<number>[]> {
    this.activate();
    const tf = this.tf;
    const L = this.shapes.length;
    // A layer of zeros needs no scaling (s_l = 1): it maps everything to 0.
    const logScales = params.map((w, l) => Math.log(infinityNorm(w, this.shapes[l]!) || 1));
    const logK = logScales.reduce((sum, s, l) => sum + this.exponents[l]! * s, 0);

    // Every matMul below is a plain A·B: the wasm backend's transposeA/transposeB path is ~10×
    // slower (7.6 ms against 0.66 ms for [100, 784]·[784, 50], measured). So W̃_lᵀ [in, out] goes up
    // for the forward pass and W̃_l [out, in] (hidden layers only) for the backward one, transposed
    // on the host in the same loop that scales them.
    const weightsT = params.map((w, l) => this.upload(w, this.shapes[l]!, Math.exp(-logScales[l]!), true));
    const weights = wantGrad ? params.map((w, l) => (l === 0 ? null : this.upload(w, this.shapes[l]!, Math.exp(-logScales[l]!), false))) : [];
    // Forward on the device, keeping z_l and a_l for the backward pass. [n, out_l] each.
    const { zs, acts } = tf.tidy(() => {
      const zs: TF.Tensor[] = [];
      const acts: TF.Tensor[] = [this.x];
      for (let l = 0; l < L; l++) {
        const z = tf.matMul(acts[l]!, weightsT[l]!);
        zs.push(z);
        if (l < L - 1) acts.push(this.activation === 'relu' ? tf.relu(z) : tf.square(tf.relu(z)));
      }
      return { zs, acts };
    });
    const [scaledLogits] = yield [zs[L - 1]!];
    this.activate(); // another engine may have run while this one waited for its read-back
    const K = Math.exp(logK);
    // f = K f̃. K itself can exceed the float64 range only past |f| ~ 1e308, where the loss is 0 anyway.
    for (let k = 0; k < this.logits.length; k++) this.logits[k] = scaledLogits[k]! * K;

    const dLogits = wantGrad ? new Float64Array(this.logits.length) : null;
    const loss =
      this.numClasses === 1
        ? logisticLogDomain(this.logits, this.labels, dLogits)
        : crossEntropyLogDomain(this.logits, this.labels, this.numClasses, dLogits);
    const result: Evaluation = { logits: this.logits, logLoss: loss.logLoss, margins: loss.margins, grad: null, gradLogScale: loss.gradLogScale };
    const uploaded = [...weightsT, ...weights.filter((w) => w !== null)];
    if (!wantGrad || loss.gradLogScale === -Infinity) {
      disposeAll(tf, uploaded, zs, acts.slice(1));
      return result;
    }

    // Backward on the device: the weight gradients g̃_lᵀ [in_l, out_l] of ⟨G_f, f̃⟩ w.r.t. W̃_l.
    const scaledGrads = tf.tidy(() => {
      const out: TF.Tensor[] = new Array(L);
      let dz: TF.Tensor = tf.tensor2d(Float32Array.from(dLogits!), [this.n, this.shapes[L - 1]!.out]);
      for (let l = L - 1; l >= 0; l--) {
        out[l] = tf.matMul(l === 0 ? this.xT : tf.transpose(acts[l]!), dz); // a_{l−1}ᵀ dz_l
        if (l === 0) break;
        const da = tf.matMul(dz, weights[l]!); // [n, in_l]
        const z = zs[l - 1]!;
        // σ'(z): ReLU 1[z > 0]; squared ReLU 2 max(0, z).
        dz = this.activation === 'relu' ? tf.mul(da, tf.step(z)) : tf.mul(da, tf.mul(tf.relu(z), 2));
      }
      return out;
    });
    const downloaded = yield scaledGrads;
    disposeAll(tf, uploaded, zs, acts.slice(1), scaledGrads);

    // ∂L/∂W_l = e^{s_f} · (K / s_l) · g̃_l: one float64 log-scale per layer, then one max over all.
    const layerLog = downloaded.map((g, l) => {
      const m = maxAbs(g);
      return m === 0 ? -Infinity : logK - logScales[l]! + Math.log(m);
    });
    const top = Math.max(...layerLog);
    if (top === -Infinity) {
      result.gradLogScale = -Infinity;
      return result;
    }
    downloaded.forEach((gT, l) => {
      const out = this.grad[l]!;
      if (layerLog[l] === -Infinity) {
        out.fill(0);
        return;
      }
      const factor = Math.exp(layerLog[l]! - top) / maxAbs(gT);
      const { out: rows, in: cols } = this.shapes[l]!;
      for (let j = 0; j < cols; j++) for (let k = 0; k < rows; k++) out[k * cols + j] = gT[j * rows + k]! * factor;
    });
    result.grad = this.grad;
    result.gradLogScale = loss.gradLogScale + top;
    return result;
  }

  /**
   * SPEC §6 on the device: the polar factor of a large layer's momentum by Newton–Schulz iteration
   * (src/engine/tfjs/polar.ts), or null (the exact host route) for a layer below
   * DEVICE_POLAR_MIN_DIM or when the engine was built without devicePolar.
   */
  polarFactor(M: Float64Array, r: number, c: number): Float64Array | null {
    if (!this.devicePolar || Math.min(r, c) < DEVICE_POLAR_MIN_DIM) return null;
    this.activate();
    return devicePolarFactor(this.tf, M, r, c).Q;
  }

  /**
   * TF.js runs every op on one global active backend. Engines of two backends can live in one
   * thread (the bench, the tests), so each makes its own active before it computes. Switching to a
   * backend that is already initialized happens synchronously inside tf.setBackend (its promise only
   * reports it), which loadBackend has ensured.
   */
  private activate(): void {
    if (this.tf.getBackend() === this.tfName) return;
    void this.tf.setBackend(this.tfName);
    if (this.tf.getBackend() !== this.tfName) throw new Error(`TF.js backend ${this.tfName} is not initialized`);
  }

  /** Frees the data held on the device; the engine is unusable afterwards. */
  dispose(): void {
    this.x.dispose();
    this.xT.dispose();
  }

  /** W · scale as float32 on the device, [out, in] or transposed to [in, out]. */
  private upload(W: Float64Array, s: LayerShape, scale: number, transposed: boolean): TF.Tensor2D {
    const out = new Float32Array(W.length);
    if (!transposed) for (let k = 0; k < W.length; k++) out[k] = W[k]! * scale;
    else for (let k = 0; k < s.out; k++) for (let j = 0; j < s.in; j++) out[j * s.out + k] = W[k * s.in + j]! * scale;
    return this.tf.tensor2d(out, transposed ? [s.in, s.out] : [s.out, s.in]);
  }
}

/** ‖W‖_∞→∞ = max_k Σ_j |W_kj| of W [out, in]: the scale that keeps float32 activations ≤ 1 (see TfjsEngine). */
export function infinityNorm(W: Float64Array, s: LayerShape): number {
  let best = 0;
  for (let k = 0; k < s.out; k++) {
    let sum = 0;
    for (let j = 0; j < s.in; j++) sum += Math.abs(W[k * s.in + j]!);
    if (sum > best) best = sum;
  }
  return best;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    const v = Math.abs(a[k]!);
    if (v > m) m = v;
  }
  return m;
}

function disposeAll(tf: typeof TF, ...groups: TF.Tensor[][]): void {
  for (const g of groups) tf.dispose(g);
}

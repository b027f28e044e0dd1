import type * as TF from '@tensorflow/tfjs-core';
import type { Activation } from '../../config/types.js';
import type { Dataset } from '../../data/dataset.js';
import type { LayerShape, Params } from '../../model/mlp.js';
import { crossEntropyLogDomain, logisticLogDomain } from '../../numerics/logLoss.js';
import type { Engine, Evaluation } from '../types.js';
import { BACKEND_INFO, type TfRuntime } from './backends.js';
import { DEVICE_POLAR_MIN_DIM, devicePolarFactor } from './polar.js';

/**
 * The TF.js engine (docs/engines.md): the same Evaluation as the float64 engine, with the matrix
 * work in float32 on a TF.js backend and everything that needs range in float64 on the host. One
 * call evaluates S parameter sets of the same shapes (the runs of a batch; S = 1 is the ordinary
 * case) as one device computation, so a small run pays one set of kernel launches per step for all
 * S:
 *   first layer  [n, d] · [d, S·m]          one matMul, the S weight matrices side by side
 *   other layers [S, n, in] · [S, in, out]  batched matMul
 * and the backward pass mirrors it (Xᵀ · [n, S·m] for the first layer's gradients).
 *
 * One evaluation of set s (docs/science.md §4):
 *   host   W̃_l = W_l / s_l with s_l = ‖W_l‖_∞→∞ (largest row ℓ1 norm), log s_l kept in float64
 *   device f̃ = W̃_L σ(… σ(W̃_1 x))                               (float32; |f̃| ≤ 1, see below)
 *   host   f = e^{Σ_l e_l log s_l} · f̃ in float64; loss, margins and the logit-gradient direction
 *          G_f (max|G_f| = 1, scale as a float64 log) in the log domain (src/numerics/logLoss.ts)
 *   device g̃_l = ∂⟨G_f, f̃⟩/∂W̃_l                                  (float32 backward pass)
 *   host   ∂L/∂W_l = e^{s_f + log K − log s_l} · g̃_l, renormalized to max|G| = 1 over all layers
 *
 * Why s_l is the ∞-operator norm: pixels lie in [0, 1], and a matrix with unit ∞-norm maps
 * |a| ≤ 1 to |z| ≤ 1, which ReLU and squared ReLU keep, so no float32 value of the forward pass
 * can overflow, however large θ grows. The exponent e_l is how f scales with layer l's weights:
 * 1 for ReLU, 2^{L−l} (l = 1…L) for squared ReLU, since each later σ squares it; Σ e_l = D.
 * dLogits underflowing to 0 in float32 (entries below ~1e-38 of the largest) is harmless: they are
 * that much below the gradient's largest term. What float32 does limit: margins and logits carry a
 * relative error ~1e-7 · |f|/q, and the gradient direction ~1e-6 relative (docs/engines.md).
 *
 * Read-back is synchronous (dataSync) where the backend allows it and asynchronous (data(), a
 * promise) where it does not (webgpu in Node): one generator holds the computation, and the two
 * ways of driving it differ only in how they read the tensors it yields.
 */
export class TfjsEngine implements Engine {
  readonly name: string;
  /** Any number of sets per call: they are stacked into one computation. */
  readonly batchLimit = Number.POSITIVE_INFINITY;
  private readonly tf: typeof TF;
  private readonly syncReadback: boolean;
  private readonly x: TF.Tensor2D; // [n, d]
  private readonly xT: TF.Tensor2D; // [d, n]
  private readonly data: Pick<Dataset, 'y' | 'n' | 'd' | 'numClasses'>;
  private readonly shapes: LayerShape[];
  private readonly activation: Activation;
  /** e_l: f(…, c W_l, …) = c^{e_l} f(θ) for c > 0. */
  private readonly exponents: number[];
  private readonly devicePolar: boolean;
  /** The TF.js backend this engine's tensors and kernels belong to. */
  private readonly tfName: string;

  /**
   * options.devicePolar: compute large layers' polar factors on the device (polarFactor); off by
   * default (the factory sets it per backend). options.asyncReadback: read back with data() even
   * where the backend could read synchronously (the webgpu path, exercised on wasm by the tests).
   */
  constructor(
    runtime: TfRuntime,
    data: Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>,
    shapes: LayerShape[],
    activation: Activation,
    options: { devicePolar?: boolean; asyncReadback?: boolean } = {},
  ) {
    if (shapes[0]!.in !== data.d) throw new Error(`first layer expects ${shapes[0]!.in} inputs, data has ${data.d}`);
    this.tf = runtime.tf;
    this.name = `tfjs-${runtime.backend}`;
    this.tfName = BACKEND_INFO[runtime.backend].tfName;
    this.syncReadback = BACKEND_INFO[runtime.backend].syncReadback && !options.asyncReadback;
    this.activate();
    this.x = this.tf.tensor2d(Float32Array.from(data.X), [data.n, data.d]);
    this.xT = this.tf.transpose(this.x);
    this.data = { y: data.y, n: data.n, d: data.d, numClasses: data.numClasses };
    this.shapes = shapes;
    this.activation = activation;
    this.devicePolar = options.devicePolar ?? false;
    const L = shapes.length;
    this.exponents = shapes.map((_, l) => (activation === 'relu' ? 1 : 2 ** (L - 1 - l)));
  }

  /** Engine.evaluate: every set in one device computation; each evaluation owns its arrays. */
  evaluate(sets: readonly Params[], wantGrad: boolean): Evaluation[] | Promise<Evaluation[]> {
    const run = this.evaluation(sets, wantGrad);
    if (this.syncReadback) {
      let next = run.next();
      while (!next.done) next = run.next(next.value.map((t) => t.dataSync()));
      return next.value;
    }
    return (async () => {
      let next = run.next();
      while (!next.done) next = run.next(await Promise.all(next.value.map((t) => t.data())));
      return next.value;
    })();
  }

  /**
   * The computation, as a generator: it launches the device work, yields the tensors it needs read
   * back and takes their data back in the same order (twice: the logits, then the weight
   * gradients), and returns the evaluations.
   */
  private *evaluation(sets: readonly Params[], wantGrad: boolean): Generator<TF.Tensor[], Evaluation[], ArrayLike<number>[]> {
    this.activate();
    const tf = this.tf;
    const S = sets.length;
    const L = this.shapes.length;
    const { n, d, numClasses } = this.data;
    const m0 = this.shapes[0]!.out;
    const C = this.shapes[L - 1]!.out;
    // A layer of zeros needs no scaling (s_l = 1): it maps everything to 0.
    const logScales = sets.map((params) => params.map((w, l) => Math.log(infinityNorm(w, this.shapes[l]!) || 1)));
    const logK = logScales.map((ls) => ls.reduce((sum, v, l) => sum + this.exponents[l]! * v, 0));

    // Every matMul below is a plain A·B: the wasm backend's transposeA/transposeB path is several
    // times slower. So W̃_lᵀ goes up for the forward pass and W̃_l (hidden layers only) for the
    // backward one, transposed on the host in the same loop that scales them.
    const first = new Float32Array(d * S * m0); // W̃_1ᵀ of every set side by side [d, S·m]
    sets.forEach((params, s) => {
      const W = params[0]!;
      const scale = Math.exp(-logScales[s]![0]!);
      for (let k = 0; k < m0; k++) for (let j = 0; j < d; j++) first[j * S * m0 + s * m0 + k] = W[k * d + j]! * scale;
    });
    const w1T = tf.tensor2d(first, [d, S * m0]);
    const stacked = (l: number, transposed: boolean): TF.Tensor3D => {
      const { out, in: inn } = this.shapes[l]!;
      const buf = new Float32Array(S * out * inn);
      sets.forEach((params, s) => {
        const W = params[l]!;
        const scale = Math.exp(-logScales[s]![l]!);
        const o = s * out * inn;
        if (transposed) for (let k = 0; k < out; k++) for (let j = 0; j < inn; j++) buf[o + j * out + k] = W[k * inn + j]! * scale;
        else for (let k = 0; k < out * inn; k++) buf[o + k] = W[k]! * scale;
      });
      return tf.tensor3d(buf, transposed ? [S, inn, out] : [S, out, inn]);
    };
    const wT = this.shapes.map((_, l) => (l === 0 ? null : stacked(l, true))); // [S, in, out]
    const w = wantGrad ? this.shapes.map((_, l) => (l === 0 ? null : stacked(l, false))) : []; // [S, out, in]
    const uploaded = [w1T, ...wT, ...w].filter((t) => t !== null) as TF.Tensor[];

    const sigma = (z: TF.Tensor) => (this.activation === 'relu' ? tf.relu(z) : tf.square(tf.relu(z)));
    const { zs, acts } = tf.tidy(() => {
      const zs: TF.Tensor[] = []; // [S, n, out_l]
      const acts: TF.Tensor[] = []; // acts[l] = σ(z_l), [S, n, out_l]
      zs.push(tf.transpose(tf.reshape(tf.matMul(this.x, w1T), [n, S, m0]), [1, 0, 2]));
      for (let l = 1; l < L; l++) {
        acts.push(sigma(zs[l - 1]!));
        zs.push(tf.matMul(acts[l - 1]!, wT[l]!));
      }
      return { zs, acts };
    });
    const [scaled] = yield [zs[L - 1]!]; // [S, n, C]
    this.activate(); // another engine may have run while this one waited for its read-back

    const results: Evaluation[] = [];
    const dLogits = new Float32Array(S * n * C);
    sets.forEach((_, s) => {
      const logits = new Float64Array(n * C);
      // f = K f̃. K itself can exceed the float64 range only past |f| ~ 1e308, where the loss is 0 anyway.
      const K = Math.exp(logK[s]!);
      for (let k = 0; k < n * C; k++) logits[k] = scaled![s * n * C + k]! * K;
      const g = wantGrad ? new Float64Array(n * C) : null;
      // One output: the binary task (labels ±1, logistic loss); otherwise softmax cross-entropy.
      const loss = numClasses === 1 ? logisticLogDomain(logits, this.data.y, g) : crossEntropyLogDomain(logits, this.data.y, numClasses, g);
      if (g && loss.gradLogScale !== -Infinity) dLogits.set(g, s * n * C);
      results.push({ logits, logLoss: loss.logLoss, margins: loss.margins, grad: null, gradLogScale: loss.gradLogScale });
    });
    if (!wantGrad || results.every((ev) => ev.gradLogScale === -Infinity)) {
      tf.dispose([...uploaded, ...zs, ...acts]);
      return results;
    }

    // Backward on the device: the weight gradients g̃_lᵀ of ⟨G_f, f̃⟩ w.r.t. W̃_l, every set at once.
    const grads = tf.tidy(() => {
      const out: TF.Tensor[] = new Array(L);
      let dz: TF.Tensor = tf.tensor3d(dLogits, [S, n, C]);
      for (let l = L - 1; l >= 1; l--) {
        out[l] = tf.matMul(tf.transpose(acts[l - 1]!, [0, 2, 1]), dz); // a_{l−1}ᵀ dz_l [S, in, out]
        const da = tf.matMul(dz, w[l]!); // [S, n, in]
        const z = zs[l - 1]!;
        // σ'(z): ReLU 1[z > 0]; squared ReLU 2 max(0, z).
        dz = this.activation === 'relu' ? tf.mul(da, tf.step(z)) : tf.mul(da, tf.mul(tf.relu(z), 2));
      }
      out[0] = tf.matMul(this.xT, tf.reshape(tf.transpose(dz, [1, 0, 2]), [n, S * m0])); // [d, S·m]
      return out;
    });
    const downloaded = yield grads;
    tf.dispose([...uploaded, ...zs, ...acts, ...grads]);

    results.forEach((ev, s) => {
      if (ev.gradLogScale === -Infinity) return;
      // g̃_lᵀ of set s, [in, out]: layer 0 is a column block of [d, S·m]; the others a slab of [S, in, out].
      const entry = (l: number, j: number, k: number) => {
        const { out, in: inn } = this.shapes[l]!;
        return l === 0 ? downloaded[0]![j * S * m0 + s * m0 + k]! : downloaded[l]![s * inn * out + j * out + k]!;
      };
      // ∂L/∂W_l = e^{s_f} · (K / s_l) · g̃_l: one float64 log-scale per layer, then one max over all.
      const layerMax = this.shapes.map((sh, l) => {
        let mx = 0;
        for (let j = 0; j < sh.in; j++) for (let k = 0; k < sh.out; k++) mx = Math.max(mx, Math.abs(entry(l, j, k)));
        return mx;
      });
      const layerLog = layerMax.map((mx, l) => (mx === 0 ? -Infinity : logK[s]! - logScales[s]![l]! + Math.log(mx)));
      const top = Math.max(...layerLog);
      if (top === -Infinity) {
        ev.gradLogScale = -Infinity;
        return;
      }
      ev.grad = this.shapes.map((sh, l) => {
        const G = new Float64Array(sh.out * sh.in);
        if (layerLog[l] === -Infinity) return G;
        const factor = Math.exp(layerLog[l]! - top) / layerMax[l]!;
        for (let j = 0; j < sh.in; j++) for (let k = 0; k < sh.out; k++) G[k * sh.in + j] = entry(l, j, k) * factor;
        return G;
      });
      ev.gradLogScale += top;
    });
    return results;
  }

  /**
   * docs/science.md §6 on the device: the polar factor of a large layer's momentum by Newton–Schulz
   * iteration (src/engine/tfjs/polar.ts), or null (the exact host route) for a layer below
   * DEVICE_POLAR_MIN_DIM, when the engine was built without devicePolar, or where the backend reads
   * back only asynchronously (the optimizer asks synchronously).
   */
  polarFactor(M: Float64Array, r: number, c: number): Float64Array | null {
    if (!this.devicePolar || !this.syncReadback || Math.min(r, c) < DEVICE_POLAR_MIN_DIM) return null;
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

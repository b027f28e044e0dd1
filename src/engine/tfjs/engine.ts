import type * as TF from '@tensorflow/tfjs-core';
import type { Activation } from '../../config/types.js';
import type { Dataset } from '../../data/dataset.js';
import type { LayerShape, Params } from '../../model/mlp.js';
import { crossEntropyLogDomain, logisticLogDomain } from '../../numerics/logLoss.js';
import type { Engine, Evaluation, HeldRuns } from '../types.js';
import { BACKEND_INFO, type TfRuntime } from './backends.js';
import { deviceConstants, disposeConstants, drive, Traffic, upload, type DeviceConstants, type DeviceWork } from './device.js';
import { DeviceRuns } from './deviceRuns.js';

/** What one forward and backward pass of a batch of parameter sets leaves (TfjsEngine.pass). */
export interface Pass {
  /**
   * Per set: its evaluation at θ, with `grad` null and `gradLogScale` the log-scale s_f of the logit
   * gradient direction G_f; null for a set not asked for.
   */
  evaluations: (Evaluation | null)[];
  /**
   * Per set and layer: ∂L/∂W_l = e^{layerLog[s][l]} · g̃_l, with g̃_l the float32 gradient below;
   * −∞ where the set's gradient is 0 (or it was not asked for).
   */
  layerLog: number[][];
  /** g̃_l [S, out, in] per layer, for the caller to dispose; null when no set has a gradient. */
  grads: TF.Tensor3D[] | null;
}

/**
 * The TF.js engine (docs/engines.md): the float64 engine's evaluation, with the matrix work in
 * float32 on a TF.js backend and everything that needs range in float64 on the host. One pass
 * evaluates S parameter sets of the same shapes (the runs of a batch; S = 1 is the ordinary case) as
 * one device computation, so a small net pays one set of kernel launches per step for all S:
 *   first layer  [n, d] · [d, S·m]          one matMul, the S weight matrices side by side
 *   other layers [S, n, in] · [S, in, out]  batched matMul
 * and the backward pass mirrors it ([S·m, n] · [n, d] for the first layer's gradients).
 *
 * One pass, for set s (docs/science.md §4):
 *   device W̃_l = W_l / s_l with s_l = ‖W_l‖_∞→∞ (largest row ℓ1 norm)
 *   device f̃ = W̃_L σ(… σ(W̃_1 x))                                (float32; |f̃| ≤ 1, see below)
 *   host   reads f̃ and the s_l; f = e^{Σ_l e_l log s_l} · f̃ in float64; loss, margins and the
 *          logit-gradient direction G_f (max|G_f| = 1, scale as a float64 log) in the log domain
 *          (src/numerics/logLoss.ts); sends G_f back
 *   device g̃_l = ∂⟨G_f, f̃⟩/∂W̃_l                                   (float32 backward pass)
 * and ∂L/∂W_l = e^{s_f + log K − log s_l} · g̃_l, the log factor in float64 on the host.
 *
 * Why s_l is the ∞-operator norm: pixels lie in [0, 1], and a matrix with unit ∞-norm maps
 * |a| ≤ 1 to |z| ≤ 1, which ReLU and squared ReLU keep, so no float32 value of the forward pass
 * can overflow, however large θ grows. The exponent e_l is how f scales with layer l's weights:
 * 1 for ReLU, 2^{L−l} (l = 1…L) for squared ReLU, since each later σ squares it; Σ e_l = D.
 * dLogits underflowing to 0 in float32 (entries below ~1e-38 of the largest) is harmless: they are
 * that much below the gradient's largest term. What float32 does limit: margins and logits carry a
 * relative error ~1e-7 · |f|/q, and the gradient direction ~1e-6 relative (docs/engines.md).
 *
 * Two ways in. `evaluate` takes host parameter sets (Engine.evaluate) and brings each gradient
 * back, renormalized on the host. `holdRuns` keeps whole runs on the device (src/engine/tfjs/
 * deviceRuns.ts): θ, the optimizer's buffers and the update stay there, and a training step moves
 * only the logits, G_f and a few scalars per run. Reading back is synchronous (dataSync) where the
 * backend allows it and asynchronous (data(), a promise) where it does not (webgpu in Node): every
 * device computation is a generator (src/engine/tfjs/device.ts), read either way.
 */
export class TfjsEngine implements Engine {
  readonly name: string;
  /** Any number of sets per call: they are stacked into one computation. */
  readonly batchLimit = Number.POSITIVE_INFINITY;
  readonly tf: typeof TF;
  /** Scalars the device code uses, made once (src/engine/tfjs/device.ts). */
  readonly k: DeviceConstants;
  readonly shapes: LayerShape[];
  private readonly syncReadback: boolean;
  private readonly x: TF.Tensor2D; // [n, d]
  private readonly data: Pick<Dataset, 'y' | 'n' | 'd' | 'numClasses'>;
  private readonly activation: Activation;
  /** e_l: f(…, c W_l, …) = c^{e_l} f(θ) for c > 0. */
  private readonly exponents: number[];
  /** The TF.js backend this engine's tensors and kernels belong to. */
  private readonly tfName: string;

  /**
   * options.asyncReadback: read back with data() even where the backend could read synchronously
   * (the webgpu path, exercised on wasm by the tests).
   */
  constructor(
    runtime: TfRuntime,
    data: Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>,
    shapes: LayerShape[],
    activation: Activation,
    options: { asyncReadback?: boolean } = {},
  ) {
    if (shapes[0]!.in !== data.d) throw new Error(`first layer expects ${shapes[0]!.in} inputs, data has ${data.d}`);
    this.tf = runtime.tf;
    this.name = `tfjs-${runtime.backend}`;
    this.tfName = BACKEND_INFO[runtime.backend].tfName;
    this.syncReadback = BACKEND_INFO[runtime.backend].syncReadback && !options.asyncReadback;
    this.activate();
    this.x = this.tf.tensor2d(Float32Array.from(data.X), [data.n, data.d]);
    this.k = deviceConstants(this.tf);
    this.data = { y: data.y, n: data.n, d: data.d, numClasses: data.numClasses };
    this.shapes = shapes;
    this.activation = activation;
    const L = shapes.length;
    this.exponents = shapes.map((_, l) => (activation === 'relu' ? 1 : 2 ** (L - 1 - l)));
  }

  /** Engine.evaluate: every set in one device computation; each evaluation owns its arrays. */
  evaluate(sets: readonly Params[], wantGrad: boolean): Evaluation[] | Promise<Evaluation[]> {
    const traffic = new Traffic();
    return this.run(this.evaluation(sets, wantGrad, traffic), traffic);
  }

  /** Engine.holdRuns: a batch of runs kept on this engine's device (src/engine/tfjs/deviceRuns.ts). */
  holdRuns(): HeldRuns {
    return new DeviceRuns(this);
  }

  /** Runs one of this engine's device computations to its end (src/engine/tfjs/device.ts), counting what it reads. */
  run<R>(work: DeviceWork<R>, traffic: Traffic): R | Promise<R> {
    this.activate();
    return drive(work, this.syncReadback, traffic, () => this.activate());
  }

  /** Host parameter sets up, one pass, each set's gradient down and renormalized to max|G| = 1 on the host. */
  private *evaluation(sets: readonly Params[], wantGrad: boolean, traffic: Traffic): DeviceWork<Evaluation[]> {
    const S = sets.length;
    const theta = this.shapes.map((sh, l) => {
      const buf = new Float32Array(S * sh.out * sh.in);
      sets.forEach((params, s) => buf.set(params[l]!, s * sh.out * sh.in));
      return upload<TF.Rank.R3>(this.tf, traffic, buf, [S, sh.out, sh.in]);
    });
    const pass = yield* this.pass(theta, sets.map(() => true), wantGrad, traffic);
    this.tf.dispose(theta);
    const results = pass.evaluations.map((ev) => ev!);
    if (!pass.grads) return results;
    const downloaded = yield pass.grads;
    this.tf.dispose(pass.grads);
    results.forEach((ev, s) => {
      if (ev.gradLogScale === -Infinity) return;
      // g̃_l of set s is the slab s of [S, out, in]; one float64 log-scale per layer, then one max over all.
      const slab = (l: number) => {
        const size = this.shapes[l]!.out * this.shapes[l]!.in;
        return { g: downloaded[l]!, o: s * size, size };
      };
      const layerMax = this.shapes.map((_, l) => {
        const { g, o, size } = slab(l);
        let mx = 0;
        for (let k = 0; k < size; k++) mx = Math.max(mx, Math.abs(g[o + k]!));
        return mx;
      });
      const layerLog = layerMax.map((mx, l) => (mx === 0 ? -Infinity : pass.layerLog[s]![l]! + Math.log(mx)));
      const top = Math.max(...layerLog);
      if (top === -Infinity) {
        ev.gradLogScale = -Infinity;
        return;
      }
      ev.grad = this.shapes.map((_, l) => {
        const { g, o, size } = slab(l);
        const G = new Float64Array(size);
        if (layerLog[l] === -Infinity) return G;
        const factor = Math.exp(layerLog[l]! - top) / layerMax[l]!;
        for (let k = 0; k < size; k++) G[k] = g[o + k]! * factor;
        return G;
      });
      ev.gradLogScale = top;
    });
    return results;
  }

  /**
   * One forward and backward pass of the S parameter sets θ_l [S, out, in] (device tensors, not
   * consumed; see the class comment): reads f̃ and the scales, computes the loss of every set with
   * use[s] on the host, sends G_f up (zero for the other sets) and, if wantGrad, leaves g̃_l on the
   * device.
   */
  *pass(theta: readonly TF.Tensor3D[], use: readonly boolean[], wantGrad: boolean, traffic: Traffic): DeviceWork<Pass> {
    const { tf, k } = this;
    const S = theta[0]!.shape[0];
    const L = this.shapes.length;
    const { n, d, numClasses } = this.data;
    const m0 = this.shapes[0]!.out;
    const C = this.shapes[L - 1]!.out;
    const { scales, scaled } = tf.tidy(() => {
      // s_l per set [S]; a layer of zeros needs no scaling (s_l = 1): it maps everything to 0.
      const scales = theta.map((w) => {
        const s = tf.max(tf.sum(tf.abs(w), 2), 1);
        return tf.add(s, tf.cast(tf.equal(s, k.zero), 'float32')) as TF.Tensor1D;
      });
      const scaled = theta.map((w, l) => tf.div(w, tf.reshape(scales[l]!, [S, 1, 1])) as TF.Tensor3D);
      return { scales, scaled };
    });
    const sigma = (z: TF.Tensor) => (this.activation === 'relu' ? tf.relu(z) : tf.square(tf.relu(z)));
    const { zs, acts, readout } = tf.tidy(() => {
      const zs: TF.Tensor3D[] = []; // [S, n, out_l]
      const acts: TF.Tensor3D[] = []; // acts[l] = σ(z_l), [S, n, out_l]
      // Every matMul is a plain A·B: the wasm backend's transposeA/transposeB path is several times slower.
      const w1T = tf.transpose(tf.reshape(scaled[0]!, [S * m0, d])); // [d, S·m]
      zs.push(tf.transpose(tf.reshape(tf.matMul(this.x, w1T), [n, S, m0]), [1, 0, 2]));
      for (let l = 1; l < L; l++) {
        acts.push(sigma(zs[l - 1]!) as TF.Tensor3D);
        zs.push(tf.matMul(acts[l - 1]!, tf.transpose(scaled[l]!, [0, 2, 1])));
      }
      // One read: f̃ [S, n, C], then s_l of every set, layer by layer.
      const readout = tf.concat([tf.reshape(zs[L - 1]!, [S * n * C]), ...scales]);
      return { zs, acts, readout };
    });
    const [both] = yield [readout];
    readout.dispose();
    const logScales = Array.from({ length: S }, (_, s) => this.shapes.map((_, l) => Math.log(both![S * n * C + l * S + s]!)));

    const evaluations: (Evaluation | null)[] = [];
    const layerLog: number[][] = [];
    const dLogits = new Float32Array(S * n * C);
    for (let s = 0; s < S; s++) {
      const logK = logScales[s]!.reduce((sum, v, l) => sum + this.exponents[l]! * v, 0);
      if (!use[s]) {
        evaluations.push(null);
        layerLog.push(this.shapes.map(() => -Infinity));
        continue;
      }
      const logits = new Float64Array(n * C);
      // f = K f̃. K itself can exceed the float64 range only past |f| ~ 1e308, where the loss is 0 anyway.
      const K = Math.exp(logK);
      for (let j = 0; j < n * C; j++) logits[j] = both![s * n * C + j]! * K;
      const g = wantGrad ? new Float64Array(n * C) : null;
      // One output: the binary task (labels ±1, logistic loss); otherwise softmax cross-entropy.
      const loss = numClasses === 1 ? logisticLogDomain(logits, this.data.y, g) : crossEntropyLogDomain(logits, this.data.y, numClasses, g);
      if (g && loss.gradLogScale !== -Infinity) dLogits.set(g, s * n * C);
      evaluations.push({ logits, logLoss: loss.logLoss, margins: loss.margins, grad: null, gradLogScale: loss.gradLogScale });
      layerLog.push(logScales[s]!.map((ls) => (loss.gradLogScale === -Infinity ? -Infinity : loss.gradLogScale + logK - ls)));
    }
    if (!wantGrad || evaluations.every((ev) => ev === null || ev.gradLogScale === -Infinity)) {
      tf.dispose([...scales, ...scaled, ...zs, ...acts]);
      return { evaluations, layerLog, grads: null };
    }

    // Backward on the device: g̃_l [S, out, in] of ⟨G_f, f̃⟩ w.r.t. W̃_l, every set at once.
    const grads = tf.tidy(() => {
      const out: TF.Tensor3D[] = new Array(L);
      let dz: TF.Tensor3D = upload<TF.Rank.R3>(tf, traffic, dLogits, [S, n, C]);
      for (let l = L - 1; l >= 1; l--) {
        out[l] = tf.matMul(tf.transpose(dz, [0, 2, 1]), acts[l - 1]!); // dz_lᵀ a_{l−1} [S, out, in]
        const da = tf.matMul(dz, scaled[l]!); // [S, n, in]
        const z = zs[l - 1]!;
        // σ'(z): ReLU 1[z > 0]; squared ReLU 2 max(0, z).
        dz = this.activation === 'relu' ? tf.mul(da, tf.step(z)) : tf.mul(da, tf.mul(tf.relu(z), k.two));
      }
      out[0] = tf.reshape(tf.matMul(tf.reshape(tf.transpose(dz, [0, 2, 1]), [S * m0, n]), this.x), [S, m0, d]); // dz_1ᵀ X
      return out;
    });
    tf.dispose([...scales, ...scaled, ...zs, ...acts]);
    return { evaluations, layerLog, grads };
  }

  /**
   * TF.js runs every op on one global active backend. Engines of two backends can live in one
   * thread (the bench, the tests), so each makes its own active before it computes. Switching to a
   * backend that is already initialized happens synchronously inside tf.setBackend (its promise only
   * reports it), which loadBackend has ensured.
   */
  activate(): void {
    if (this.tf.getBackend() === this.tfName) return;
    void this.tf.setBackend(this.tfName);
    if (this.tf.getBackend() !== this.tfName) throw new Error(`TF.js backend ${this.tfName} is not initialized`);
  }

  /** Frees the data held on the device; the engine is unusable afterwards. */
  dispose(): void {
    this.x.dispose();
    disposeConstants(this.k);
  }
}

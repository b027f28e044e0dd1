import type * as TF from '@tensorflow/tfjs-core';
import type { Activation } from '../../config/types.js';
import type { LayerShape, Params } from '../../model/mlp.js';
import { crossEntropyLogDomain, logisticLogDomain } from '../../numerics/logLoss.js';
import type { EngineData } from '../create.js';
import type { Evaluation } from '../types.js';
import { BACKEND_INFO, type TfRuntime } from './backends.js';
import { TfjsEngine, infinityNorm } from './engine.js';

/**
 * Batched seeds (issue #8, scope 4): S parameter sets of the same shapes and activation (the seeds
 * of one configuration, and optimizers alike) evaluated as one computation, so a small run pays one
 * set of kernel launches per step for all S instead of S. The numerics are those of TfjsEngine
 * (SPEC §4 there: per-set, per-layer ∞-norm scaling with float64 log-scales, the loss and dLogits in
 * the log domain on the host); only the matrix work is stacked:
 *   first layer  [n, d] · [d, S·m]          one matMul, the S weight matrices side by side
 *   other layers [S, n, in] · [S, in, out]  batched matMul
 * and the backward pass mirrors it (Xᵀ · [n, S·m] for the first layer's gradients).
 */
export class BatchedTfjsEngine {
  readonly name: string;
  private readonly tf: typeof TF;
  private readonly x: TF.Tensor2D; // [n, d]
  private readonly xT: TF.Tensor2D; // [d, n]
  private readonly data: EngineData;
  private readonly shapes: LayerShape[];
  private readonly activation: Activation;
  private readonly exponents: number[];
  private readonly tfName: string;
  /** For the polar factor of one run's layer (device route for large layers), as TfjsEngine. */
  private readonly single: TfjsEngine;

  constructor(runtime: TfRuntime, data: EngineData, shapes: LayerShape[], activation: Activation, options: { devicePolar?: boolean } = {}) {
    this.tf = runtime.tf;
    this.name = `tfjs-${runtime.backend}-batched`;
    this.tfName = BACKEND_INFO[runtime.backend].tfName;
    this.single = new TfjsEngine(runtime, { ...data, n: 1, X: data.X.subarray(0, data.d), y: data.y.subarray(0, 1) }, shapes, activation, options);
    this.x = this.tf.tensor2d(Float32Array.from(data.X), [data.n, data.d]);
    this.xT = this.tf.transpose(this.x);
    this.data = data;
    this.shapes = shapes;
    this.activation = activation;
    const L = shapes.length;
    this.exponents = shapes.map((_, l) => (activation === 'relu' ? 1 : 2 ** (L - 1 - l)));
  }

  /** SPEC §6 on the device for one large layer, or null (host route): see TfjsEngine.polarFactor. */
  polarFactor(M: Float64Array, r: number, c: number): Float64Array | null {
    return this.single.polarFactor(M, r, c);
  }

  /** SPEC §4, §5: loss, margins and log-scaled gradient of every parameter set, in order; each owns its arrays. */
  evaluateMany(paramSets: Params[], wantGrad: boolean): Evaluation[] {
    const tf = this.tf;
    if (tf.getBackend() !== this.tfName) void tf.setBackend(this.tfName);
    const S = paramSets.length;
    const L = this.shapes.length;
    const { n, d, numClasses } = this.data;
    const m0 = this.shapes[0]!.out;
    const C = this.shapes[L - 1]!.out;
    const logScales = paramSets.map((params) => params.map((w, l) => Math.log(infinityNorm(w, this.shapes[l]!) || 1)));
    const logK = logScales.map((ls) => ls.reduce((sum, v, l) => sum + this.exponents[l]! * v, 0));

    // Uploads: W̃_1ᵀ side by side [d, S·m]; W̃_lᵀ stacked [S, in, out]; W̃_l stacked [S, out, in] (backward).
    const first = new Float32Array(d * S * m0);
    paramSets.forEach((params, s) => {
      const W = params[0]!;
      const scale = Math.exp(-logScales[s]![0]!);
      for (let k = 0; k < m0; k++) for (let j = 0; j < d; j++) first[j * S * m0 + s * m0 + k] = W[k * d + j]! * scale;
    });
    const w1T = tf.tensor2d(first, [d, S * m0]);
    const stacked = (l: number, transposed: boolean): TF.Tensor3D => {
      const { out, in: inn } = this.shapes[l]!;
      const buf = new Float32Array(S * out * inn);
      paramSets.forEach((params, s) => {
        const W = params[l]!;
        const scale = Math.exp(-logScales[s]![l]!);
        const o = s * out * inn;
        if (transposed) for (let k = 0; k < out; k++) for (let j = 0; j < inn; j++) buf[o + j * out + k] = W[k * inn + j]! * scale;
        else for (let k = 0; k < out * inn; k++) buf[o + k] = W[k]! * scale;
      });
      return tf.tensor3d(buf, transposed ? [S, inn, out] : [S, out, inn]);
    };
    const wT = this.shapes.map((_, l) => (l === 0 ? null : stacked(l, true)));
    const w = wantGrad ? this.shapes.map((_, l) => (l === 0 ? null : stacked(l, false))) : [];
    const uploaded = [w1T, ...wT, ...w].filter((t) => t !== null) as TF.Tensor[];

    const sigma = (z: TF.Tensor) => (this.activation === 'relu' ? tf.relu(z) : tf.square(tf.relu(z)));
    const { zs, acts } = tf.tidy(() => {
      const zs: TF.Tensor[] = []; // [S, n, out_l]
      const acts: TF.Tensor[] = []; // acts[l] = σ(z_l), [S, n, out_l]
      const z0 = tf.transpose(tf.reshape(tf.matMul(this.x, w1T), [n, S, m0]), [1, 0, 2]);
      zs.push(z0);
      for (let l = 1; l < L; l++) {
        acts.push(sigma(zs[l - 1]!));
        zs.push(tf.matMul(acts[l - 1]!, wT[l]!));
      }
      return { zs, acts };
    });
    const scaled = zs[L - 1]!.dataSync(); // [S, n, C]

    const results: Evaluation[] = [];
    const dLogits = new Float32Array(S * n * C);
    paramSets.forEach((_, s) => {
      const logits = new Float64Array(n * C);
      const K = Math.exp(logK[s]!);
      for (let k = 0; k < n * C; k++) logits[k] = scaled[s * n * C + k]! * K;
      const g = wantGrad ? new Float64Array(n * C) : null;
      const loss = numClasses === 1 ? logisticLogDomain(logits, this.data.y, g) : crossEntropyLogDomain(logits, this.data.y, numClasses, g);
      if (g && loss.gradLogScale !== -Infinity) dLogits.set(g, s * n * C);
      results.push({ logits, logLoss: loss.logLoss, margins: loss.margins, grad: null, gradLogScale: loss.gradLogScale });
    });
    if (!wantGrad) {
      tf.dispose([...uploaded, ...zs, ...acts]);
      return results;
    }

    const grads = tf.tidy(() => {
      const out: TF.Tensor[] = new Array(L);
      let dz: TF.Tensor = tf.tensor3d(dLogits, [S, n, C]);
      for (let l = L - 1; l >= 1; l--) {
        out[l] = tf.matMul(tf.transpose(acts[l - 1]!, [0, 2, 1]), dz); // [S, in, out]
        const da = tf.matMul(dz, w[l]!); // [S, n, in]
        const z = zs[l - 1]!;
        dz = this.activation === 'relu' ? tf.mul(da, tf.step(z)) : tf.mul(da, tf.mul(tf.relu(z), 2));
      }
      out[0] = tf.matMul(this.xT, tf.reshape(tf.transpose(dz, [1, 0, 2]), [n, S * m0])); // [d, S·m]
      return out;
    });
    const downloaded = grads.map((g) => g.dataSync());
    tf.dispose([...uploaded, ...zs, ...acts, ...grads]);

    results.forEach((ev, s) => {
      if (ev.gradLogScale === -Infinity) return;
      // gT_l of set s, [in, out]: layer 0 is a column block of [d, S·m]; the others a slab of [S, in, out].
      const entry = (l: number, j: number, k: number) => {
        const { out, in: inn } = this.shapes[l]!;
        return l === 0 ? downloaded[0]![j * S * m0 + s * m0 + k]! : downloaded[l]![s * inn * out + j * out + k]!;
      };
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

  dispose(): void {
    this.x.dispose();
    this.xT.dispose();
    this.single.dispose();
  }
}

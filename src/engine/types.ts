import type { Params } from '../model/mlp.js';
import type { DataSpan } from '../numerics/dataSpan.js';

/**
 * What one engine evaluation returns at θ (docs/science.md §4, §5). The trainer, the optimizers and the
 * metrics only see this, so they do not know which engine ran.
 */
export interface Evaluation {
  /** Network outputs f(θ; x_i), [n, C] row-major. */
  logits: Float64Array;
  /** Natural log of the mean training loss, exact at any loss. */
  logLoss: number;
  /** Sample margins q_i (docs/science.md §5). */
  margins: Float64Array;
  /** Gradient direction G per layer, max|G| = 1 over all layers; the gradient is e^gradLogScale · G. */
  grad: Params | null;
  /** log-scale s of the gradient; −∞ when the gradient is exactly 0. */
  gradLogScale: number;
}

/**
 * An engine evaluates the network on the fixed training data. One interface for every engine and
 * every way of driving it: a call takes a batch of parameter sets of the engine's layer shapes (one
 * set is the ordinary case; a batch trains several runs in lockstep), and its result may come back
 * synchronously or as a promise (an engine whose device reads back only asynchronously: TF.js
 * webgpu in Node). The one training driver, trainRuns (src/train/train.ts), awaits it either way.
 */
export interface Engine {
  /** Human-readable identity for provenance (e.g. "f64-cpu", "tfjs-wasm"). */
  readonly name: string;
  /** The most parameter sets one evaluate call takes; the driver splits a larger batch. */
  readonly batchLimit: number;
  /**
   * Loss, margins and (if wantGrad) the log-scaled gradient at each θ in `sets`, in order. The
   * returned arrays belong to the engine and may be overwritten by its next call.
   */
  evaluate(sets: readonly Params[], wantGrad: boolean): Evaluation[] | Promise<Evaluation[]>;
  /**
   * docs/science.md §6: the polar factor U Vᵀ of M [r, c] computed by the engine (on its device),
   * or null where the host's exact route should be used. Optional; asked only with `polar: exact`.
   */
  polarFactor?(M: Float64Array, r: number, c: number): Float64Array | null;
  /**
   * The same network with its first layer in the data's row space (src/numerics/dataSpan.ts): an
   * engine of the same kind that takes layer 0 as K = W_1 Q [m, r] and evaluates it on X Q, and
   * the span. Optional; null where it would not pay. Built on the first call and kept; the trainer
   * asks for it for runs whose first-layer rule commutes with it (src/train/parametrization.ts).
   */
  inDataSpan?(): { engine: Engine; span: DataSpan } | null;
  /** Frees what the engine holds outside the JavaScript heap (device memory). Optional. */
  dispose?(): void;
}

import type { Params } from '../model/mlp.js';

/**
 * What one engine evaluation returns at θ (SPEC §4, §5). The trainer, the optimizers and the
 * metrics only see this, so they do not know which engine ran.
 */
export interface Evaluation {
  /** Network outputs f(θ; x_i), [n, C] row-major. */
  logits: Float64Array;
  /** Natural log of the mean training loss, exact at any loss. */
  logLoss: number;
  /** Sample margins q_i (SPEC §5). */
  margins: Float64Array;
  /** Gradient direction G per layer, max|G| = 1 over all layers; the gradient is e^gradLogScale · G. */
  grad: Params | null;
  /** log-scale s of the gradient; −∞ when the gradient is exactly 0. */
  gradLogScale: number;
}

export interface Engine {
  /** Human-readable identity for provenance (e.g. "f64-cpu"). */
  readonly name: string;
  /** Evaluate loss, margins and (if wantGrad) the log-scaled gradient at θ. */
  evaluate(params: Params, wantGrad: boolean): Evaluation;
  /**
   * The same evaluation, reading the device's results back asynchronously (the same computation as
   * evaluate). Optional; required when asyncOnly is set.
   */
  evaluateAsync?(params: Params, wantGrad: boolean): Promise<Evaluation>;
  /**
   * evaluate cannot be used: the device only reads results back asynchronously (TF.js webgpu in
   * Node, which has no OffscreenCanvas for a synchronous read). Drive it with trainRunAsync.
   */
  readonly asyncOnly?: boolean;
  /**
   * SPEC §6: the polar factor U Vᵀ of M [r, c] computed by the engine (on its device), or null
   * where the host's exact route should be used. Optional; the trainer asks only with `polar: exact`.
   */
  polarFactor?(M: Float64Array, r: number, c: number): Float64Array | null;
  /** Frees what the engine holds outside the JavaScript heap (device memory). Optional. */
  dispose?(): void;
}

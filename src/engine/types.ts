import type { Params } from '../model/mlp.js';
import type { OptimizerSettings } from '../optimizers/registry.js';
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
   * Optional: a new, empty batch of runs whose parameters and optimizer state this engine keeps on
   * its device (the TF.js engine, docs/engines.md). The trainer then hands the engine whole
   * training steps (HeldRuns.step) instead of parameter sets; without it, the runs live on the
   * host (HostRun, src/train/runState.ts) and the engine only evaluates.
   */
  holdRuns?(): HeldRuns;
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

/** What one training step of a run brings back (docs/science.md §6, §8). */
export interface StepOutcome {
  /** The evaluation at θ_t; `grad` may be null between log points where the engine holds the run. */
  ev: Evaluation;
  /** cos(m_t, g_t), the buffer of this step against its gradient; NaN unless the step is a log point. */
  cosMomentumGrad: number;
  /** ⟨G_t, D_t⟩ with G_t the max-normalized gradient (what the loss-based schedule reads); NaN unless asked. */
  gradDotDirection: number;
  /**
   * Where an engine holds the run and this step reached the loss level it was asked about
   * (StepRequest.logAtOrBelow): θ and the gradient direction G of the step before, which the engine
   * kept for this; absent otherwise.
   */
  before?: { params: Params; grad: Params | null; gradLogScale: number };
}

/** Bytes moved between the host and an engine's device per training step, averaged over the steps that are not log points. */
export interface TransferPerStep {
  down_bytes_per_step: number;
  up_bytes_per_step: number;
}

/**
 * A run's parameters θ and optimizer state, wherever they live: on the host (HostRun) or on an
 * engine's device (HeldRuns). The trainer sees only this.
 */
export interface RunState {
  /**
   * θ_t on the host: the live parameters of a host run; for a run an engine holds, the copy
   * brought back at this step's log point (reading it at any other step is an error).
   */
  readonly params: Params;
  /** docs/science.md §7: θ ← θ − η D(m_t), D from the last step (an engine may apply it at its next step). */
  descend(eta: number): void;
  /** Traffic per step for a run an engine holds; null for a host run. */
  transfer(): TransferPerStep | null;
}

/** One training step the trainer asks for: evaluate θ_t, then the optimizer step for g_t. */
export interface StepRequest {
  run: RunState;
  /** A log point: the host needs θ_t, the gradient direction G_t and cos(m_t, g_t). */
  logPoint: boolean;
  /** The schedule needs ⟨G_t, D_t⟩ (gradDotDirection). */
  descentRate: boolean;
  /**
   * A loss level still ahead of the run (docs/science.md §11.4): the step is a log point as well if
   * its log10 loss is at or below it. Where an engine holds the run, a step that is not a log point
   * then keeps θ_t and g_t on the device and brings back cos(m_t, g_t), so that it can be logged
   * once the next step reaches the level (StepOutcome.before).
   */
  logAtOrBelow?: number;
}

/**
 * Runs whose θ, momentum and second moment an engine keeps on its device, trained together in
 * lockstep: every step of every run of the batch is one device computation (Engine.holdRuns).
 */
export interface HeldRuns {
  /** A run starting from `init`, with its optimizer; every run joins before the batch's first step. */
  hold(settings: OptimizerSettings, init: Params): RunState;
  /**
   * One step of each requested run (runs of this batch): θ_t ← θ_{t−1} − η D where a descend is
   * pending, the evaluation at θ_t, and the optimizer step. A run that is not asked for is one
   * that has finished: its state stands still. A non-finite evaluation brings θ_t back to the host.
   */
  step(requests: readonly StepRequest[]): StepOutcome[] | Promise<StepOutcome[]>;
  /** Frees the batch's device memory. */
  dispose(): void;
}

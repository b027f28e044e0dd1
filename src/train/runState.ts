import type { Evaluation, RunState, StepOutcome, StepRequest } from '../engine/types.js';
import { innerProduct } from '../metrics/alignment.js';
import type { Params } from '../model/mlp.js';
import { Optimizer, type OptimizerSettings } from '../optimizers/registry.js';

/**
 * A run that lives on the host: θ as float64 arrays and the host Optimizer (its buffers in scaled
 * form, docs/science.md §4). The engine only evaluates θ; this takes the optimizer step.
 */
export class HostRun implements RunState {
  private readonly optimizer: Optimizer;
  private readonly zeroGrad: Params;
  /** θ_t, kept in the optimizer's memory (Optimizer.hold) and updated there in place. */
  readonly params: Params;

  /** `start`: θ_0 (in the coordinates the run trains in); copied. */
  constructor(settings: OptimizerSettings, start: Params) {
    this.optimizer = new Optimizer(settings);
    this.params = this.optimizer.hold(start);
    this.zeroGrad = settings.shapes.map((s) => new Float64Array(s.out * s.in));
  }

  /**
   * The optimizer step for the engine's evaluation at θ_t (docs/science.md §6). Skipped for a
   * non-finite evaluation: the run stops there, and a linear-algebra routine must not meet it.
   */
  step(ev: Evaluation, request: StepRequest): StepOutcome {
    if (!Number.isFinite(ev.logLoss) || Number.isNaN(ev.gradLogScale)) return { ev, cosMomentumGrad: NaN, gradDotDirection: NaN };
    const { direction, cosMomentumGrad } = this.optimizer.step(ev.grad ?? this.zeroGrad, ev.gradLogScale, request.logPoint);
    const gradDotDirection = request.descentRate && ev.grad ? innerProduct(ev.grad, direction) : NaN;
    return { ev, cosMomentumGrad, gradDotDirection };
  }

  descend(eta: number): void {
    this.optimizer.descend(this.params, eta);
  }

  transfer(): null {
    return null;
  }
}

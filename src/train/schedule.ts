import type { LrConfig } from '../config/types.js';

/** docs/science.md §7: η_t = η_0 / (t + 1)^a; t = 0 is the first update. */
export function learningRate(eta0: number, decay: number, t: number): number {
  return eta0 / (t + 1) ** decay;
}

/** The settings of `lr.schedule: loss_based` (see `LossBasedRate`). */
export interface LossBasedSettings {
  /** κ: the decrease of log L each update aims at, to first order, in nats. */
  natsPerStep: number;
  /** Loss level L_on: the polynomial rate applies while L > L_on. */
  below: number;
  /** Most that η may grow from one update to the next (η_t ≤ growth · η_{t−1}), > 1. */
  growth: number;
  /** Cap on η relative to η_0: η_t ≤ max · η_0. */
  max: number;
  /** Factor applied to η after an update that raised the loss, or when the step does not descend; in (0, 1). */
  backoff: number;
}

/**
 * log of the rate at which an update along D_t lowers log L, per unit of η:
 * −d log L(θ − η D)/dη at η = 0 = ⟨∇L, D⟩ / L = e^{s − log L} ⟨G, D⟩ (∇L = e^s G, docs/science.md §4).
 * Computed in the log domain, so it is exact where L and e^s underflow. NaN when ⟨G, D⟩ ≤ 0 (the
 * step does not descend: stale momentum) or there is no gradient.
 */
export function logDescentRate(gradLogScale: number, gDotD: number, logLoss: number): number {
  return gDotD > 0 && Number.isFinite(gradLogScale) ? gradLogScale + Math.log(gDotD) - logLoss : NaN;
}

/**
 * Loss-based learning rate (docs/science.md §7.1), in the spirit of Lyu & Li (2020), "Gradient Descent
 * Maximizes the Margin of Homogeneous Neural Networks", whose GD rate grows as the loss falls, like
 * 1/(L log(1/L)) (the form docs/science.md §7.1 names). Per update t, from the exact log-loss of θ_t and the update's own direction D_t:
 *
 *   L_t > below          η_t = η_0 / (t + 1)^a                                    (docs/science.md §7)
 *   otherwise            η_t = min(max · η_0, growth · η_{t−1}, κ L_t / ⟨∇L_t, D_t⟩)
 *   L_t > L_{t−1}, or ⟨∇L_t, D_t⟩ ≤ 0 (below only): η_t = backoff · η_{t−1}
 *
 * κ L / ⟨∇L, D⟩ is the step that lowers log L by κ nats to first order: progress measured in the
 * loss's own log scale, whatever the optimizer. Why this and not the literal 1/(L log(1/L)):
 * - Every optimizer here takes a unit step in its own norm, so η is a length, and 1/(L log(1/L))
 *   grows ×10^297 from L = 0.1 to 1e-300: taken literally (capped) it becomes a constant η that
 *   makes the smallest margins jump by many nats per step, and the direction never settles
 *   (measured: see docs/alignment.md).
 * - For GD (D = ∇L) on a 2-homogeneous network (depth-2 ReLU), ⟨∇L, D⟩ = ‖∇L‖² ≈ (2 L log(1/L)/‖θ‖)²
 *   with ‖θ‖² ∝ log(1/L), so κ L/‖∇L‖² ∝ 1/(L log(1/L)): Lyu & Li's scaling, recovered.
 * - For a unit-step optimizer, ⟨∇L, D⟩ ≈ D_hom L log(1/L)/N(θ), so η_t ≈ κ N(θ_t)/(D_hom log(1/L_t)):
 *   the relative step η/N falls like 1/log(1/L) ≈ 1/(κ t), as the theory wants (Σ = ∞, → 0), and
 *   log(1/L) grows linearly in t, where the polynomial schedule gives about t^{D_hom(1−a)}.
 * The safeguards: `below` keeps the early, not-yet-separable phase exactly docs/science.md §7; `growth` turns
 * the switch and any spike of 1/⟨∇L, D⟩ (momentum nearly orthogonal to the gradient) into a ramp;
 * `max` bounds a step by the first one; `backoff` reacts to overshoot as Lyu & Li's adaptive version
 * does, without undoing the step (they do).
 */
export class LossBasedRate {
  private prevEta = NaN;
  private prevLogLoss = NaN;
  private readonly logBelow: number;
  private readonly logMax: number;
  private readonly logKappa: number;

  constructor(
    private readonly eta0: number,
    private readonly decay: number,
    private readonly s: LossBasedSettings,
  ) {
    this.logBelow = Math.log(s.below);
    this.logMax = Math.log(s.max * eta0);
    this.logKappa = Math.log(s.natsPerStep);
  }

  /**
   * η_t for the update that leaves θ_t: logLoss = log L_t, logRate = logDescentRate(…) for that
   * update's direction. Call once per t, in order.
   */
  rate(t: number, logLoss: number, logRate: number): number {
    let eta: number;
    if (!(logLoss <= this.logBelow) || Number.isNaN(this.prevEta)) {
      eta = learningRate(this.eta0, this.decay, t);
    } else if (logLoss > this.prevLogLoss || Number.isNaN(logRate)) {
      eta = this.s.backoff * this.prevEta;
    } else {
      eta = Math.exp(Math.min(this.logMax, Math.log(this.s.growth * this.prevEta), this.logKappa - logRate));
    }
    this.prevEta = eta;
    this.prevLogLoss = logLoss;
    return eta;
  }
}

/** A learning-rate schedule: η_t from the update index, the exact log-loss and (if `usesDescentRate`) logDescentRate. */
export interface Schedule {
  /** Whether `rate` reads logRate; the trainer computes ⟨G, D_t⟩ only then. */
  readonly usesDescentRate: boolean;
  rate(t: number, logLoss: number, logRate: number): number;
}

/**
 * Adam's speed limit in nats of log L per update. Its step is m̂/√v̂, √v̂ an average of g² over the
 * last ~1/(1 − β2) updates. If every gradient entry shrinks by e^{−r} per update (the loss falling
 * r nats per update; ∇L scales with L), v_t = (1 − β2) g_t² Σ_k (β2 e^{2r})^k, which diverges for
 * r ≥ ½ log(1/β2): √v̂ then remembers much larger gradients than g_t and m̂/√v̂ → 0. So Adam cannot
 * lower log L faster than ½ log(1/β2) per update (0.0256 at β2 = 0.95) at a bounded η, and pushed
 * there (η pinned at its cap) its direction is no longer sign-like. Measured on docs/science.md §9 (README):
 * asked for κ = 0.05 ≈ 2× the limit, adam lost its ℓ∞ alignment (0.68 → 0.09, ReLU); at κ = 0.01
 * it kept it. `ADAM_SAFE_FRACTION` of the limit is the κ a schedule lets an Adam-type optimizer ask.
 */
export function adamSpeedLimit(beta2: number): number {
  return 0.5 * Math.log(1 / beta2);
}
export const ADAM_SAFE_FRACTION = 0.4;

/**
 * The schedule a config asks for (docs/science.md §7 `polynomial`, or `loss_based`, docs/science.md §7.1), given η_0.
 * `maxNatsPerStep` caps κ (the trainer passes ADAM_SAFE_FRACTION · adamSpeedLimit(β2) for
 * optimizers with Adam-type layers).
 */
export function makeSchedule(lr: Readonly<LrConfig>, eta0: number, maxNatsPerStep = Infinity): Schedule {
  switch (lr.schedule) {
    case 'polynomial':
      return { usesDescentRate: false, rate: (t) => learningRate(eta0, lr.decay, t) };
    case 'loss_based': {
      const r = new LossBasedRate(eta0, lr.decay, {
        natsPerStep: Math.min(lr.nats_per_step, maxNatsPerStep),
        below: lr.loss_below,
        growth: lr.max_growth,
        max: lr.max_factor,
        backoff: lr.backoff,
      });
      return { usesDescentRate: true, rate: (t, logLoss, logRate) => r.rate(t, logLoss, logRate) };
    }
  }
}

/**
 * docs/science.md §8: log points — about nLog steps on a geometric grid between 1 and T, plus 0 and T.
 * Rounding merges the first few grid points, so there can be fewer than nLog + 1 distinct steps.
 */
export function logSteps(steps: number, nLog: number): number[] {
  const out = new Set<number>([0, steps]);
  if (nLog === 1) out.add(1);
  for (let k = 0; k < nLog && nLog > 1; k++) out.add(Math.min(steps, Math.round(steps ** (k / (nLog - 1)))));
  return [...out].sort((a, b) => a - b);
}

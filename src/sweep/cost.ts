import type { Config, OptimizerName } from '../config/types.js';
import type { RunSpec } from '../train/train.js';

/**
 * Expected cost of one training step, in microseconds, on the SPEC §9 setup (100 digits,
 * 784-50-10, float64 engine, one core). Static on purpose: shards must come out the same on every
 * machine, so they cannot depend on timings taken there. Only the ratios matter (they balance
 * shards and weight the ETA). From `npm run bench` on a 2-core machine (README "Speed"), per
 * step inside a `--jobs 2` sweep, log points included: ngd, signum and Adam ≈ 0.75–0.8 ms, their
 * direction rules cheap next to the forward/backward pass; the Muon family 2.9–3.2 ms, for the
 * exact polar factor of each hidden layer.
 */
export const STEP_COST_US: Readonly<Record<OptimizerName, number>> = {
  ngd: 750,
  signum: 740,
  adam: 810,
  muon: 3180,
  muon_signum: 3130,
  muon_adam: 2920,
};

/** `polar: svd` runs an SVD of W_1's momentum every step (~9–11 ms against the Gram route's ~2 ms): a Muon step costs ~4× more. */
const SVD_FACTOR = 4;

/** Expected cost of a run, in the units of STEP_COST_US × steps (an integer, so sums are exact). */
export function runCost(config: Readonly<Config>, spec: RunSpec): number {
  const perStep = STEP_COST_US[spec.optimizer];
  const muonType = spec.optimizer.startsWith('muon');
  return config.train.steps * perStep * (muonType && config.train.polar === 'svd' ? SVD_FACTOR : 1);
}

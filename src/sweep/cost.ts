import type { Config, OptimizerName } from '../config/types.js';
import type { RunSpec } from '../train/train.js';

/**
 * Expected cost of one training step, in microseconds, on the SPEC §9 setup (100 digits,
 * 784-50-10, float64 engine, one core). Static on purpose: shards must come out the same on every
 * machine, so they cannot depend on timings taken there. Only the ratios matter (they balance
 * shards and weight the ETA). From per-step timings on a 2-core machine (issue #4): ngd, signum
 * and Adam ≈ 1.8 ms, their direction rules cheap next to the forward/backward pass; the Muon family
 * 4–5 ms, for the exact polar factor of each hidden layer.
 */
export const STEP_COST_US: Readonly<Record<OptimizerName, number>> = {
  ngd: 1800,
  signum: 1800,
  adam: 1900,
  muon: 4500,
  muon_signum: 4500,
  muon_adam: 4600,
};

/** `polar: svd` runs an SVD of W_1's momentum every step: ~12.6 ms against ~4.7 ms for a Gram-route Muon step. */
const SVD_FACTOR = 3;

/** Expected cost of a run, in the units of STEP_COST_US × steps (an integer, so sums are exact). */
export function runCost(config: Readonly<Config>, spec: RunSpec): number {
  const perStep = STEP_COST_US[spec.optimizer];
  const muonType = spec.optimizer.startsWith('muon');
  return config.train.steps * perStep * (muonType && config.train.polar === 'svd' ? SVD_FACTOR : 1);
}

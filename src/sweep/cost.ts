import type { Config, OptimizerName } from '../config/types.js';
import type { RunSpec } from '../results/runs.js';

/**
 * Expected cost of one training step, in microseconds, on the SPEC §9 setup (100 digits,
 * 784-50-10, float64 engine, one core). Static on purpose: shards must come out the same on every
 * machine, so they cannot depend on timings taken there. Only the ratios matter (they balance
 * shards and weight the ETA). From `npm run bench` on a 2-core machine (README "Speed"), per
 * step inside the whole 240-run grid at `--jobs 2`, log points included: ngd, signum and Adam
 * 0.69–0.77 ms, their direction rules cheap next to the forward/backward pass; the Muon family
 * 2.58–2.74 ms, for the exact polar factor of each hidden layer.
 */
export const STEP_COST_US: Readonly<Record<OptimizerName, number>> = {
  ngd: 720,
  signum: 690,
  adam: 770,
  muon: 2660,
  muon_signum: 2580,
  muon_adam: 2740,
};

/** `polar: svd` runs an SVD of W_1's momentum every step (~9 ms against the Gram route's ~1.8 ms): a Muon step costs ~4× more. */
const SVD_FACTOR = 4;

/** Expected cost of a run, in the units of STEP_COST_US × steps (an integer, so sums are exact). */
export function runCost(config: Readonly<Config>, spec: RunSpec): number {
  const perStep = STEP_COST_US[spec.optimizer];
  const muonType = spec.optimizer.startsWith('muon');
  return config.train.steps * perStep * (muonType && config.train.polar === 'svd' ? SVD_FACTOR : 1);
}

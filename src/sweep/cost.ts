import { OPTIMIZER_NAMES, type Config, type OptimizerName } from '../config/types.js';
import { runComposition } from '../metrics/normTable.js';
import type { RunSpec } from '../results/runs.js';

/**
 * Expected cost of one training step, in microseconds, on the docs/science.md §9 setup (100 digits,
 * 784-50-10, float64 engine, one core). Static on purpose: shards must come out the same on every
 * machine, so they cannot depend on timings taken there. Only the ratios matter (they balance
 * shards and weight the ETA). The figures are the per-step medians that `npm run bench` measured
 * inside the 240-run grid at `--jobs 2`, log points included (docs/performance.md): since the
 * first layer trains in the data's span (docs/science.md §6.4), the Muon family costs about what the
 * element-wise rules cost.
 */
export const STEP_COST_US: Readonly<Record<OptimizerName, number>> = {
  ngd: 269,
  signum: 510,
  adam: 713,
  muon: 568,
  muon_signum: 509,
  muon_adam: 650,
};

/** `polar: svd` runs an SVD of W_1's momentum every step instead of the Gram route's eigendecomposition: a Muon step costs about this many times more (docs/performance.md). */
const SVD_FACTOR = 4;

/** Expected cost of a run, in the units of STEP_COST_US × steps (an integer, so sums are exact). */
export function runCost(config: Readonly<Config>, spec: RunSpec): number {
  const preset = (OPTIMIZER_NAMES as readonly string[]).includes(spec.optimizer) ? (spec.optimizer as OptimizerName) : null;
  // A composed optimizer: a Muon step's cost where one of its rules factors a matrix, an element-wise one's otherwise.
  const factors = preset ? preset.startsWith('muon') : composedFactors(config, spec.optimizer);
  const perStep = preset ? STEP_COST_US[preset] : factors ? STEP_COST_US.muon : STEP_COST_US.signum;
  const muonType = factors;
  return config.train.steps * perStep * (muonType && config.train.polar === 'svd' ? SVD_FACTOR : 1);
}

/** Whether a composed optimizer's step factors a matrix (spectral or Schatten rule). */
function composedFactors(config: Readonly<Config>, name: string): boolean {
  return runComposition(config, name, config.model.depth).rules.some((r) => r.id === 'spectral' || r.id.startsWith('schatten'));
}

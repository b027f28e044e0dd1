import type { Config } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { F64_FACTORY, type EngineFactory } from '../engine/create.js';
import { initParams, shapesFor, type Params } from '../model/mlp.js';
import { trainRuns, type RunResult } from '../train/train.js';
import { runId, type RunSpec } from '../results/runs.js';
import { runCost } from './cost.js';

/**
 * Past this many (samples × hidden width) — 20× the docs/science.md §9 setup's 100 × 50 — a sweep can take
 * hours on the CPU engine, so it measures a short warm-up and says how long it expects to take
 * before it commits (full MNIST at width 2048 is ~18 G multiply-adds per step).
 */
export const ESTIMATE_ABOVE = 20 * 100 * 50;

export interface SweepEstimate {
  /** The run whose warm-up was timed. */
  measured: string;
  secondsPerStep: number;
  /** Expected wall time of all `runs` on `jobs` workers, scaled by the static cost table. */
  totalSeconds: number;
}

/**
 * Time `warmupSteps` training steps of the most expensive pending run and extrapolate to the
 * pending runs with the static per-optimizer cost ratios (src/sweep/cost.ts), divided over the
 * workers. The first step includes JIT warm-up, so this errs on the long side.
 */
export async function estimateSweep(
  config: Readonly<Config>,
  data: Dataset,
  init: Params | null,
  pending: RunSpec[],
  jobs: number,
  warmupSteps = 2,
  engines: EngineFactory = F64_FACTORY,
): Promise<SweepEstimate | null> {
  if (pending.length === 0) return null;
  const probe = pending.reduce((a, b) => (runCost(config, b) > runCost(config, a) ? b : a));
  const shapes = shapesFor(config.model, data);
  const short: Config = { ...config, train: { ...config.train, steps: warmupSteps, target_log10_loss: null }, log: { n_log: 1, at_log10_loss: [] } };
  const engine = engines.create(data, shapes, probe.activation);
  let result: RunResult | undefined;
  try {
    [result] = await trainRuns(short, [probe], engine, shapes, [init ?? initParams(shapes, config.model.init_scale, probe.seed)]);
  } finally {
    engine.dispose?.();
  }
  if (!result) return null;
  const secondsPerStep = (result.wallTimeS - result.logTimeS) / warmupSteps;
  const relative = pending.reduce((sum, spec) => sum + runCost(config, spec), 0) / runCost(config, probe);
  return { measured: runId(probe), secondsPerStep, totalSeconds: (secondsPerStep * relative * config.train.steps) / jobs };
}

/** "3 h 20 min", "12 min", "40 s". */
export function formatDuration(seconds: number): string {
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}

import { ACTIVATIONS, type Activation } from '../config/types.js';

/**
 * One run of a grid, and the names of its files in a results folder (docs/sweeps.md): the one
 * place that spells a run's id, parses it back, and lists the files and CSV columns a run writes.
 */

/** One cell of the grid: activation × optimizer × β × seed. */
export interface RunSpec {
  activation: Activation;
  /** A preset's name or a composed optimizer's own ([A-Za-z][A-Za-z0-9_]*). */
  optimizer: string;
  beta: number;
  seed: number;
}

/** File stem of a run: `<act>_<opt>_b<beta>_s<seed>`, e.g. `relu_muon_b0.9_s3`. */
export function runId(spec: RunSpec): string {
  return `${spec.activation}_${spec.optimizer}_b${spec.beta}_s${spec.seed}`;
}

// The optimizer part is greedy: a composed name may hold `_b…` itself; the last `_b<β>_s<seed>` ends the id.
const RUN_ID = new RegExp(`^(${ACTIVATIONS.join('|')})_([A-Za-z][A-Za-z0-9_]*)_b([0-9.e+-]+)_s(\\d+)$`);

/** runId's inverse: the spec of a file stem, or null when the stem is not a run id. */
export function parseRunId(stem: string): RunSpec | null {
  const m = RUN_ID.exec(stem);
  if (!m) return null;
  const beta = Number(m[3]);
  const seed = Number(m[4]);
  if (!Number.isFinite(beta) || !Number.isSafeInteger(seed)) return null;
  const spec: RunSpec = { activation: m[1] as Activation, optimizer: m[2]!, beta, seed };
  return runId(spec) === stem ? spec : null; // canonical spelling only (no `b0.90`)
}

/** The files a run may write, by id (the summary is written last). */
export function runFiles(id: string): { csv: string; json: string; initWeights: string; finalWeights: string } {
  return { csv: `${id}.csv`, json: `${id}.json`, initWeights: `${id}.init.weights.json`, finalWeights: `${id}.final.weights.json` };
}

/** `sweep.json`: what a results folder is meant to hold (src/results/sweepFile.ts). */
export const SWEEP_FILE = 'sweep.json';

/** docs/science.md §8: the columns of a run's CSV, in order. */
export const LOG_COLUMNS = [
  'step',
  'lr',
  'loss',
  'log10_loss',
  'train_acc',
  'qmin',
  'margin_l2',
  'margin_linf',
  'margin_spectral',
  'margin_hybrid',
  'cos_m_g',
  'cos_to_last',
  'norm_l2',
  'norm_linf',
  'norm_spectral',
  'norm_hybrid',
  // Appended later (older CSVs lack them): KKT alignment per norm and directional convergence (docs/science.md §8.2–§8.3)
  'align_l2',
  'align_linf',
  'align_spectral',
  'align_hybrid',
  'angle_prev',
  'norm_growth',
] as const;
export type LogColumn = (typeof LOG_COLUMNS)[number];
/** A log row: the fixed columns, and `margin_<name>`, `norm_<name>`, `align_<name>` of each extra logged norm (docs/science.md §12.6). */
export type LogRow = Record<LogColumn, number> & Record<string, number>;

/** Why and where a run stopped early. */
export interface RunFailure {
  step: number;
  reason: string;
}

/**
 * Why a run ended, and after how many updates: `target_loss` at the first step whose log10 loss is
 * at or below `train.target_log10_loss`, `steps` after `train.steps` updates (the target, if any,
 * not reached), `failure` at a non-finite loss or gradient.
 */
export interface RunStop {
  reason: 'target_loss' | 'steps' | 'failure';
  step: number;
}

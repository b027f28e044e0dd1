import { join } from 'node:path';
import { configHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { F64Engine } from '../engine/f64.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { writeCsvAtomic } from '../io/csv.js';
import { readWeights, writeWeights } from '../io/weights.js';
import { initParams, layerShapes, type LayerShape, type Params } from '../model/mlp.js';
import { gitCommit, versions } from '../provenance.js';
import { LOG_COLUMNS, runId, trainRun, type LogRow, type RunFailure, type RunSpec } from '../train/train.js';

/** SPEC §8: the JSON summary written beside each run's CSV. */
export interface RunSummary {
  id: string;
  run: RunSpec & { family: string };
  status: 'ok' | 'failed';
  failure: RunFailure | null;
  final: LogRow | null;
  steps_completed: number;
  eta0: number;
  own_norm_init: number;
  homogeneity_degree: number;
  data: { source: string; n: number; classes: number[]; indices: number[] };
  config: Readonly<Config>;
  config_hash: string;
  engine: string;
  wall_time_s: number;
  ms_per_step: number;
  started_at: string;
  finished_at: string;
  versions: Record<string, string | null>;
  git_commit: string | null;
  files: { csv: string; init_weights?: string; final_weights?: string };
}

export interface RunOptions {
  /** Initial weights (from train.init_from, already checked); otherwise the seeded init. */
  init?: Params | null;
  saveWeights?: boolean;
  onStep?: (done: number, total: number) => void;
}

/** Layer shapes of the config's model on this data (they do not depend on the activation). */
export function shapesFor(config: Readonly<Config>, data: Dataset): LayerShape[] {
  return layerShapes({
    inputDim: data.d,
    width: config.model.width,
    outputDim: data.numClasses,
    depth: config.model.depth,
    activation: 'relu',
  });
}

/**
 * Train one cell of the grid and write `<id>.csv` and `<id>.json` into outDir (atomically: a
 * reader never sees half a file). The summary is written last, so its presence means the run
 * finished. Returns the summary.
 */
export function executeRun(
  config: Readonly<Config>,
  spec: RunSpec,
  data: Dataset,
  outDir: string,
  options: RunOptions = {},
): RunSummary {
  const startedAt = new Date();
  const shapes = shapesFor(config, data);
  const init =
    options.init ??
    (config.train.init_from
      ? readWeights(config.train.init_from, shapes)
      : initParams(shapes, config.model.init_scale, spec.seed));
  const engine = new F64Engine(data, shapes, spec.activation);
  const result = trainRun(config, spec, engine, shapes, init, { onStep: options.onStep });

  const id = runId(spec);
  const files: RunSummary['files'] = { csv: `${id}.csv` };
  writeCsvAtomic(join(outDir, files.csv), LOG_COLUMNS, result.rows);
  if (options.saveWeights) {
    files.init_weights = `${id}.init.weights.json`;
    files.final_weights = `${id}.final.weights.json`;
    writeWeights(join(outDir, files.init_weights), result.initialParams, shapes);
    writeWeights(join(outDir, files.final_weights), result.finalParams, shapes);
  }
  const summary: RunSummary = {
    id,
    run: { ...spec, family: result.family },
    status: result.failure ? 'failed' : 'ok',
    failure: result.failure,
    final: result.rows[result.rows.length - 1] ?? null,
    steps_completed: result.stepsCompleted,
    eta0: result.eta0,
    own_norm_init: result.ownNormInit,
    homogeneity_degree: result.degree,
    data: { source: data.source, n: data.n, classes: data.classes, indices: data.indices },
    config,
    config_hash: configHash(config),
    engine: engine.name,
    wall_time_s: result.wallTimeS,
    ms_per_step: (result.wallTimeS * 1000) / Math.max(1, result.stepsCompleted),
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    versions: versions(),
    git_commit: gitCommit(),
    files,
  };
  writeJsonAtomic(join(outDir, `${id}.json`), summary);
  return summary;
}

import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { configHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { F64_FACTORY, type EngineFactory } from '../engine/create.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { writeCsvAtomic } from '../io/csv.js';
import { readWeights, writeWeights } from '../io/weights.js';
import { homogeneityDegree, initParams, shapesFor, type LayerShape, type Params } from '../model/mlp.js';
import { OPTIMIZERS } from '../optimizers/families.js';
import { gitCommit, versions } from '../provenance.js';
import { batchActivation, trainRunsBatched } from '../train/batched.js';
import { LOG_COLUMNS, runId, trainRun, trainRunAsync, type LogRow, type RunFailure, type RunResult, type RunSpec } from '../train/train.js';
import { runHash } from './runHash.js';

/** SPEC §8: the JSON summary written beside each run's CSV. */
export interface RunSummary {
  id: string;
  run: RunSpec & { family: string };
  status: 'ok' | 'failed';
  failure: RunFailure | null;
  final: LogRow | null;
  steps_completed: number;
  /** NaN (null in the file) when the run threw before computing it. */
  eta0: number;
  own_norm_init: number;
  homogeneity_degree: number;
  data: { source: string; n: number; classes: number[]; indices: number[] };
  config: Readonly<Config>;
  config_hash: string;
  /** The run's identity (src/sweep/runHash.ts): a rerun skips the run when it matches. */
  run_hash: string;
  /** sha256 (hex) of the CSV as written: a resumed sweep or a merge checks the file against it. */
  csv_sha256: string;
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
  /** runHash(config, spec), when the caller has it already. */
  runHash?: string;
  /** gitCommit(), when the caller has it already (it costs two `git` processes). */
  gitCommit?: string | null;
  /** Builds the engine (src/engine/create.ts); required for `train.engine: tfjs`, f64 by default. */
  engines?: EngineFactory;
}

/** The factory a run uses: the one given, else the f64 engine; a tfjs config must bring its own (it loads asynchronously). */
export function engineFactoryFor(config: Readonly<Config>, given: EngineFactory | undefined): EngineFactory {
  if (given) return given;
  if (config.train.engine !== 'f64') throw new Error(`train.engine ${config.train.engine}: load it with loadEngineFactory() and pass it as options.engines`);
  return F64_FACTORY;
}

export const sha256Of = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/** The files a run may write, by id (the summary is the last one). */
export function runFiles(id: string): { csv: string; json: string; initWeights: string; finalWeights: string } {
  return { csv: `${id}.csv`, json: `${id}.json`, initWeights: `${id}.init.weights.json`, finalWeights: `${id}.final.weights.json` };
}

/**
 * Train one cell of the grid and write `<id>.csv` and `<id>.json` into outDir (atomically: a
 * reader never sees half a file). Any earlier summary of the run is removed first and the new one
 * is written last, so a run killed at any instant leaves no summary that could pass for its own.
 *
 * A run that goes non-finite, or throws, is a failed run, not an error: its summary says
 * `status: "failed"` with the step and the reason (a throw leaves a header-only CSV). What
 * still throws: bad input (an unreadable `init_from`) and failing to write the files.
 * Synchronous; an engine that reads back only asynchronously (webgpu) needs executeRunAsync.
 */
export function executeRun(
  config: Readonly<Config>,
  spec: RunSpec,
  data: Dataset,
  outDir: string,
  options: RunOptions = {},
): RunSummary {
  const run = startRun(config, spec, data, outDir, options);
  const engine = run.engines.create(data, run.shapes, spec.activation);
  run.engineName = engine.name;
  try {
    run.result = trainRun(config, spec, engine, run.shapes, run.init, { onStep: run.onStep });
  } catch (err) {
    run.fail(err);
  } finally {
    engine.dispose?.();
  }
  return finishRun(run, config, spec, data, outDir, options);
}

/**
 * executeRun for any engine: trains with trainRunAsync when the engine reads back only
 * asynchronously (engine.asyncOnly), and with the synchronous trainRun otherwise (the f64 engine:
 * same code, same speed). The sweep workers use this.
 */
export async function executeRunAsync(
  config: Readonly<Config>,
  spec: RunSpec,
  data: Dataset,
  outDir: string,
  options: RunOptions = {},
): Promise<RunSummary> {
  const run = startRun(config, spec, data, outDir, options);
  const engine = run.engines.create(data, run.shapes, spec.activation);
  run.engineName = engine.name;
  try {
    const { shapes, init, onStep } = run;
    run.result = engine.asyncOnly
      ? await trainRunAsync(config, spec, engine, shapes, init, { onStep })
      : trainRun(config, spec, engine, shapes, init, { onStep });
  } catch (err) {
    run.fail(err);
  } finally {
    engine.dispose?.();
  }
  return finishRun(run, config, spec, data, outDir, options);
}

/** What differs between the runs of one batch: each run's own hash and progress callback. */
export type PerRunOptions = Pick<RunOptions, 'runHash' | 'onStep'>;

/**
 * `train.batch_runs` > 1: train several runs of one activation in lockstep,
 * one batched engine call per step for all of them (trainRunsBatched), and write each run's files
 * exactly as executeRun does. Each run keeps its own spec, initial weights, optimizer and log
 * points; one that goes non-finite fails alone, a throw from the shared engine fails every run of
 * the batch. Each summary's wall time is the whole batch's.
 */
export function executeRunsBatched(
  config: Readonly<Config>,
  specs: RunSpec[],
  data: Dataset,
  outDir: string,
  options: Omit<RunOptions, keyof PerRunOptions> = {},
  perRun: PerRunOptions[] = specs.map(() => ({})),
): RunSummary[] {
  const activation = batchActivation(specs);
  const engines = engineFactoryFor(config, options.engines);
  if (!engines.createBatched) throw new Error(`train.batch_runs: engine ${engines.name} cannot evaluate runs batched`);
  const runs = specs.map((spec, i) => startRun(config, spec, data, outDir, { ...options, ...perRun[i] }));
  const shapes = runs[0]!.shapes;
  const batch = engines.createBatched(data, shapes, activation);
  for (const run of runs) run.engineName = batch.name;
  try {
    const results = trainRunsBatched(config, specs, batch, shapes, runs.map((r) => r.init), runs.map((r) => ({ onStep: r.onStep })));
    results.forEach((result, i) => (runs[i]!.result = result));
  } catch (err) {
    for (const run of runs) run.fail(err);
  } finally {
    batch.dispose?.();
  }
  return runs.map((run, i) => finishRun(run, config, specs[i]!, data, outDir, { ...options, ...perRun[i] }));
}

/** A run between its setup and its files: what executeRun and executeRunAsync share. */
interface StartedRun {
  startedAt: Date;
  started: number;
  names: ReturnType<typeof runFiles>;
  id: string;
  shapes: LayerShape[];
  init: Params;
  engines: EngineFactory;
  /** The summary's `engine`: the factory's name until the run's engine is built. */
  engineName: string;
  onStep: (done: number, total: number) => void;
  result: RunResult | null;
  thrown: RunFailure | null;
  lastStep: number;
  /** Record a throw from training as the run's failure. */
  fail(err: unknown): void;
}

function startRun(config: Readonly<Config>, spec: RunSpec, data: Dataset, outDir: string, options: RunOptions): StartedRun {
  const startedAt = new Date();
  const started = performance.now();
  const id = runId(spec);
  const names = runFiles(id);
  rmSync(join(outDir, names.json), { force: true });

  const shapes = shapesFor(config.model, data);
  const init =
    options.init ??
    (config.train.init_from
      ? readWeights(config.train.init_from, shapes)
      : initParams(shapes, config.model.init_scale, spec.seed));
  const engines = engineFactoryFor(config, options.engines);
  const run: StartedRun = {
    startedAt,
    started,
    names,
    id,
    shapes,
    init,
    engines,
    engineName: engines.name,
    result: null,
    thrown: null,
    lastStep: 0,
    onStep: (done, total) => {
      run.lastStep = done;
      options.onStep?.(done, total);
    },
    fail: (err) => {
      // e.g. a linear-algebra routine meeting overflowed entries: this run fails, the sweep goes on.
      const message = err instanceof Error ? err.message : String(err);
      run.thrown = { step: run.lastStep, reason: `exception at step ${run.lastStep}: ${message.split('\n')[0]}` };
    },
  };
  return run;
}

/** Write the run's CSV, weights and (last) its summary. */
function finishRun(run: StartedRun, config: Readonly<Config>, spec: RunSpec, data: Dataset, outDir: string, options: RunOptions): RunSummary {
  const { startedAt, started, id, names, shapes, engines, engineName, result, thrown, lastStep } = run;
  const rows = result?.rows ?? [];
  const files: RunSummary['files'] = { csv: names.csv };
  writeCsvAtomic(join(outDir, files.csv), LOG_COLUMNS, rows);
  if (options.saveWeights && result) {
    files.init_weights = names.initWeights;
    files.final_weights = names.finalWeights;
    writeWeights(join(outDir, files.init_weights), result.initialParams, shapes);
    writeWeights(join(outDir, files.final_weights), result.finalParams, shapes);
  }
  const failure = thrown ?? result?.failure ?? null;
  const wallTimeS = result?.wallTimeS ?? (performance.now() - started) / 1000;
  const stepsCompleted = result?.stepsCompleted ?? lastStep;
  const summary: RunSummary = {
    id,
    run: { ...spec, family: result?.family ?? OPTIMIZERS[spec.optimizer].family },
    status: failure ? 'failed' : 'ok',
    failure,
    final: rows[rows.length - 1] ?? null,
    steps_completed: stepsCompleted,
    eta0: result?.eta0 ?? NaN,
    own_norm_init: result?.ownNormInit ?? NaN,
    homogeneity_degree: result?.degree ?? homogeneityDegree(spec.activation, config.model.depth),
    data: { source: data.source, n: data.n, classes: data.classes, indices: data.indices },
    config,
    config_hash: configHash(config),
    run_hash: options.runHash ?? runHash(config, spec),
    // Read back rather than re-serialized: the hash is of the bytes on disk.
    csv_sha256: sha256Of(readFileSync(join(outDir, files.csv))),
    engine: engineName,
    wall_time_s: wallTimeS,
    ms_per_step: (wallTimeS * 1000) / Math.max(1, stepsCompleted),
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    versions: versions(engines.packages),
    git_commit: options.gitCommit !== undefined ? options.gitCommit : gitCommit(),
    files,
  };
  writeJsonAtomic(join(outDir, names.json), summary);
  return summary;
}

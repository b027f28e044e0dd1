import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { configHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { F64_FACTORY, type EngineFactory } from '../engine/create.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { writeCsvAtomic } from '../io/csv.js';
import { readWeights, writeWeights } from '../io/weights.js';
import { homogeneityDegree, initParams, shapesFor, type Params } from '../model/mlp.js';
import { extraColumns, extraNorms, loggedNorms, normRecord, ownNormName } from '../metrics/normTable.js';
import { robustAccuracies } from '../metrics/robust.js';
import { heldOutColumns } from '../train/heldOut.js';
import { optimumColumns, optimumRecord, type OptimumTarget } from '../linear/track.js';
import { gitCommit, versions } from '../provenance.js';
import { runHash, sha256Of } from '../results/hash.js';
import { LOG_COLUMNS, runFiles, runId, type RunFailure, type RunSpec } from '../results/runs.js';
import type { RunSummary } from '../results/summary.js';
import { firstLayerPath, type FirstLayerPath } from '../train/parametrization.js';
import { batchActivation, trainRuns, type RunResult } from '../train/train.js';

export interface RunOptions {
  /** Initial weights (from train.init_from, already checked); otherwise each run's seeded init. */
  init?: Params | null;
  saveWeights?: boolean;
  /** gitCommit(), when the caller has it already (it costs two `git` processes). */
  gitCommit?: string | null;
  /** Builds the engine (src/engine/create.ts); required for `train.engine: tfjs`, f64 by default. */
  engines?: EngineFactory;
  /** The held-out set of `data.test` (loadTestSet), when the config has one (docs/science.md §13). */
  test?: Dataset | null;
  /** A depth-1 config's exact optima (optimumTargets, src/linear/track.ts), solved once per sweep; [] otherwise. */
  optima?: readonly OptimumTarget[];
}

/** What differs between the runs of one batch: each run's own hash (when the caller has it) and progress callback. */
export interface PerRunOptions {
  /** runHash(config, spec), when the caller has it already. */
  runHash?: string;
  onStep?: (done: number, total: number) => void;
}

/** The factory the runs use: the one given, else the f64 engine; a tfjs config must bring its own (it loads asynchronously). */
export function engineFactoryFor(config: Readonly<Config>, given: EngineFactory | undefined): EngineFactory {
  if (given) return given;
  if (config.train.engine !== 'f64') throw new Error(`train.engine ${config.train.engine}: load it with loadEngineFactory() and pass it as options.engines`);
  return F64_FACTORY;
}

/**
 * The one executor: train a batch of runs of one activation (one run is the ordinary case) on one
 * engine, in lockstep (trainRuns), and write each run's `<id>.csv` and `<id>.json` into outDir
 * exactly as if it had run alone (atomically: a reader never sees half a file). Any earlier summary
 * of a run is removed first and the new one is written last, so a run killed at any instant leaves
 * no summary that could pass for its own.
 *
 * A run that goes non-finite is a failed run, not an error: its summary says `status: "failed"`
 * with the step and the reason. A throw while training (from the shared engine, say) fails every
 * run of the batch the same way, with a header-only CSV. What still throws: bad input (an
 * unreadable `init_from`) and failing to write the files. Each summary's wall time is the batch's.
 */
export async function executeRuns(
  config: Readonly<Config>,
  specs: readonly RunSpec[],
  data: Dataset,
  outDir: string,
  options: RunOptions = {},
  perRun: readonly PerRunOptions[] = specs.map(() => ({})),
): Promise<RunSummary[]> {
  const activation = batchActivation(specs);
  const startedAt = new Date();
  const started = performance.now();
  for (const spec of specs) rmSync(join(outDir, runFiles(runId(spec)).json), { force: true });

  const shapes = shapesFor(config.model, data);
  const given = options.init ?? (config.train.init_from ? readWeights(config.train.init_from, shapes) : null);
  const inits = specs.map((spec) => given ?? initParams(shapes, config.model.init_scale, spec.seed));
  const engines = engineFactoryFor(config, options.engines);
  const lastStep = specs.map(() => 0);
  let engineName = engines.name;
  let paths: (FirstLayerPath | null)[] = specs.map(() => null);
  let results: RunResult[] | null = null;
  let thrown: string | null = null;
  try {
    const engine = engines.create(data, shapes, activation);
    engineName = engine.name;
    try {
      paths = specs.map((spec) => firstLayerPath(config, spec, shapes.length, engine));
      const trainOptions = specs.map((_, i) => ({
        test: options.test ?? null,
        optima: options.optima ?? [],
        onStep: (done: number, total: number) => {
          lastStep[i] = done;
          perRun[i]?.onStep?.(done, total);
        },
      }));
      results = await trainRuns(config, specs, engine, shapes, inits, trainOptions);
    } finally {
      engine.dispose?.();
    }
  } catch (err) {
    // e.g. a linear-algebra routine meeting overflowed entries: these runs fail, the sweep goes on.
    thrown = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  }

  const common = { startedAt, started, engineName, packages: engines.packages };
  return specs.map((spec, i) => {
    const failure: RunFailure | null = thrown !== null ? { step: lastStep[i]!, reason: `exception at step ${lastStep[i]}: ${thrown}` } : null;
    const result = results?.[i] ?? null;
    return writeRunFiles(config, spec, data, outDir, result, failure, lastStep[i]!, { ...common, path: result?.path ?? paths[i]! }, options, perRun[i] ?? {});
  });
}

/** Write one run's CSV, weights and (last) its summary. */
function writeRunFiles(
  config: Readonly<Config>,
  spec: RunSpec,
  data: Dataset,
  outDir: string,
  result: RunResult | null,
  thrown: RunFailure | null,
  lastStep: number,
  common: { startedAt: Date; started: number; engineName: string; path: FirstLayerPath | null; packages: readonly string[] },
  options: RunOptions,
  perRun: PerRunOptions,
): RunSummary {
  const id = runId(spec);
  const names = runFiles(id);
  const shapes = shapesFor(config.model, data);
  const rows = result?.rows ?? [];
  const files: RunSummary['files'] = { csv: names.csv };
  const extras = extraNorms(config, config.model.depth);
  const test = options.test ?? null;
  const heldOut = test ? heldOutColumns(loggedNorms(config, config.model.depth).map((n) => n.name)) : [];
  const optima = options.optima ?? [];
  writeCsvAtomic(join(outDir, files.csv), [...LOG_COLUMNS, ...extraColumns(extras), ...heldOut, ...optimumColumns(optima)], rows);
  if (options.saveWeights && result) {
    files.init_weights = names.initWeights;
    files.final_weights = names.finalWeights;
    writeWeights(join(outDir, files.init_weights), result.initialParams, shapes);
    writeWeights(join(outDir, files.final_weights), result.finalParams, shapes);
  }
  const failure = thrown ?? result?.failure ?? null;
  const robust = test && result && !failure ? robustRecord(config, spec, result, test, shapes) : null;
  const wallTimeS = result?.wallTimeS ?? (performance.now() - common.started) / 1000;
  const stepsCompleted = result?.stepsCompleted ?? lastStep;
  const summary: RunSummary = {
    id,
    run: { ...spec, family: result?.family ?? ownNormName(spec.optimizer) },
    status: failure ? 'failed' : 'ok',
    failure,
    final: rows[rows.length - 1] ?? null,
    steps_completed: stepsCompleted,
    stop: {
      ...(failure ? { reason: 'failure' as const, step: failure.step } : (result?.stop ?? { reason: 'steps' as const, step: stepsCompleted })),
      log10_loss: rows.at(-1)?.log10_loss ?? null,
      target_log10_loss: config.train.target_log10_loss,
    },
    ...(extras.length > 0 ? { logged_norms: extras.map(normRecord) } : {}),
    eta0: result?.eta0 ?? NaN,
    own_norm_init: result?.ownNormInit ?? NaN,
    homogeneity_degree: result?.degree ?? homogeneityDegree(spec.activation, config.model.depth),
    data: { source: data.source, n: data.n, classes: data.classes, indices: data.indices, ...(test ? { test: { source: test.source, n: test.n, indices: test.indices } } : {}) },
    config,
    config_hash: configHash(config),
    run_hash: perRun.runHash ?? runHash(config, spec),
    // Read back rather than re-serialized: the hash is of the bytes on disk.
    csv_sha256: sha256Of(readFileSync(join(outDir, files.csv))),
    engine: common.engineName,
    ...(result?.transfer ? { transfer: result.transfer } : {}),
    ...(common.path ? { engine_path: common.path } : {}),
    ...(robust ? { robust } : {}),
    ...(optima.length > 0 ? { optima: optima.map(optimumRecord) } : {}),
    wall_time_s: wallTimeS,
    ms_per_step: (wallTimeS * 1000) / Math.max(1, stepsCompleted),
    started_at: common.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    versions: versions(common.packages),
    git_commit: options.gitCommit !== undefined ? options.gitCommit : gitCommit(),
    files,
  };
  writeJsonAtomic(join(outDir, names.json), summary);
  return summary;
}

/**
 * docs/science.md §13.2 at the end of a run: PGD on the held-out set against θ_T at every radius of
 * `log.robust`, the random starts seeded with the run's seed; null when the config lists no radius.
 */
function robustRecord(config: Readonly<Config>, spec: RunSpec, result: RunResult, test: Dataset, shapes: ReturnType<typeof shapesFor>): NonNullable<RunSummary['robust']> | null {
  const settings = config.log.robust;
  if (!settings || settings.linf.length + settings.l2.length === 0) return null;
  const started = performance.now();
  const points = robustAccuracies({ params: result.finalParams, shapes, activation: spec.activation }, test, settings, spec.seed);
  return { set: 'test', n: test.n, steps: settings.steps, restarts: settings.restarts, seed: spec.seed, points: points.map((p) => ({ ...p })), time_s: (performance.now() - started) / 1000 };
}

import { availableParallelism } from 'node:os';
import { makeDirs } from '../io/paths.js';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { loadDataset, loadTestSet, type Dataset } from '../data/dataset.js';
import { F64_FACTORY, loadEngineFactory, type EngineFactory } from '../engine/create.js';
import { RunError } from '../errors.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { lockDir, tookOverNote } from '../io/lock.js';
import { readWeights } from '../io/weights.js';
import type { Params } from '../model/mlp.js';
import { gitCommit } from '../provenance.js';
import { createProgress, type SweepProgress } from '../report/progress.js';
import { runId, type RunSpec } from '../results/runs.js';
import { runCost } from './cost.js';
import { gridOf } from './grid.js';
import { runPool, type PoolResult, type PoolTask } from './pool.js';
import { runHash } from '../results/hash.js';
import { shapesFor } from '../model/mlp.js';
import type { RunSummary } from '../results/summary.js';
import { shardOf, type Shard } from './shard.js';
import { removeOrphanTemps, removeRunFiles, runState } from '../results/state.js';
import { SWEEP_FILE } from '../results/runs.js';
import type { SweepFile } from '../results/sweepFile.js';
import { ESTIMATE_ABOVE, estimateSweep, formatDuration } from './estimate.js';
import { optimumCached } from '../linear/optima.js';
import { optimumTargets, tracksOptimum, type OptimumTarget } from '../linear/track.js';

export interface SweepOptions {
  saveWeights?: boolean;
  /** Show progress on stderr (default true). */
  progress?: boolean;
  /** Worker threads (default: the number of cores); never more than the runs to do. */
  jobs?: number;
  /** Run only this slice of the grid (src/sweep/shard.ts). */
  shard?: Shard | null;
  /** Redo complete runs too. */
  force?: boolean;
  /** Aborting stops the workers at once; finished runs stay, the runs under way leave nothing. */
  signal?: AbortSignal;
  /** Called on the main thread after each run that ended this time (bench: memory per run). */
  onRunDone?: (summary: RunSummary, info: { rssBytes: number }) => void;
}

export interface SweepFailure {
  id: string;
  reason: string;
  /** The step it failed at; null when it left no summary (its files could not be written). */
  step: number | null;
}

export interface SweepResult {
  outDir: string;
  /** The runs of this folder (grid or shard), in grid order. */
  runs: RunSpec[];
  gridRuns: number;
  shard: Shard | null;
  /** Summaries of `runs` that exist now (complete, or failed), in grid order. */
  summaries: RunSummary[];
  /** Complete before this call, not redone. */
  skipped: string[];
  /** Runs this call started and finished (ok or failed). */
  ran: string[];
  /** Every run of `runs` that is failed now, including failures kept from earlier calls. */
  failed: SweepFailure[];
  /** Runs still to do (after an interruption). */
  remaining: string[];
  interrupted: boolean;
  /** Worker threads used. */
  jobs: number;
  wallTimeS: number;
}

/**
 * The pool's tasks: one run each, or with `train.batch_runs` B > 1, up to B runs of one activation
 * trained together, taken in grid order (so the seeds of one configuration share a batch). Expected
 * cost order: most expensive first, ties in grid order (so workers finish together).
 */
function poolTasks(config: Readonly<Config>, specs: RunSpec[], hashes: Map<string, string>): PoolTask[] {
  const B = config.train.batch_runs;
  const groups: RunSpec[][] = [];
  if (B <= 1) for (const spec of specs) groups.push([spec]);
  else {
    for (const activation of config.model.activations) {
      const same = specs.filter((s) => s.activation === activation);
      for (let k = 0; k < same.length; k += B) groups.push(same.slice(k, k + B));
    }
  }
  return groups
    .map((group, i) => ({ group, i, cost: group.reduce((sum, spec) => sum + runCost(config, spec), 0) }))
    .sort((a, b) => b.cost - a.cost || a.i - b.i)
    .map(({ group }) => ({ runs: group.map((spec) => ({ spec, hash: hashes.get(runId(spec))! })) }));
}

interface EngineSetup {
  /** Loads the engine for the main thread's warm-up estimate; null where it must not load here. */
  load: (() => Promise<EngineFactory>) | null;
  /** The resolved TF.js backend, or 'f64'. */
  backend: string;
  /** One worker only (native addon, GPU). */
  exclusive: boolean;
}

/**
 * Before anything is written: check that the configured engine can run here (a missing backend is
 * a usage error with its install command). wasm and cpu load in the main thread only if the
 * warm-up estimate runs; a native or GPU backend loads only in the single worker that will use
 * it, since its addon or device is one per process.
 */
async function prepareEngine(config: Readonly<Config>): Promise<EngineSetup> {
  if (config.train.engine === 'f64') return { load: () => Promise.resolve(F64_FACTORY), backend: 'f64', exclusive: false };
  const { BACKEND_INFO, resolveInstalledBackend } = await import('../engine/tfjs/backends.js');
  const backend = resolveInstalledBackend(config.train.backend);
  const exclusive = BACKEND_INFO[backend].exclusive;
  // Loaded only if the estimate runs: the workers load their own.
  return { load: exclusive ? null : () => loadEngineFactory(config.train), backend, exclusive };
}

/** Past this many seconds on the CPU engine, the estimate suggests the TF.js engine on a GPU: a day. */
const GPU_JOB_ABOVE_S = 24 * 3600;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The run is a function (STYLE): train every cell of the config's grid (or of one shard of it)
 * that `outDir` does not already hold complete, on `jobs` worker threads, writing each run's CSV
 * and summary into outDir. Data and initial weights are loaded once, here, and copied to the
 * workers; all optimizers of one seed start from the same initial weights. Files depend only on
 * the config and the run, never on `jobs`, the shard or the order runs happen to finish in.
 * outDir is locked while the sweep writes there (src/io/lock.ts): a second writer gets a
 * LockedError (a usage error) before it trains anything.
 */
export async function runSweep(config: Readonly<Config>, outDir: string, options: SweepOptions = {}): Promise<SweepResult> {
  const started = performance.now();
  // Everything that can be wrong with the input is checked before the first write.
  const data = loadDataset(config.data);
  const test = loadTestSet(config.data, data);
  const init = config.train.init_from ? readWeights(config.train.init_from, shapesFor(config.model, data)) : null;
  const engineSetup = await prepareEngine(config);
  const grid = gridOf(config);
  const shard = options.shard ?? null;
  const runs = shard ? shardOf(grid, shard, (s) => runCost(config, s)) : grid;
  const ids = runs.map(runId);
  const hashes = new Map(runs.map((spec) => [runId(spec), runHash(config, spec)]));

  // One writer per folder (src/io/lock.ts): a second `run` or `merge` here stops with exit 2.
  makeDirs(outDir);
  const lock = lockDir(outDir, 'run');
  try {
    if (lock.tookOver) process.stderr.write(`note: ${tookOverNote(outDir, lock.tookOver)}\n`);
    return await sweepLocked(config, outDir, options, { started, data, test, init, engineSetup, grid, shard, runs, ids, hashes });
  } finally {
    lock.release();
  }
}

interface Prepared {
  started: number;
  data: Dataset;
  test: Dataset | null;
  init: Params | null;
  engineSetup: EngineSetup;
  grid: RunSpec[];
  shard: Shard | null;
  runs: RunSpec[];
  ids: string[];
  hashes: Map<string, string>;
}

/**
 * docs/science.md §14: the optima of a depth-1 config (src/linear/track.ts), with a line per norm
 * solved and its time and certificate; cached ones are read back silently.
 */
async function solveOptima(config: Readonly<Config>, data: Dataset, outDir: string, progress: SweepProgress | null): Promise<OptimumTarget[]> {
  if (!tracksOptimum(config)) return [];
  const targets = await optimumTargets(config, data, outDir, (base) => {
    if (!optimumCached(data, base, outDir)) progress?.note(`optimum: solving the ${base} max-margin problem of ${plural(data.n, 'sample')} (cached in ${join(outDir, 'optima')})`);
  });
  for (const t of targets.filter((t) => !t.converged)) {
    progress?.note(`optimum: ${t.name} certified only to a relative gap of ${t.gap.toExponential(1)} (the solver's iteration cap); ratios use its upper bound`);
  }
  return targets;
}

/** runSweep once the folder is locked. */
async function sweepLocked(config: Readonly<Config>, outDir: string, options: SweepOptions, prepared: Prepared): Promise<SweepResult> {
  const { started, data, test, init, engineSetup, grid, shard, runs, ids, hashes } = prepared;
  removeOrphanTemps(outDir, ids);
  const sweepFile: SweepFile = {
    config,
    runs: ids,
    grid_runs: grid.length,
    shard: shard ? { index: shard.index, count: shard.count } : null,
    created_at: new Date().toISOString(),
  };
  writeJsonAtomic(join(outDir, SWEEP_FILE), sweepFile);

  const kept = new Map<string, RunSummary>();
  const pending: RunSpec[] = [];
  for (const spec of runs) {
    const id = runId(spec);
    const st = runState(outDir, id, hashes.get(id)!, options.saveWeights);
    if (st.state === 'complete' && !options.force) kept.set(id, st.summary!);
    else pending.push(spec);
  }
  let jobs = Math.max(1, Math.min(options.jobs ?? availableParallelism(), pending.length));
  if (engineSetup.exclusive && jobs > 1) {
    if (options.progress !== false) {
      process.stderr.write(`note: backend ${engineSetup.backend} is a native addon or a GPU (one per process): running 1 worker instead of ${jobs}\n`);
    }
    jobs = 1;
  }
  const costs = new Map(pending.map((spec) => [runId(spec), runCost(config, spec)]));
  const totalCost = [...costs.values()].reduce((a, b) => a + b, 0);

  if (options.progress !== false && data.n * config.model.width > ESTIMATE_ABOVE && engineSetup.load) {
    const est = await estimateSweep(config, data, init, pending, jobs, 2, await engineSetup.load());
    if (est) {
      // With a target loss the step count is a cap, so the estimate is an upper bound.
      const target = config.train.target_log10_loss;
      const about = target === null ? 'about' : 'at most';
      const steps = target === null ? `${config.train.steps} steps` : `at most ${config.train.steps} steps (each stops at loss 1e${target} if it gets there first)`;
      const gpu = config.train.engine === 'f64' && est.totalSeconds > GPU_JOB_ABOVE_S ? ': a GPU job, see --engine tfjs (docs/engines.md)' : '';
      process.stderr.write(
        `estimate: ${est.secondsPerStep.toPrecision(3)} s per step of ${est.measured} (measured warm-up) → ${about} ` +
          `${formatDuration(est.totalSeconds)} for ${plural(pending.length, 'run')} of ${steps} on ${plural(jobs, 'worker')}${gpu}\n`,
      );
    }
  }
  const progress: SweepProgress | null =
    options.progress === false ? null : createProgress({ runs: pending.length, cost: totalCost });
  const where = shard
    ? `shard ${shard.index}/${shard.count} (${shard.source}): ${runs.length} of the grid's ${grid.length} runs`
    : plural(runs.length, 'run');
  const todo =
    pending.length === 0
      ? 'all complete (--force redoes them)'
      : `${kept.size > 0 ? `${kept.size} complete (skipped), ` : ''}${pending.length} to do on ${plural(jobs, 'worker')}`;
  progress?.note(`sweep: ${where}; ${todo} → ${outDir}`);
  // A shard read from the environment (a CI runner's variables) is announced even without progress:
  // a run that silently does a slice of the grid looks like a run that lost the rest.
  if (!progress && shard && shard.source !== '--shard') process.stderr.write(`sweep: ${where} → ${outDir}\n`);

  // A depth-1 config's exact optima, solved once here (or read from <outDir>/optima) for every worker.
  const optima = pending.length === 0 ? [] : await solveOptima(config, data, outDir, progress);
  const fresh = new Map<string, RunSummary>();
  const errors = new Map<string, string>();
  let pool: PoolResult;
  try {
    pool = await runPool(
      poolTasks(config, pending, hashes),
      jobs,
      { config, outDir, data, test, optima, init, saveWeights: options.saveWeights ?? false, gitCommit: gitCommit() },
      {
        started: (id) => progress?.runStarted(id, costs.get(id)!, config.train.steps),
        progress: (id, done) => progress?.runProgress(id, done),
        done: (id, summary, rssBytes) => {
          fresh.set(id, summary);
          progress?.runFinished(id, summary.status === 'ok', describe(summary));
          options.onRunDone?.(summary, { rssBytes });
        },
        error: (id, message) => {
          errors.set(id, message);
          progress?.runFinished(id, false, `FAILED: ${message}`);
        },
      },
      options.signal,
    );
  } catch (err) {
    // A TF.js backend that is installed but does not start (no GPU adapter) stops every worker.
    if (engineSetup.backend !== 'f64' && err instanceof Error && err.message.startsWith('a sweep worker failed to start')) {
      throw new RunError(`train.backend ${engineSetup.backend}: ${err.message}`);
    }
    throw err;
  } finally {
    progress?.stop();
  }

  if (pool.interrupted) {
    // A run cut off mid-way may have written its CSV but never its summary: remove what it left.
    // One that wrote its summary just before the stop did finish.
    for (const id of pool.cutOff) {
      const st = runState(outDir, id, hashes.get(id)!);
      if (st.state === 'partial') removeRunFiles(outDir, id);
      else if (st.summary && (st.state === 'complete' || st.state === 'failed')) fresh.set(id, st.summary);
    }
  }
  removeOrphanTemps(outDir, ids, process.pid); // every worker is stopped: any temp file is an orphan

  const summaries: RunSummary[] = [];
  const failed: SweepFailure[] = [];
  const remaining: string[] = [];
  for (const id of ids) {
    const summary = fresh.get(id) ?? kept.get(id) ?? null;
    if (summary) summaries.push(summary);
    if (summary?.status === 'failed') failed.push({ id, reason: summary.failure?.reason ?? 'failed', step: summary.failure?.step ?? null });
    else if (errors.has(id)) failed.push({ id, reason: errors.get(id)!, step: null });
    else if (!summary) remaining.push(id);
  }
  return {
    outDir,
    runs,
    gridRuns: grid.length,
    shard,
    summaries,
    skipped: [...kept.keys()],
    ran: [...fresh.keys()],
    failed,
    remaining,
    interrupted: pool.interrupted,
    jobs: pending.length > 0 ? jobs : 0,
    wallTimeS: (performance.now() - started) / 1000,
  };
}

/** One line about a finished run, for progress. */
function describe(s: RunSummary): string {
  const f = s.final;
  if (s.status === 'ok' && f) {
    const stop = s.stop?.reason === 'target_loss' ? `reached the target at step ${s.stop.step}, ` : s.stop?.target_log10_loss != null ? `target not reached in ${s.stop.step} steps, ` : '';
    return `${stop}log10 loss ${Number(f.log10_loss).toFixed(1)}, acc ${f.train_acc}, ${s.ms_per_step.toFixed(2)} ms/step`;
  }
  return `FAILED: ${s.failure?.reason ?? 'unknown'}`;
}

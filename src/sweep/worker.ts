import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { loadEngineFactory } from '../engine/create.js';
import type { Params } from '../model/mlp.js';
import { runId, type RunSpec } from '../results/runs.js';
import { executeRuns } from './execute.js';
import type { OptimumTarget } from '../linear/track.js';
import type { RunSummary } from '../results/summary.js';

/** What a worker is started with: everything a run needs except its spec (sent per task). */
export interface WorkerInit {
  config: Readonly<Config>;
  outDir: string;
  /** Loaded once by the sweep and copied to each worker (a few hundred kB). */
  data: Dataset;
  /** The held-out set of `data.test`, loaded once like `data`; null without one. */
  test: Dataset | null;
  /** A depth-1 config's exact optima, solved once by the sweep (src/linear/track.ts); [] otherwise. */
  optima: OptimumTarget[];
  init: Params | null;
  saveWeights: boolean;
  gitCommit: string | null;
}

/** One task: a run, or (train.batch_runs > 1) several runs of one activation trained batched. */
export type ToWorker = { type: 'run'; runs: { spec: RunSpec; hash: string }[] };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: string; done: number }
  | { type: 'done'; id: string; summary: RunSummary; rssBytes: number }
  | { type: 'error'; id: string; message: string };

/** Progress messages at most this often: the main thread only redraws a bar with them. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * The body of a sweep worker thread (src/sweep/pool.ts starts it): runs one task at a time, as
 * the main thread sends them, with the data it was started with, and reports back per run.
 */
export async function workerMain(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('src/sweep/worker.ts runs inside a worker thread');
  const w = workerData as WorkerInit;
  // A TF.js backend loads once per worker thread (each has its own TF.js and wasm instance). If it
  // fails, the rejection ends the worker before 'ready' and the pool reports why.
  const engines = await loadEngineFactory(w.config.train);
  const progress = (id: string) => {
    let last = performance.now();
    return (done: number) => {
      const now = performance.now();
      if (now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      port.postMessage({ type: 'progress', id, done } satisfies FromWorker);
    };
  };
  const shared = { test: w.test, optima: w.optima, init: w.init, saveWeights: w.saveWeights, gitCommit: w.gitCommit, engines };
  const runTask = async (msg: ToWorker): Promise<void> => {
    const ids = msg.runs.map((r) => runId(r.spec));
    try {
      const perRun = msg.runs.map((r, i) => ({ runHash: r.hash, onStep: progress(ids[i]!) }));
      const summaries = await executeRuns(w.config, msg.runs.map((r) => r.spec), w.data, w.outDir, shared, perRun);
      const rssBytes = process.memoryUsage.rss();
      summaries.forEach((summary, i) => port.postMessage({ type: 'done', id: ids[i]!, summary, rssBytes } satisfies FromWorker));
    } catch (err) {
      // executeRuns turns training failures into failed summaries; what reaches here is I/O.
      const message = err instanceof Error ? err.message : String(err);
      for (const id of ids) port.postMessage({ type: 'error', id, message } satisfies FromWorker);
    }
  };
  // Tasks run one after another even if a message comes while one is under way (training awaits the engine).
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    queue = queue.then(() => runTask(msg));
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

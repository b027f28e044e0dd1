import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { loadEngineFactory } from '../engine/create.js';
import type { Params } from '../model/mlp.js';
import { runId, type RunSpec } from '../train/train.js';
import { executeRunAsync, type RunSummary } from './runOne.js';

/** What a worker is started with: everything a run needs except its spec (sent per run). */
export interface WorkerInit {
  config: Readonly<Config>;
  outDir: string;
  /** Loaded once by the sweep and copied to each worker (a few hundred kB). */
  data: Dataset;
  init: Params | null;
  saveWeights: boolean;
  gitCommit: string | null;
}

export type ToWorker = { type: 'run'; spec: RunSpec; hash: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; id: string; done: number }
  | { type: 'done'; id: string; summary: RunSummary; rssBytes: number }
  | { type: 'error'; id: string; message: string };

/** Progress messages at most this often: the main thread only redraws a bar with them. */
const PROGRESS_INTERVAL_MS = 200;

/**
 * The body of a sweep worker thread (src/sweep/pool.ts starts it): runs one spec at a time, as
 * the main thread sends them, with the data it was started with, and reports back.
 */
export async function workerMain(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('src/sweep/worker.ts runs inside a worker thread');
  const w = workerData as WorkerInit;
  // A TF.js backend loads once per worker thread (each has its own TF.js and wasm instance). If it
  // fails, the rejection ends the worker before 'ready' and the pool reports why.
  const engines = await loadEngineFactory(w.config.train);
  const runOne = async (msg: ToWorker): Promise<void> => {
    const id = runId(msg.spec);
    let last = performance.now();
    try {
      // Synchronous inside for every engine but webgpu (src/sweep/runOne.ts).
      const summary = await executeRunAsync(w.config, msg.spec, w.data, w.outDir, {
        init: w.init,
        saveWeights: w.saveWeights,
        runHash: msg.hash,
        gitCommit: w.gitCommit,
        engines,
        onStep: (done) => {
          const now = performance.now();
          if (now - last < PROGRESS_INTERVAL_MS) return;
          last = now;
          port.postMessage({ type: 'progress', id, done } satisfies FromWorker);
        },
      });
      port.postMessage({ type: 'done', id, summary, rssBytes: process.memoryUsage.rss() } satisfies FromWorker);
    } catch (err) {
      // executeRun turns training failures into failed summaries; what reaches here is I/O.
      const message = err instanceof Error ? err.message : String(err);
      port.postMessage({ type: 'error', id, message } satisfies FromWorker);
    }
  };
  // Runs one after another even if a message comes while one is under way (webgpu runs await).
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    queue = queue.then(() => runOne(msg));
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}

import { Worker } from 'node:worker_threads';
import { runId, type RunSpec } from '../results/runs.js';
import type { RunSummary } from '../results/summary.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';

/** One or more runs handed to a worker together (several: trained batched, train.batch_runs). */
export interface PoolTask {
  runs: { spec: RunSpec; hash: string }[];
}

export interface PoolEvents {
  /** A run is under way on a worker. */
  started?(id: string): void;
  /** Updates done so far by a run (throttled by the worker). */
  progress?(id: string, done: number): void;
  /** A run finished (ok or failed) and its files are written; rssBytes: process RSS then. */
  done(id: string, summary: RunSummary, rssBytes: number): void;
  /** A run ended without a summary: its files could not be written, or its worker died. */
  error(id: string, message: string): void;
}

export interface PoolResult {
  interrupted: boolean;
  /** Runs that were under way when the pool was interrupted. */
  cutOff: string[];
}

/**
 * How the worker module is started. From dist/ it is plain JavaScript. From the TypeScript
 * sources (tests, `node --import tsx`) the worker registers tsx itself before importing the entry:
 * an eval worker does not run the parent's `--import` preloads, and loader hooks registered on the
 * main thread do not reach it. Registering first is the one path that works on every supported
 * Node. (Trying the plain import first is wrong on Node >= 22.18: its built-in type stripping
 * loads worker.ts itself, without tsx's mapping of `./x.js` specifiers to `./x.ts` files, and the
 * first relative import fails with ERR_MODULE_NOT_FOUND.)
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { entry, tsxApi } = workerData.boot;
(async () => {
  if (tsxApi) (await import(tsxApi)).register();
  const m = await import(entry);
  await m.workerMain();
})();
`;

function bootInfo(): { entry: string; tsxApi: string | null } {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url).href;
  if (!fromSource) return { entry, tsxApi: null };
  try {
    return { entry, tsxApi: import.meta.resolve('tsx/esm/api') };
  } catch {
    return { entry, tsxApi: null }; // another TypeScript loader: it has to reach workers by itself
  }
}

/**
 * Run the tasks on `jobs` worker threads, in the given order, each worker taking the next task as
 * it finishes one. Resolves when every task has ended, or, once `signal` aborts, as soon as every
 * worker is terminated (mid-run: terminate() stops a thread even inside a training loop). Rejects
 * if a worker cannot start at all.
 */
export function runPool(
  tasks: readonly PoolTask[],
  jobs: number,
  init: WorkerInit,
  events: PoolEvents,
  signal?: AbortSignal,
): Promise<PoolResult> {
  const queue = [...tasks];
  const boot = bootInfo();
  const workers = new Set<Worker>();
  /** The runs of each worker's task that have not ended yet. */
  const current = new Map<Worker, string[]>();
  let interrupted = false;
  let fatal: Error | null = null;

  return new Promise<PoolResult>((resolve, reject) => {
    const cutOff = new Set<string>();
    const settleIfIdle = () => {
      if (workers.size > 0) return;
      signal?.removeEventListener('abort', onAbort);
      if (fatal && !interrupted) reject(fatal);
      else resolve({ interrupted, cutOff: [...cutOff] });
    };

    const feed = (worker: Worker) => {
      const task = interrupted || fatal ? undefined : queue.shift();
      if (!task) {
        current.delete(worker);
        void worker.terminate();
        return;
      }
      const ids = task.runs.map((r) => runId(r.spec));
      current.set(worker, ids);
      for (const id of ids) events.started?.(id);
      worker.postMessage({ type: 'run', runs: task.runs } satisfies ToWorker);
    };
    /** A run of the worker's task ended: the worker takes the next task once all of its runs have. */
    const ended = (worker: Worker, id: string) => {
      const left = (current.get(worker) ?? []).filter((x) => x !== id);
      current.set(worker, left);
      if (left.length === 0) feed(worker);
    };

    const spawn = () => {
      const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...init, boot } });
      let ready = false;
      let crash: string | null = null;
      workers.add(worker);
      worker.on('message', (msg: FromWorker) => {
        if (interrupted || fatal) return;
        switch (msg.type) {
          case 'ready':
            ready = true;
            feed(worker);
            break;
          case 'progress':
            events.progress?.(msg.id, msg.done);
            break;
          case 'done':
            events.done(msg.id, msg.summary, msg.rssBytes);
            ended(worker, msg.id);
            break;
          case 'error':
            events.error(msg.id, msg.message);
            ended(worker, msg.id);
            break;
        }
      });
      worker.on('error', (err) => (crash = err.message));
      worker.on('exit', () => {
        workers.delete(worker);
        const ids = current.get(worker) ?? [];
        current.delete(worker);
        if (!interrupted && !fatal) {
          if (!ready) {
            fatal = new Error(`a sweep worker failed to start: ${crash ?? 'it exited'}`);
            for (const w of workers) void w.terminate();
          } else if (ids.length > 0) {
            // Died mid-task (an uncaught error, out of memory): its runs failed; the sweep goes on.
            for (const id of ids) events.error(id, `worker crashed: ${crash ?? 'it exited'}`);
            if (queue.length > 0) spawn();
          }
        }
        settleIfIdle();
      });
    };

    const onAbort = () => {
      if (interrupted) return;
      interrupted = true;
      for (const ids of current.values()) for (const id of ids) cutOff.add(id);
      for (const w of workers) void w.terminate();
    };
    if (signal?.aborted) {
      interrupted = true;
      resolve({ interrupted, cutOff: [] });
      return;
    }
    signal?.addEventListener('abort', onAbort);

    const n = Math.min(jobs, queue.length);
    if (n === 0) return settleIfIdle();
    for (let k = 0; k < n; k++) spawn();
  });
}

import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fsReason } from '../errors.js';
import { processAlive } from '../io/lock.js';
import { sha256Of } from './hash.js';
import { runFiles } from './runs.js';
import { parseSummary, type RunSummary } from './summary.js';

/**
 * Where one run of a sweep stands in a results folder:
 * - `complete`: its summary says ok, carries the run's hash, and its CSV has the summary's sha256;
 * - `failed`: its summary (with the run's hash) says failed — the reason and step are in it;
 * - `stale`: a summary made by another config (hash differs), or whose CSV changed since;
 * - `partial`: files of the run but no summary (a run that was stopped or killed);
 * - `corrupt`: a summary that cannot be read, is not JSON, or is not a run summary (truncated or
 *   edited by hand: a run never leaves one, as it writes it atomically);
 * - `missing`: no file of the run.
 * Only `complete` runs are skipped by a resumed sweep.
 */
export type RunStateName = 'complete' | 'failed' | 'stale' | 'partial' | 'corrupt' | 'missing';

export interface RunState {
  state: RunStateName;
  /** The summary, when one parsed. */
  summary: RunSummary | null;
  /** Why the run is not complete, for messages. */
  detail: string;
}

/** Read and classify one run's files in `dir`; `needWeights` also requires the weights files. */
export function runState(dir: string, id: string, hash: string, needWeights = false): RunState {
  const names = runFiles(id);
  let text: string;
  try {
    text = readFileSync(join(dir, names.json), 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') return { state: 'corrupt', summary: null, detail: `its summary cannot be read: ${fsReason(e)}` };
    const any = [names.csv, names.initWeights, names.finalWeights].some((f) => existsSync(join(dir, f)));
    return any ? { state: 'partial', summary: null, detail: 'no summary' } : { state: 'missing', summary: null, detail: 'no files' };
  }
  const read = parseSummary(text);
  if (!read.ok) return { state: 'corrupt', summary: null, detail: `${names.json} is ${read.reason}` };
  const { summary } = read;
  if (summary.run_hash !== hash) {
    return { state: 'stale', summary, detail: 'made with another config (run_hash differs)' };
  }
  let csv: Buffer;
  try {
    csv = readFileSync(join(dir, summary.files?.csv ?? names.csv));
  } catch {
    return { state: 'stale', summary, detail: 'its CSV is missing' };
  }
  if (sha256Of(csv) !== summary.csv_sha256) return { state: 'stale', summary, detail: 'its CSV does not match the summary' };
  if (summary.status !== 'ok') {
    const f = summary.failure;
    return { state: 'failed', summary, detail: f?.reason ?? 'failed' };
  }
  if (needWeights) {
    const { init_weights: a, final_weights: b } = summary.files;
    if (!a || !b || !existsSync(join(dir, a)) || !existsSync(join(dir, b))) {
      return { state: 'stale', summary, detail: 'no weights files (--save-weights)' };
    }
  }
  return { state: 'complete', summary, detail: '' };
}

/**
 * Remove the temp files (`<file>.tmp-<pid>-<hex>`, src/io/atomic.ts) that a killed writer left
 * beside the files of these runs: those of dead processes, and those of `ownPid` when the caller
 * knows its own writers are stopped. Another live process's temp files are left alone. Returns
 * the names removed.
 */
export function removeOrphanTemps(dir: string, ids: Iterable<string>, ownPid?: number): string[] {
  const stems = new Set<string>(['sweep.json']);
  for (const id of ids) for (const f of Object.values(runFiles(id))) stems.add(f);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of entries) {
    const m = /^(.*)\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m || !stems.has(m[1]!)) continue;
    const pid = Number(m[2]);
    if (pid === ownPid || !processAlive(pid)) {
      rmSync(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/** Remove every file of a run (used for runs cut off by an interruption). */
export function removeRunFiles(dir: string, id: string): void {
  for (const f of Object.values(runFiles(id))) rmSync(join(dir, f), { force: true });
}

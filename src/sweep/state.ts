import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runFiles, sha256Of, type RunSummary } from './runOne.js';

/**
 * Where one run of a sweep stands in a results folder:
 * - `complete`: its summary says ok, carries the run's hash, and its CSV has the summary's sha256;
 * - `failed`: its summary (with the run's hash) says failed — the reason and step are in it;
 * - `stale`: a summary made by another config (hash differs), or whose CSV changed since;
 * - `partial`: files of the run but no summary (a run that was stopped or killed);
 * - `missing`: no file of the run.
 * Only `complete` runs are skipped by a resumed sweep.
 */
export type RunStateName = 'complete' | 'failed' | 'stale' | 'partial' | 'missing';

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
  let summary: RunSummary | null = null;
  try {
    summary = JSON.parse(readFileSync(join(dir, names.json), 'utf8')) as RunSummary;
  } catch {
    const any = [names.csv, names.json, names.initWeights, names.finalWeights].some((f) => existsSync(join(dir, f)));
    return any ? { state: 'partial', summary: null, detail: 'no summary' } : { state: 'missing', summary: null, detail: 'no files' };
  }
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

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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
    if (pid === ownPid || !alive(pid)) {
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

import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configHash } from '../config/load.js';
import { optimizerName, type Config } from '../config/types.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { lockDir, tookOverNote } from '../io/lock.js';
import { checkOutputDir, makeDirs } from '../io/paths.js';
import { runId, type RunSpec } from '../results/runs.js';
import { describeRuns, gridOf } from './grid.js';
import { runHash, sharedSettings } from '../results/hash.js';
import { runFiles } from '../results/runs.js';
import type { RunSummary } from '../results/summary.js';
import { runState } from '../results/state.js';
import { requireSweepFile } from '../results/sweepFile.js';
import { SWEEP_FILE } from '../results/runs.js';
import type { SweepFile } from '../results/sweepFile.js';

export interface MergeReport {
  outDir: string;
  inputs: string[];
  /** Ids of the runs the merged folder is meant to hold: every run some input declared (its sweep.json `runs`). */
  runs: string[];
  /**
   * Runs of the united grid (activation × optimizer × β × seed of the inputs' lists) that no input
   * declared: the merged folder does not claim them. Empty unless `partial` (else a usage error).
   */
  undeclared: RunSpec[];
  /** Stopped by the signal before every run was looked at. */
  interrupted: boolean;
  /** Runs copied into outDir. */
  copied: string[];
  /** Runs outDir held complete already, with the same CSV. */
  alreadyThere: string[];
  /** Runs no folder holds complete (nor failed). */
  missing: string[];
  /** Runs held complete by several folders with different CSVs: none of them is copied. */
  conflicts: { id: string; dirs: string[] }[];
  /** Runs held only as failed runs (copied, so `status` shows them). */
  failed: { id: string; reason: string; dir: string }[];
}

/** Whether the merged folder holds every run, complete. */
export const mergeComplete = (r: MergeReport): boolean =>
  r.missing.length === 0 && r.conflicts.length === 0 && r.failed.length === 0;

/** One config for the merged folder: the inputs' own when they agree, else their grid lists united. */
function mergedConfig(configs: Readonly<Config>[]): Config {
  const first = structuredClone(configs[0]!) as Config;
  if (configs.every((c) => configHash(c) === configHash(first))) return first;
  const union = <T>(lists: readonly T[][]): T[] => [...new Set(lists.flat())];
  first.model.activations = union(configs.map((c) => c.model.activations));
  // By name: a composed optimizer is an object, the same one in every config that names it.
  const byName = new Map(configs.flatMap((c) => c.train.optimizers).map((e) => [optimizerName(e), e]));
  first.train.optimizers = [...byName.values()];
  first.train.betas = union(configs.map((c) => c.train.betas));
  first.train.seeds = union(configs.map((c) => c.train.seeds));
  return first;
}

/** Copy a run's files (CSV, weights, then the summary last, each atomically) from one folder to another. */
function copyRun(from: string, to: string, summary: RunSummary): void {
  rmSync(join(to, runFiles(summary.id).json), { force: true });
  const names = [summary.files.csv, summary.files.init_weights, summary.files.final_weights].filter((f): f is string => !!f);
  for (const f of [...names, runFiles(summary.id).json]) writeFileAtomic(join(to, f), readFileSync(join(from, f)));
}

export interface MergeOptions {
  /** Merge even when the inputs do not cover the grid they declare together (see MergeReport.undeclared). */
  partial?: boolean;
  /** Aborting stops after the run being copied; what was copied stays, each run whole. */
  signal?: AbortSignal;
  /** Notes for stderr (a stale lock taken over). */
  onNote?: (line: string) => void;
}

/**
 * Merge results folders (shards of one grid, or sweeps of the same settings over different seeds
 * or optimizers) into outDir: every run held complete somewhere is copied once; a run held by
 * several folders must have byte-identical CSVs. Writes outDir/sweep.json for the united grid, so
 * `status` and a resumed `run --out outDir` see what is still missing. The inputs must agree on
 * every setting but `name` and the grid lists (a usage error otherwise).
 *
 * The merged config's grid is the product of the inputs' lists united; if the inputs together do
 * not declare every run of it (e.g. `--seeds 0 --only adam` and `--seeds 1 --only muon`), the
 * merge is a usage error listing the runs none of them declared, before anything is written,
 * unless `partial`: then the merged sweep.json lists only the declared runs and `status` shows the
 * others as missing. Never throws for declared runs missing or in conflict: it reports them.
 * outDir is locked while it is written (src/io/lock.ts).
 */
export async function mergeResults(inputs: string[], outDir: string, options: MergeOptions = {}): Promise<MergeReport> {
  if (inputs.length === 0) throw new UsageError('merge: expected at least one results folder');
  checkOutputDir(outDir, `--out ${outDir}`);
  const out = resolve(outDir);
  const sources = inputs.map((dir) => {
    if (resolve(dir) === out) throw new UsageError(`merge: ${dir} is also --out; merge into another folder`);
    return { dir, sweep: requireSweepFile(dir) };
  });
  const reference = configHash(sharedSettings(sources[0]!.sweep.config));
  for (const s of sources.slice(1)) {
    if (configHash(sharedSettings(s.sweep.config)) !== reference) {
      throw new UsageError(`merge: ${s.dir} was made with other settings than ${sources[0]!.dir} (they differ beyond name and the grid lists)`);
    }
  }
  const config = mergedConfig(sources.map((s) => s.sweep.config));
  const declared = new Set(sources.flatMap((s) => s.sweep.runs));
  const fullGrid = gridOf(config);
  const grid = fullGrid.filter((spec) => declared.has(runId(spec)));
  const undeclared = fullGrid.filter((spec) => !declared.has(runId(spec)));
  if (undeclared.length > 0 && !options.partial) {
    throw new UsageError(
      `merge: the inputs' grid has ${fullGrid.length} runs but no input declares ${undeclared.length} of them: ` +
        `${describeRuns(undeclared)}; add the folders that hold them, or pass --partial to merge without them`,
    );
  }

  makeDirs(out);
  const lock = lockDir(out, 'merge');
  try {
    if (lock.tookOver) options.onNote?.(tookOverNote(out, lock.tookOver));
    return await mergeLocked(out, inputs, sources, config, grid, undeclared, fullGrid.length, options.signal);
  } finally {
    lock.release();
  }
}

async function mergeLocked(
  out: string,
  inputs: string[],
  sources: { dir: string }[],
  config: Config,
  grid: RunSpec[],
  undeclared: RunSpec[],
  gridRuns: number,
  signal: AbortSignal | undefined,
): Promise<MergeReport> {
  const report: MergeReport = {
    outDir: out,
    inputs,
    runs: grid.map(runId),
    undeclared,
    interrupted: false,
    copied: [],
    alreadyThere: [],
    missing: [],
    conflicts: [],
    failed: [],
  };
  for (const spec of grid) {
    // Let a signal in between two runs (each copy is synchronous and whole).
    await new Promise((r) => setImmediate(r));
    if (signal?.aborted) {
      report.interrupted = true;
      break;
    }
    const id = runId(spec);
    const hash = runHash(config, spec);
    const here = runState(out, id, hash);
    const held: { dir: string; sha: string; summary: RunSummary }[] = [];
    let failed: { dir: string; summary: RunSummary } | null = here.state === 'failed' ? { dir: out, summary: here.summary! } : null;
    if (here.state === 'complete') held.push({ dir: out, sha: here.summary!.csv_sha256!, summary: here.summary! });
    for (const { dir } of sources) {
      const st = runState(dir, id, hash);
      if (st.state === 'complete') held.push({ dir, sha: st.summary!.csv_sha256!, summary: st.summary! });
      else if (st.state === 'failed') failed ??= { dir, summary: st.summary! };
    }
    if (new Set(held.map((h) => h.sha)).size > 1) {
      report.conflicts.push({ id, dirs: held.map((h) => h.dir) });
    } else if (here.state === 'complete') {
      report.alreadyThere.push(id);
    } else if (held.length > 0) {
      copyRun(held[0]!.dir, out, held[0]!.summary);
      report.copied.push(id);
    } else if (failed) {
      if (failed.dir !== out) copyRun(failed.dir, out, failed.summary);
      report.failed.push({ id, reason: failed.summary.failure?.reason ?? 'failed', dir: failed.dir });
    } else {
      report.missing.push(id);
    }
  }
  // What the folder claims: the declared runs only; `status` shows the rest of the grid as missing.
  const sweep: SweepFile = {
    config,
    runs: report.runs,
    grid_runs: gridRuns,
    shard: null,
    merged_from: inputs,
    ...(undeclared.length > 0 ? { undeclared: undeclared.map(runId) } : {}),
    created_at: new Date().toISOString(),
  };
  writeJsonAtomic(join(out, SWEEP_FILE), sweep);
  return report;
}

import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { runId } from '../train/train.js';
import { gridOf } from './grid.js';
import { runHash, sharedSettings } from './runHash.js';
import { runFiles, type RunSummary } from './runOne.js';
import { runState } from './state.js';
import { requireSweepFile } from './status.js';
import { SWEEP_FILE, type SweepFile } from './sweepFile.js';

export interface MergeReport {
  outDir: string;
  inputs: string[];
  /** Ids of the runs the merged folder is meant to hold: the union of the inputs' grids. */
  runs: string[];
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
  first.train.optimizers = union(configs.map((c) => c.train.optimizers));
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

/**
 * Merge results folders (shards of one grid, or sweeps of the same settings over different seeds
 * or optimizers) into outDir: every run held complete somewhere is copied once; a run held by
 * several folders must have byte-identical CSVs. Writes outDir/sweep.json for the united grid, so
 * `status` and a resumed `run --out outDir` see what is still missing. The inputs must agree on
 * every setting but `name` and the grid lists (a usage error otherwise). Never throws for missing
 * or conflicting runs: it reports them.
 */
export function mergeResults(inputs: string[], outDir: string): MergeReport {
  if (inputs.length === 0) throw new UsageError('merge: expected at least one results folder');
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
  const wanted = new Set(sources.flatMap((s) => gridOf(s.sweep.config).map(runId)));
  const grid = gridOf(config).filter((spec) => wanted.has(runId(spec)));

  const report: MergeReport = { outDir: out, inputs, runs: grid.map(runId), copied: [], alreadyThere: [], missing: [], conflicts: [], failed: [] };
  for (const spec of grid) {
    const id = runId(spec);
    const hash = runHash(config, spec);
    const here = runState(out, id, hash);
    const held: { dir: string; sha: string; summary: RunSummary }[] = [];
    let failed: { dir: string; summary: RunSummary } | null = here.state === 'failed' ? { dir: out, summary: here.summary! } : null;
    if (here.state === 'complete') held.push({ dir: out, sha: here.summary!.csv_sha256, summary: here.summary! });
    for (const { dir } of sources) {
      const st = runState(dir, id, hash);
      if (st.state === 'complete') held.push({ dir, sha: st.summary!.csv_sha256, summary: st.summary! });
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
  const sweep: SweepFile = {
    config,
    runs: report.runs,
    grid_runs: report.runs.length,
    shard: null,
    merged_from: inputs,
    created_at: new Date().toISOString(),
  };
  writeJsonAtomic(join(out, SWEEP_FILE), sweep);
  return report;
}

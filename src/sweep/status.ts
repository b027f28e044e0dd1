import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { formatOtherSettings, otherSettingsRuns, type OtherSettingsRun } from '../report/settings.js';
import { runId } from '../results/runs.js';
import { gridOf } from './grid.js';
import { runHash } from '../results/hash.js';
import type { RunSummary } from '../results/summary.js';
import { runState, type RunStateName } from '../results/state.js';
import { readSweepFile, requireSweepFile, type SweepFile } from '../results/sweepFile.js';

export const RUN_STATES: readonly RunStateName[] = ['complete', 'failed', 'stale', 'partial', 'corrupt', 'missing'];

export interface StatusReport {
  dir: string;
  sweep: SweepFile;
  /** Every run the folder is meant to hold, in grid order. */
  runs: { id: string; state: RunStateName; detail: string }[];
  counts: Record<RunStateName, number>;
  /** Runs whose summary records other settings than sweep.json's config (src/report/settings.ts). */
  other_settings: OtherSettingsRun[];
}

/** The detail of a run of the grid that no input of a merge held (see sweepStatus). */
export const UNDECLARED = 'in the grid, but in no folder that was merged';

/**
 * Where each run of a results folder stands (src/sweep/state.ts), against the folder's sweep.json.
 * A folder that is not a shard (`shard: null`) stands for its config's whole grid: a run of the
 * grid that its `runs` leave out (a merge with --partial of folders that did not cover the grid)
 * is missing, with the detail UNDECLARED.
 */
export function sweepStatus(dir: string): StatusReport {
  const sweep = requireSweepFile(dir);
  const grid = gridOf(sweep.config);
  const specs = new Map(grid.map((spec) => [runId(spec), spec]));
  const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunStateName, number>;
  const summaries: RunSummary[] = [];
  const listed = new Set(sweep.runs);
  const undeclared = sweep.shard ? [] : grid.map(runId).filter((id) => !listed.has(id));
  const runs = [...sweep.runs, ...undeclared].map((id) => {
    const spec = specs.get(id);
    const st = !spec
      ? { state: 'missing' as const, detail: 'not in the config\'s grid', summary: null }
      : listed.has(id)
        ? runState(dir, id, runHash(sweep.config, spec))
        : { state: 'missing' as const, detail: UNDECLARED, summary: null };
    counts[st.state]++;
    if (st.summary) summaries.push(st.summary);
    return { id, state: st.state, detail: st.detail };
  });
  return { dir, sweep, runs, counts, other_settings: otherSettingsRuns(sweep.config, summaries) };
}

const HEADINGS: Record<Exclude<RunStateName, 'complete'>, string> = {
  failed: 'failed',
  stale: 'stale (made with another config, or edited since; a rerun redoes them)',
  partial: 'partial (stopped or killed mid-run; a rerun redoes them)',
  corrupt: 'corrupt (a summary that does not parse; a rerun redoes them)',
  missing: 'missing',
};

/** The report as text: a headline, the counts, then every run that is not complete, by state. */
export function formatStatus(report: StatusReport): string {
  const { sweep, counts } = report;
  const shard = sweep.shard ? ` (shard ${sweep.shard.index}/${sweep.shard.count} of a ${sweep.grid_runs}-run grid)` : '';
  const lines = [
    `${report.dir}: ${sweep.config.name}, ${report.runs.length} runs${shard}, ${sweep.config.train.steps} steps each`,
    RUN_STATES.map((s) => `${s} ${counts[s]}`).join(' · '),
  ];
  for (const state of ['failed', 'corrupt', 'partial', 'stale', 'missing'] as const) {
    const runs = report.runs.filter((r) => r.state === state);
    if (runs.length === 0) continue;
    lines.push(`${HEADINGS[state]}:`);
    const withDetail = (r: { detail: string }) => state === 'failed' || state === 'corrupt' || r.detail === UNDECLARED;
    for (const r of runs) lines.push(withDetail(r) ? `  ${r.id}: ${r.detail}` : `  ${r.id}`);
  }
  lines.push(...formatOtherSettings(report.other_settings));
  return lines.join('\n') + '\n';
}

/** One array task of a Slurm study: its shard folder and, once the task has started, its report. */
export interface TaskStatus {
  index: number;
  dir: string;
  /** null: the task has not written its sweep.json yet (not started, or still queued). */
  report: StatusReport | null;
}

/** Where a study submitted by `margin-bench slurm` stands across its array tasks, before its merge. */
export interface TasksReport {
  dir: string;
  shardsDir: string;
  tasks: TaskStatus[];
  /** The runs of the started tasks, by state. */
  counts: Record<RunStateName, number>;
  /** The whole grid's size, from any started task's sweep.json; null while none has started. */
  grid_runs: number | null;
}

/**
 * The study `margin-bench slurm` submitted for the results folder `dir`, read from `<dir>-shards/`:
 * the task count from its array.sbatch (`#SBATCH --array=1-n`), each task's shard folder
 * `shard-i` through sweepStatus. null where `dir` has no such study.
 */
export function tasksStatus(dir: string): TasksReport | null {
  const shardsDir = `${dir.replace(/\/+$/, '')}-shards`;
  const script = join(shardsDir, 'array.sbatch');
  if (!existsSync(script)) return null;
  const array = /^#SBATCH --array=1-(\d+)\s*$/m.exec(readFileSync(script, 'utf8'));
  if (!array) throw new UsageError(`${script}: no "#SBATCH --array=1-n" line, so not a script margin-bench slurm wrote`);
  const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunStateName, number>;
  let gridRuns: number | null = null;
  const tasks = Array.from({ length: Number(array[1]) }, (_, i): TaskStatus => {
    const shard = join(shardsDir, `shard-${i + 1}`);
    if (!readSweepFile(shard).ok) return { index: i + 1, dir: shard, report: null };
    const report = sweepStatus(shard);
    for (const state of RUN_STATES) counts[state] += report.counts[state];
    gridRuns ??= report.sweep.grid_runs ?? null;
    return { index: i + 1, dir: shard, report };
  });
  return { dir, shardsDir, tasks, counts, grid_runs: gridRuns };
}

/** The tasks report as text: a headline, the run counts, then every task that is not complete and every failed run. */
export function formatTasksStatus(report: TasksReport): string {
  const started = report.tasks.filter((t) => t.report !== null);
  const listed = started.reduce((sum, t) => sum + t.report!.runs.length, 0);
  const waiting = report.tasks.length - started.length;
  const waitingRuns = report.grid_runs === null ? '' : ` (${report.grid_runs - listed} runs)`;
  const grid = report.grid_runs === null ? '' : ` of a ${report.grid_runs}-run grid`;
  const lines = [
    `${report.dir}: not merged yet; ${report.tasks.length} array tasks${grid} in ${report.shardsDir}`,
    [...RUN_STATES.map((s) => `${s} ${report.counts[s]}`), `not started ${waiting} tasks${waitingRuns}`].join(' · '),
  ];
  const open = report.tasks.filter((t) => t.report === null || t.report.counts.complete < t.report.runs.length);
  if (open.length > 0) lines.push('tasks not complete:');
  for (const t of open) {
    const r = t.report;
    const detail = r === null ? 'not started' : `${RUN_STATES.filter((s) => r.counts[s] > 0).map((s) => `${s} ${r.counts[s]}`).join(' · ')} of ${r.runs.length} runs`;
    lines.push(`  shard-${t.index}: ${detail}`);
  }
  const failed = started.flatMap((t) => t.report!.runs.filter((r) => r.state === 'failed').map((r) => `  shard-${t.index}/${r.id}: ${r.detail}`));
  if (failed.length > 0) lines.push('failed:', ...failed);
  if (open.length === 0) lines.push(`every task complete: margin-bench merge ${join(report.shardsDir, 'shard-*')} --out ${report.dir} (the merge job does this)`);
  return lines.join('\n') + '\n';
}

import { formatOtherSettings, otherSettingsRuns, type OtherSettingsRun } from '../report/settings.js';
import { runId } from '../results/runs.js';
import { gridOf } from './grid.js';
import { runHash } from '../results/hash.js';
import type { RunSummary } from '../results/summary.js';
import { runState, type RunStateName } from '../results/state.js';
import { requireSweepFile, type SweepFile } from '../results/sweepFile.js';

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

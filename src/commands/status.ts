import { Command } from 'commander';
import { readSweepFile } from '../results/sweepFile.js';
import { formatStatus, formatTasksStatus, sweepStatus, tasksStatus } from '../sweep/status.js';

/** `margin-bench status <dir>`: which runs of a results folder are complete, failed, stale, partial, corrupt or missing. */
export function statusCommand(): Command {
  return new Command('status')
    .description('what a results folder holds: runs complete, failed (with reason), stale, partial, corrupt and missing')
    .argument('<dir>', 'a results folder written by `run` or `merge` (with its sweep.json), or the --out of `margin-bench slurm` before its merge')
    .option('--json', 'print the report as JSON instead of text', false)
    .addHelpText(
      'after',
      `
complete: summary ok and its CSV unchanged; failed: the run went non-finite or threw (reason shown);
stale: made with another config, or its CSV edited since; partial: files but no summary (stopped
or killed mid-run); corrupt: a summary that does not parse; missing: no files, or (in a merged
folder) a run of the grid that no merged folder held. A rerun of \`run\` redoes all but complete.
Before the merge job of \`margin-bench slurm\` has written <dir>, \`status <dir>\` reports every array
task of <dir>-shards/ (its shard folder's runs, or not started).
Exit codes: 0 every run complete, 1 some run not complete, 2 not a results folder.

Examples:
  margin-bench status results/multiclass-proxy
  margin-bench status results/shard-3 --json
  margin-bench status results/paper          # after margin-bench slurm: progress across its tasks`,
    )
    .action((dir: string, flags: { json: boolean }) => {
      const tasks = readSweepFile(dir).ok ? null : tasksStatus(dir);
      if (tasks) {
        if (flags.json) {
          const perTask = tasks.tasks.map((t) => ({ task: t.index, dir: t.dir, started: t.report !== null, counts: t.report?.counts ?? null, runs: t.report?.runs ?? [] }));
          process.stdout.write(JSON.stringify({ dir: tasks.dir, shards_dir: tasks.shardsDir, grid_runs: tasks.grid_runs, counts: tasks.counts, tasks: perTask }, null, 2) + '\n');
        } else {
          process.stdout.write(formatTasksStatus(tasks));
        }
        const done = tasks.tasks.every((t) => t.report !== null && t.report.counts.complete === t.report.runs.length);
        if (!done) process.exitCode = 1;
        return;
      }
      const report = sweepStatus(dir);
      if (flags.json) {
        const { sweep, ...rest } = report;
        const out = { ...rest, name: sweep.config.name, shard: sweep.shard, grid_runs: sweep.grid_runs };
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      } else {
        process.stdout.write(formatStatus(report));
      }
      if (report.counts.complete < report.runs.length) process.exitCode = 1;
    });
}

import { Command } from 'commander';
import { formatStatus, sweepStatus } from '../sweep/status.js';

/** `margin-bench status <dir>`: which runs of a results folder are complete, failed, stale, partial, corrupt or missing. */
export function statusCommand(): Command {
  return new Command('status')
    .description('what a results folder holds: runs complete, failed (with reason), stale, partial, corrupt and missing')
    .argument('<dir>', 'a results folder written by `run` or `merge` (with its sweep.json)')
    .option('--json', 'print the report as JSON instead of text', false)
    .addHelpText(
      'after',
      `
complete: summary ok and its CSV unchanged; failed: the run went non-finite or threw (reason shown);
stale: made with another config, or its CSV edited since; partial: files but no summary (stopped
or killed mid-run); corrupt: a summary that does not parse; missing: no files, or (in a merged
folder) a run of the grid that no merged folder held. A rerun of \`run\` redoes all but complete.
Exit codes: 0 every run complete, 1 some run not complete, 2 not a results folder.

Examples:
  margin-bench status results/multiclass-proxy
  margin-bench status results/shard-3 --json`,
    )
    .action((dir: string, flags: { json: boolean }) => {
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

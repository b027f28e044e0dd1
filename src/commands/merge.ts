import { Command } from 'commander';
import { mergeComplete, mergeResults } from '../sweep/merge.js';

/** At most this many ids per problem line; the rest are counted. */
const SHOW = 20;
const list = (ids: string[]) => ids.slice(0, SHOW).join(', ') + (ids.length > SHOW ? `, … (${ids.length - SHOW} more)` : '');

/** `margin-bench merge <dirs...> --out <dir>`: combine shard folders, checking nothing is missing or contradictory. */
export function mergeCommand(): Command {
  return new Command('merge')
    .description('copy the runs of several results folders (e.g. CI shards) into one; fail listing runs missing or duplicated with different content')
    .argument('<dirs...>', 'results folders written by `run` (each with its sweep.json)')
    .requiredOption('--out <dir>', 'the merged folder (created if needed; runs already complete there are kept)')
    .addHelpText(
      'after',
      `
The folders must come from the same settings (they may differ in name and the grid lists, e.g.
seeds). A run found in several folders must have byte-identical CSVs. The merged folder gets a
sweep.json for the whole grid, so \`status\` shows what is missing and \`run --out <dir>\` completes it.
Exit codes: 0 every run of the grid merged, 1 some missing, failed or in conflict, 2 usage error.

Examples:
  margin-bench merge results/shard-* --out results/figure1
  margin-bench merge results/seeds-0-4 results/seeds-5-9 --out results/figure1`,
    )
    .action((dirs: string[], flags: { out: string }) => {
      const r = mergeResults(dirs, flags.out);
      process.stdout.write(
        `merged ${dirs.length} folder(s) into ${r.outDir}: ${r.runs.length} runs in the grid, ` +
          `${r.copied.length} copied, ${r.alreadyThere.length} already there\n`,
      );
      if (r.missing.length > 0) process.stderr.write(`merge: ${r.missing.length} run(s) missing: ${list(r.missing)}\n`);
      for (const c of r.conflicts) process.stderr.write(`merge: ${c.id} duplicated with different content in ${c.dirs.join(', ')}\n`);
      for (const f of r.failed) process.stderr.write(`merge: ${f.id} failed in ${f.dir}: ${f.reason}\n`);
      if (!mergeComplete(r)) process.exitCode = 1;
    });
}

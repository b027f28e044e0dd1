import { Command } from 'commander';
import { requirePath } from '../io/paths.js';
import { describeRuns } from '../sweep/grid.js';
import { mergeComplete, mergeResults } from '../sweep/merge.js';
import { exitCodeFor, withStopSignals } from './signals.js';

/** At most this many ids per problem line; the rest are counted. */
const SHOW = 20;
const list = (ids: string[]) => ids.slice(0, SHOW).join(', ') + (ids.length > SHOW ? `, … (${ids.length - SHOW} more)` : '');

/** `margin-bench merge <dirs...> --out <dir>`: combine shard folders, checking nothing is missing or contradictory. */
export function mergeCommand(): Command {
  return new Command('merge')
    .description('copy the runs of several results folders (e.g. CI shards) into one; fail listing runs missing or duplicated with different content')
    .argument('<dirs...>', 'results folders written by `run` (each with its sweep.json)')
    .requiredOption('--out <dir>', 'the merged folder (created if needed; runs already complete there are kept)')
    .option('--partial', 'merge even if the folders do not cover their grid (activation × optimizer × β × seed); status then lists the rest as missing', false)
    .addHelpText(
      'after',
      `
The folders must come from the same settings (they may differ in name and the grid lists, e.g.
seeds). A run found in several folders must have byte-identical CSVs. The merged grid is every
combination of the folders' activations, optimizers, βs and seeds; a combination that no folder
declares (e.g. one folder --seeds 0 --only adam, another --seeds 1 --only muon) is listed and the
merge refused before anything is written, unless --partial. The merged folder's sweep.json lists
the runs the folders declared, so \`status\` shows what is missing and \`run --out <dir>\` completes it.
Exit codes: 0 every declared run merged, 1 some missing, failed or in conflict, 2 usage error
(including combinations no folder declares, without --partial, and --out in use by another
run or merge), 130/143 interrupted by SIGINT/SIGTERM (runs copied so far are whole).

Examples:
  margin-bench merge results/shard-* --out results/multiclass-proxy
  margin-bench merge results/seeds-0-4 results/seeds-5-9 --out results/multiclass-proxy
  margin-bench merge results/shard-1 results/shard-2 --out results/partial --partial`,
    )
    .action(async (dirs: string[], flags: { out: string; partial: boolean }) => {
      requirePath(flags.out, '--out');
      const { result: r, received } = await withStopSignals((signal) =>
        mergeResults(dirs, flags.out, { partial: flags.partial, signal, onNote: (line) => process.stderr.write(`merge: note: ${line}\n`) }),
      );
      process.stdout.write(
        `merged ${dirs.length} folder(s) into ${r.outDir}: ${r.runs.length} runs in the grid, ` +
          `${r.copied.length} copied, ${r.alreadyThere.length} already there\n`,
      );
      if (r.interrupted) {
        process.stderr.write(`merge: interrupted${received ? ` (${received})` : ''}; run the same command again to finish\n`);
        process.exitCode = exitCodeFor(received ?? 'SIGINT');
        return;
      }
      if (r.undeclared.length > 0) {
        process.stderr.write(`merge: --partial: ${r.undeclared.length} run(s) of the grid are in no folder and not merged (status lists them as missing): ${describeRuns(r.undeclared)}\n`);
      }
      if (r.missing.length > 0) process.stderr.write(`merge: ${r.missing.length} run(s) missing: ${list(r.missing)}\n`);
      for (const c of r.conflicts) process.stderr.write(`merge: ${c.id} duplicated with different content in ${c.dirs.join(', ')}\n`);
      for (const f of r.failed) process.stderr.write(`merge: ${f.id} failed in ${f.dir}: ${f.reason}\n`);
      if (!mergeComplete(r)) process.exitCode = 1;
    });
}

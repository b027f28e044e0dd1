import { Command, Option } from 'commander';
import { coverage } from '../figures/coverage.js';
import { checkInputDir } from '../io/paths.js';
import { loadResults } from '../results/load.js';
import { settleSettings } from '../report/settings.js';
import { configLevels, reportTables, tablesCsv, tablesLatex, tablesMarkdown } from '../figures/tables.js';
import { UsageError } from '../errors.js';
import { checkMetrics, parseMetrics } from '../results/heldOut.js';
import { metricTablesCsv, metricTablesLatex, metricTablesMarkdown, metricTables } from '../figures/generalization.js';

const FORMATS = ['md', 'latex', 'tex', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/**
 * `--at-loss 1e-8` → −8: a loss as a decimal number, read as its log10 without converting it to a
 * float first, so that levels below float64's range (1e-400) are fine too.
 */
export function parseLossLevel(text: string): number {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  const mantissa = m ? Number(m[1]) : NaN;
  if (!m || !(mantissa > 0)) throw new UsageError(`--at-loss ${text}: expected a positive loss such as 1e-8`);
  return Math.log10(mantissa) + Number(m[2] ?? 0);
}

/** `margin-bench table <dir...> --format md|latex|csv`: the margin tables and verdict on stdout. */
export function tableCommand(): Command {
  return new Command('table')
    .description('print the final-margin table, the table at a common loss level and the diagonal verdict of one or more results folders')
    .argument('<dirs...>', 'results folder(s) of `margin-bench run`')
    .option('--allow-mixed', 'tabulate runs made with different settings (other than activation, optimizer, β, seed) together, one row per optimizer and settings', false)
    .option('--at-loss <losses...>', 'only the tables at these training losses (e.g. 1e-8, or 1e-8,1e-4), each run read where its loss first reaches the level (default: final, common-loss and every level the configs name)')
    .option('--metric <names...>', 'instead of the margin tables, a table of these metrics at the end of each run (mean ± 95% CI over seeds): CSV columns such as test_acc or p10_margin_linf, and robust_<linf|l2>@<radius>, e.g. test_acc,robust_linf@0.05')
    .addOption(new Option('--format <format>', 'md (Markdown), latex (booktabs tabulars) or csv (every cell, full precision)').choices(FORMATS).default('md'))
    .addHelpText(
      'after',
      `
Runs whose resolved settings differ (say train.steps) are refused (exit 2, naming the keys) unless
--allow-mixed: then each row carries its runs' values, e.g. "adam (steps=200)". Runs that stopped at
different steps because of train.target_log10_loss are not different settings.
--at-loss L: each run's margins where its loss first reaches L, interpolated in log10 loss between
the log points around it (the note says how far apart they were); runs that never reached L are
listed with their lowest loss. Without --at-loss the output also holds a table at each loss level
the runs' configs name (train.target_log10_loss, log.at_log10_loss).

Examples:
  margin-bench table results/multiclass-proxy                    # Markdown on stdout
  margin-bench table results/multiclass-proxy --format latex > table.tex
  margin-bench table shard-0 shard-1 --format csv
  margin-bench table results/paper-cpu --at-loss 1e-8       # compared at equal loss
  margin-bench table results/generalization --metric test_acc,robust_linf@0.05`,
    )
    .action((dirs: string[], flags: { format: Format; allowMixed: boolean; atLoss?: string[]; metric?: string[] }) => {
      const metrics = flags.metric ? parseMetrics(flags.metric) : null;
      if (metrics && flags.atLoss) throw new UsageError('--metric and --at-loss: give one of them (the metrics are read at the end of each run)');
      const asked = flags.atLoss?.flatMap((a) => a.split(',')).map(parseLossLevel);
      for (const dir of dirs) checkInputDir(dir, dir);
      const set = settleSettings(loadResults(dirs), 'table', flags.allowMixed);
      const notes = coverage(set).notes;
      for (const note of notes) process.stderr.write(`margin-bench: note: ${note}\n`);
      if (metrics) {
        checkMetrics(set.runs, metrics);
        const tables = metricTables(set, metrics);
        const format = flags.format === 'tex' ? 'latex' : flags.format;
        process.stdout.write(format === 'csv' ? metricTablesCsv(tables, metrics) : format === 'md' ? metricTablesMarkdown(tables, metrics) : metricTablesLatex(tables, metrics));
        return;
      }
      const all = reportTables(set, asked ?? configLevels(set));
      const tables = asked ? { ...all, final: [], commonLoss: [] } : all;
      if (tables.mixed) process.stderr.write(`margin-bench: note: ${tables.mixed}\n`);
      const text = flags.format === 'csv' ? tablesCsv(tables) : flags.format === 'md' ? tablesMarkdown(tables, notes) : tablesLatex(tables, notes);
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}

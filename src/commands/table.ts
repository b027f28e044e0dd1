import { Command, Option } from 'commander';
import { coverage } from '../figures/coverage.js';
import { checkInputDir } from '../io/paths.js';
import { loadResults } from '../results/load.js';
import { settleSettings } from '../report/settings.js';
import { reportTables, tablesCsv, tablesLatex, tablesMarkdown } from '../figures/tables.js';

const FORMATS = ['md', 'latex', 'tex', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** `margin-bench table <dir...> --format md|latex|csv`: the margin tables and verdict on stdout. */
export function tableCommand(): Command {
  return new Command('table')
    .description('print the final-margin table, the table at a common loss level and the diagonal verdict of one or more results folders')
    .argument('<dirs...>', 'results folder(s) of `margin-bench run`')
    .option('--allow-mixed', 'tabulate runs made with different settings (other than activation, optimizer, β, seed) together, one row per optimizer and settings', false)
    .addOption(new Option('--format <format>', 'md (Markdown), latex (booktabs tabulars) or csv (every cell, full precision)').choices(FORMATS).default('md'))
    .addHelpText(
      'after',
      `
Runs whose resolved settings differ (say train.steps) are refused (exit 2, naming the keys) unless
--allow-mixed: then each row carries its runs' values, e.g. "adam (steps=200)".

Examples:
  margin-bench table results/figure1                    # Markdown on stdout
  margin-bench table results/figure1 --format latex > table.tex
  margin-bench table shard-0 shard-1 --format csv`,
    )
    .action((dirs: string[], flags: { format: Format; allowMixed: boolean }) => {
      for (const dir of dirs) checkInputDir(dir, dir);
      const set = settleSettings(loadResults(dirs), 'table', flags.allowMixed);
      const notes = coverage(set).notes;
      for (const note of notes) process.stderr.write(`margin-bench: note: ${note}\n`);
      const tables = reportTables(set);
      if (tables.mixed) process.stderr.write(`margin-bench: note: ${tables.mixed}\n`);
      const text = flags.format === 'csv' ? tablesCsv(tables) : flags.format === 'md' ? tablesMarkdown(tables, notes) : tablesLatex(tables, notes);
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}

import { Command, Option } from 'commander';
import { coverage } from '../figures/coverage.js';
import { checkInputDir } from '../io/paths.js';
import { loadResults } from '../figures/load.js';
import { reportTables, tablesCsv, tablesLatex, tablesMarkdown } from '../figures/tables.js';

const FORMATS = ['md', 'latex', 'tex', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** `margin-bench table <dir...> --format md|latex|csv`: the margin tables and verdict on stdout. */
export function tableCommand(): Command {
  return new Command('table')
    .description('print the final-margin table, the table at a common loss level and the diagonal verdict of one or more results folders')
    .argument('<dirs...>', 'results folder(s) of `margin-bench run`')
    .addOption(new Option('--format <format>', 'md (Markdown), latex (booktabs tabulars) or csv (every cell, full precision)').choices(FORMATS).default('md'))
    .addHelpText(
      'after',
      `
Examples:
  margin-bench table results/figure1                    # Markdown on stdout
  margin-bench table results/figure1 --format latex > table.tex
  margin-bench table shard-0 shard-1 --format csv`,
    )
    .action((dirs: string[], flags: { format: Format }) => {
      for (const dir of dirs) checkInputDir(dir, dir);
      const set = loadResults(dirs);
      const notes = coverage(set).notes;
      for (const note of notes) process.stderr.write(`margin-bench: note: ${note}\n`);
      const tables = reportTables(set);
      const text = flags.format === 'csv' ? tablesCsv(tables) : flags.format === 'md' ? tablesMarkdown(tables, notes) : tablesLatex(tables, notes);
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}

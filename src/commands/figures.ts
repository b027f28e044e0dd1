import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { checkInputDir, checkOutputDir, requirePath } from '../io/paths.js';
import { DEFAULT_DPI, writeFigures } from '../figures/build.js';
import type { LossAxis } from '../figures/figures.js';
import { loadResults } from '../results/load.js';
import { settleSettings } from '../report/settings.js';
import { describePaired, reachPhrase } from '../report/finalTable.js';
import { NORM_NAMES } from '../optimizers/families.js';
import { ACTIVATION_LABEL } from '../figures/style.js';

interface FiguresFlags {
  out?: string;
  dpi: string;
  png: boolean;
  lossAxis: LossAxis;
  allowMixed: boolean;
}

/** --dpi: a number of dots per inch within what a PNG viewer or a printer makes sense of. */
export function parseDpi(text: string): number {
  const dpi = Number(text);
  if (!Number.isFinite(dpi) || dpi < 50 || dpi > 1200) throw new UsageError(`--dpi ${text}: expected a number from 50 to 1200`);
  return dpi;
}

/** `margin-bench figures <dir...>`: Figure 1(a), 1(b), 2 (and KKT alignment, composed, optimum), the tables and index.html. */
export function figuresCommand(): Command {
  return new Command('figures')
    .description('draw Figure 1(a), 1(b), Figure 2, the margin tables and index.html from the run files of one or more results folders')
    .argument('<dirs...>', 'results folder(s) of `margin-bench run` (several: shards of one sweep)')
    .option('--out <dir>', 'write into DIR', '<first dir>/figures')
    .option('--dpi <n>', 'PNG resolution in dots per inch (SVG px read as 1/96 inch)', String(DEFAULT_DPI))
    .option('--no-png', 'write SVGs only')
    .option('--allow-mixed', 'draw runs made with different settings (other than activation, optimizer, β, seed) together, labelled by their settings', false)
    .addOption(
      new Option('--loss-axis <kind>', 'loss axis: symlog (linear within ±1, log beyond) or linear').choices(['symlog', 'linear']).default('symlog'),
    )
    .addHelpText(
      'after',
      `
Writes figure1a, figure1b, figure2 (and alignment, when the CSVs have align_* columns; composed,
for composed optimizers; optimum and optimum_cosine, γ/γ* and cos(θ, W*) per norm, for depth-1
runs) as .svg and .png, table.md, table.tex, table.csv, verdict.csv and index.html (one
self-contained page).
Runs whose resolved settings differ (say train.steps) are refused (exit 2, naming the keys) unless
--allow-mixed: then each curve, legend entry and table row carries its runs' values (steps=200).

Examples:
  margin-bench figures results/multiclass-proxy                        # writes results/multiclass-proxy/figures/*
  margin-bench figures shard-0 shard-1 shard-2 --out fig      # merged shards of one sweep
  margin-bench figures results/multiclass-proxy --dpi 150 --loss-axis linear`,
    )
    .action(async (dirs: string[], flags: FiguresFlags) => {
      const dpi = parseDpi(flags.dpi);
      if (flags.out !== undefined) requirePath(flags.out, '--out');
      for (const dir of dirs) checkInputDir(dir, dir);
      const outText = flags.out === '<first dir>/figures' ? join(dirs[0]!, 'figures') : flags.out!;
      checkOutputDir(outText, `--out ${outText}`);
      const set = settleSettings(loadResults(dirs), 'figures', flags.allowMixed);
      const outDir = resolve(outText);
      const result = await writeFigures(set, { outDir, dpi, png: flags.png, lossAxis: flags.lossAxis });
      if (result.tables.mixed) process.stderr.write(`margin-bench: note: ${result.tables.mixed}\n`);
      for (const note of result.notes) process.stderr.write(`margin-bench: note: ${note}\n`);
      // A missing alignment figure is expected (older CSVs have no align_* columns): index.html says so.
      for (const s of result.skipped.filter((f) => f.name !== 'alignment' && f.name !== 'composed')) process.stderr.write(`margin-bench: note: ${s.name} not drawn: ${s.reason}\n`);
      const lines = [`${set.runs.length} runs; diagonal verdict on the final margins (paired by seed, 95% CI):`];
      for (const r of result.tables.final) {
        lines.push(`  ${ACTIVATION_LABEL[r.table.activation]}, β = ${r.table.beta}`);
        for (const n of NORM_NAMES) {
          const reach = r.table.optimum?.reach[n];
          lines.push(`    ${describePaired(n, r.table.paired[n])}${reach ? `; own family ${reachPhrase(reach)}` : ''}`);
        }
      }
      lines.push(...result.files.map((f) => `wrote ${f}`), `figures: ${outDir}`, '');
      process.stdout.write(lines.join('\n'));
    });
}

import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { PACKAGE_VERSION } from '../provenance.js';
import { coverage } from './coverage.js';
import { figureDefs, type FigureDef, type LossAxis, type SkippedFigure } from './figures.js';
import { indexHtml, type RenderedFigure } from './html.js';
import type { ResultSet } from '../results/load.js';
import { renderSvg, rendererVersions, svgToPng } from './render.js';
import { heldOutFigures, rankCorrelations, rankCorrelationsCsv, rankCorrelationsMarkdown } from './generalization.js';
import { hasHeldOut } from '../results/heldOut.js';
import { configLevels, reportTables, tablesCsv, tablesLatex, tablesMarkdown, verdictCsv, type ReportTables } from './tables.js';

export interface FiguresOptions {
  /** Folder to write into (created if needed). */
  outDir: string;
  /** PNG resolution, reading the SVG's px as 1/96 inch. */
  dpi: number;
  /** Also write PNGs (default true). */
  png?: boolean;
  lossAxis?: LossAxis;
}

export interface FiguresResult {
  /** Paths written, in order. */
  files: string[];
  figures: FigureDef[];
  skipped: SkippedFigure[];
  tables: ReportTables;
  notes: string[];
}

/** Default PNG resolution: print quality. */
export const DEFAULT_DPI = 300;

/**
 * `margin-bench figures`: from a loaded results set, write every figure (SVG, PNG), the tables
 * (Markdown, LaTeX, CSV, and the verdicts as CSV) and index.html into outDir. Deterministic: the
 * same runs give byte-identical files.
 */
export async function writeFigures(set: ResultSet, options: FiguresOptions): Promise<FiguresResult> {
  const cov = coverage(set);
  const defs = figureDefs(set, cov, { lossAxis: options.lossAxis ?? 'symlog' });
  // The held-out figures only where the runs have a held-out set (docs/science.md §13).
  const heldOut = hasHeldOut(set.runs) ? heldOutFigures(set) : { figures: [], skipped: [] };
  const figures: FigureDef[] = [...defs.figures, ...heldOut.figures];
  const skipped: SkippedFigure[] = [...defs.skipped, ...heldOut.skipped];
  // Besides the final and common-loss tables, one at each loss level the configs name.
  const tables = reportTables(set, configLevels(set));
  const files: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    const path = join(options.outDir, name);
    writeFileAtomic(path, data);
    files.push(path);
  };

  const rendered: RenderedFigure[] = [];
  for (const def of figures) {
    const svg = await renderSvg(def.spec);
    const names = [`${def.name}.svg`];
    write(names[0]!, svg);
    if (options.png !== false) {
      names.push(`${def.name}.png`);
      write(names[1]!, svgToPng(svg, options.dpi));
    }
    rendered.push({ def, svg, files: names });
  }
  const tableFiles = ['table.md', 'table.tex', 'table.csv', 'verdict.csv'];
  write('table.md', tablesMarkdown(tables, cov.notes));
  write('table.tex', tablesLatex(tables, cov.notes));
  write('table.csv', tablesCsv(tables));
  write('verdict.csv', verdictCsv(tables));
  const ranks = rankCorrelations(set);
  if (ranks.length > 0) {
    tableFiles.push('rank-correlations.md', 'rank-correlations.csv');
    write('rank-correlations.md', rankCorrelationsMarkdown(ranks));
    write('rank-correlations.csv', rankCorrelationsCsv(ranks));
  }
  write(
    'index.html',
    indexHtml({
      set,
      figures: rendered,
      skipped,
      tables,
      notes: cov.notes,
      tableFiles,
      tools: { 'margin-bench': PACKAGE_VERSION, ...rendererVersions() },
    }),
  );
  return { files, figures, skipped, tables, notes: cov.notes };
}

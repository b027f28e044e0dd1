import { inFamily, reachPhrase, type MarginTable } from '../report/finalTable.js';
import type { FigureDef, SkippedFigure } from './figures.js';
import type { ResultSet } from '../results/load.js';
import { ACTIVATION_LABEL, FONT_STACK, normLabel } from './style.js';
import {
  atLossLevels,
  emptyHeading,
  emptyNote,
  familyName,
  formatLossLevel,
  formatMeanStd,
  hasOptimum,
  levelNote,
  OPTIMUM_CAPTION,
  optimumRows,
  REACH_EXPLANATION,
  tableHeading,
  VERDICT_EXPLANATION,
  verdictRows,
  type ReportTable,
  type ReportTables,
} from './tables.js';

/**
 * index.html: one self-contained page (no external file, script or font is needed to read it)
 * with every figure inline as SVG and linked as SVG and PNG, both tables, the diagonal verdict and
 * the provenance of the runs. It holds no generation time, so the same results give the same page.
 */

export interface RenderedFigure {
  def: FigureDef;
  svg: string;
  /** File names beside index.html. */
  files: string[];
}

export interface PageInput {
  set: ResultSet;
  figures: RenderedFigure[];
  skipped: SkippedFigure[];
  tables: ReportTables;
  notes: string[];
  /** Other files written beside the page (tables). */
  tableFiles: string[];
  tools: Record<string, string>;
}

export const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function marginTableHtml(r: ReportTable): string {
  const t: MarginTable = r.table;
  const head = `<tr><th>optimizer (family)</th>${t.norms.map((n) => `<th>γ ${escapeHtml(normLabel(n))}</th>`).join('')}</tr>`;
  const rows = t.rows.map((r) => {
    const cells = t.norms.map((norm) => {
      const c = t.cells[r.label]![norm]!;
      const text = escapeHtml(formatMeanStd(c.mean, c.std));
      const best = t.winners[norm]!.row === r.label;
      const own = inFamily(r, norm);
      return `<td class="${[best ? 'best' : '', own ? 'own' : ''].join(' ').trim()}">${best ? `<strong>${text}</strong>` : text}</td>`;
    });
    return `<tr><th>${escapeHtml(familyName(r))}</th>${cells.join('')}</tr>`;
  });
  const verdict = verdictRows(t, false, r.kind === 'at-loss').map(
    (v) =>
      `<tr class="v-${v.status.toLowerCase().replace(/\W+/g, '-')}"><th>${normLabel(v.norm)}</th><td>${escapeHtml(v.family)}</td><td>${escapeHtml(v.comparison)}</td><td>${escapeHtml(v.difference)}</td><td>${v.agree}</td><td>${escapeHtml(v.status)}</td><td>${escapeHtml(v.winner)}</td>${v.reach === null ? '' : `<td>${escapeHtml(v.reach)}</td>`}</tr>`,
  );
  const note = levelNote(r);
  return [
    `<h3>${escapeHtml(tableHeading(r))}</h3>`,
    note ? `<p class="note">${escapeHtml(note)}</p>` : '',
    `<table class="margins">${head}${rows.join('')}</table>`,
    `<table class="verdict"><tr><th>norm</th><th>family</th><th>weakest member − best other</th><th>mean difference [95% CI]</th><th>seeds agree</th><th>verdict</th><th>best mean</th>${t.optimum ? '<th>own family reaches (of γ*)</th>' : ''}</tr>`,
    `${verdict.join('')}</table>`,
    ...(t.optimum ? [optimumTableHtml(t)] : []),
  ].join('\n');
}

/** docs/science.md §14.5: a depth-1 table's γ_N/γ*_N per optimizer and norm. */
function optimumTableHtml(t: MarginTable): string {
  const head = `<tr><th>optimizer (family)</th>${t.optimum!.norms.map((n) => `<th>γ/γ* ${escapeHtml(normLabel(n))}</th>`).join('')}</tr>`;
  const rows = optimumRows(t, (text, best) => `<td${best ? ' class="best"' : ''}>${best ? `<strong>${escapeHtml(text)}</strong>` : escapeHtml(text)}</td>`, (r) => `<th>${escapeHtml(familyName(r))}</th>`);
  return `<p class="note">${escapeHtml(OPTIMUM_CAPTION)}</p>\n<table class="optimum">${head}${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</table>`;
}

function verdictSummary(tables: ReportTable[]): string {
  const items = tables.map((r) => {
    const t = r.table;
    const reach = (n: string) => {
      const x = t.optimum?.reach[n];
      return x ? ` (own family ${reachPhrase(x)})` : '';
    };
    const parts = t.norms.map((n) => `${escapeHtml(normLabel(n))}: <span class="s-${t.paired[n]!.status}">${t.paired[n]!.status}</span>${reach(n)}`);
    return `<li>${ACTIVATION_LABEL[t.activation]}, β = ${t.beta} — ${parts.join(', ')}</li>`;
  });
  return `<ul>${items.join('')}</ul>`;
}

function distinct<T>(values: T[], key: (v: T) => string = (v) => JSON.stringify(v)): { value: T; count: number }[] {
  const m = new Map<string, { value: T; count: number }>();
  for (const v of values) {
    const k = key(v);
    const e = m.get(k);
    if (e) e.count++;
    else m.set(k, { value: v, count: 1 });
  }
  return [...m.values()];
}

function provenanceHtml(input: PageInput): string {
  const runs = input.set.runs.map((r) => r.summary);
  const all = [...runs, ...input.set.failed];
  const started = all.map((s) => s.started_at).filter(Boolean).sort();
  const finished = all.map((s) => s.finished_at).filter(Boolean).sort();
  const wall = all.reduce((s, r) => s + (r.wall_time_s ?? 0), 0);
  const li = (label: string, value: string) => `<li><strong>${escapeHtml(label)}</strong>: ${value}</li>`;
  const counted = (xs: { value: unknown; count: number }[], show: (v: unknown) => string) =>
    xs.map((x) => `${show(x.value)} <span class="count">(${x.count} run${x.count === 1 ? '' : 's'})</span>`).join('; ');
  const configs = distinct(all, (s) => s.config_hash).map(({ value, count }) => ({ hash: value.config_hash, config: value.config, count }));
  const code = (v: unknown) => `<code>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</code>`;
  return [
    '<ul>',
    li('folders', input.set.dirs.map(code).join(', ')),
    li('runs', `${runs.length} finished, ${input.set.failed.length} failed, ${input.set.missing.length} listed in sweep.json but absent, ${input.set.unfinished.length} CSV(s) without a summary`),
    li('run dates', started.length > 0 ? `${escapeHtml(started[0]!)} to ${escapeHtml(finished[finished.length - 1] ?? '?')} (total wall time ${(wall / 60).toFixed(1)} min)` : '—'),
    li('engine', counted(distinct(all.map((s) => s.engine)), code)),
    li('versions', counted(distinct(all.map((s) => s.versions)), code)),
    li('git commit', counted(distinct(all.map((s) => s.git_commit ?? 'unknown')), code)),
    li('sweep files', input.set.sweeps.length > 0 ? input.set.sweeps.map((s) => `${code(s.path)} (created ${escapeHtml(s.created_at ?? '?')}, ${s.runs.length} runs)`).join('; ') : 'none'),
    li('figures drawn with', Object.entries(input.tools).map(([k, v]) => code(`${k}@${v}`)).join(', ')),
    '</ul>',
    `<p>${configs.length} distinct resolved config${configs.length === 1 ? '' : 's'} (by config hash; shards of one sweep differ in their grid lists):</p>`,
    ...configs.map(
      (c) =>
        `<details><summary>config <code>${escapeHtml(c.hash.slice(0, 12))}</code> — ${c.count} run${c.count === 1 ? '' : 's'}</summary><pre>${escapeHtml(JSON.stringify(c.config, null, 2))}</pre></details>`,
    ),
  ].join('\n');
}

const CSS = `
body { font-family: ${FONT_STACK}; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #111; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; margin-top: 1.6em; }
figure { margin: 1.5em 0; } figure svg { max-width: 100%; height: auto; } figcaption { font-size: 0.92em; color: #333; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.92em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: right; } th:first-child { text-align: left; }
td.own { background: #f3f7fb; } td.best strong { color: #000; }
.s-holds { color: #0a6b2d; font-weight: bold; } .s-fails { color: #b00020; font-weight: bold; } .s-inconclusive { color: #8a6d00; }
tr.v-fails td, tr.v-fails th { background: #fdecee; }
table.verdict td { text-align: left; } td { white-space: nowrap; }
.note { font-size: 0.92em; color: #444; } .count { color: #666; } pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
`;

/** The tables at each loss level the configs name (docs/science.md §11.4). */
function atLossHtml(tables: ReportTables): string {
  return atLossLevels(tables)
    .map((level) =>
      [
        `<h3 style="font-size:1.2em">At loss ${escapeHtml(formatLossLevel(level))}</h3>`,
        ...tables.atLoss.filter((r) => r.level === level).map(marginTableHtml),
        ...tables.atLossEmpty.filter((e) => e.level === level).map((e) => `<h3>${escapeHtml(emptyHeading(e))}</h3>\n<p class="note">${escapeHtml(emptyNote(e))}</p>`),
      ].join('\n'),
    )
    .join('\n');
}

export function indexHtml(input: PageInput): string {
  const fig = input.figures.map(
    (f) =>
      `<figure id="${f.def.name}">\n${f.svg}\n<figcaption>${escapeHtml(f.def.caption)} Files: ${f.files.map((n) => `<a href="${n}">${n}</a>`).join(' · ')}</figcaption>\n</figure>`,
  );
  const skipped = input.skipped.map((s) => `<li><strong>${s.name}</strong> not drawn: ${escapeHtml(s.reason)}.</li>`);
  const mixed = input.tables.mixed ? `<h2>Mixed settings</h2><p>${escapeHtml(input.tables.mixed)}</p>` : '';
  const notes = input.notes.length > 0 ? `<h2>Incomplete results</h2><ul>${input.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>margin-bench: figures and tables</title>
<style>${CSS}</style>
</head>
<body>
<h1>Normalized margins: Figure 1(a), 1(b), Figure 2 and the table</h1>
<p>Gronich &amp; Vardi (arXiv 2602.16340), reproduced by margin-bench from the run files alone. Each optimizer should end with the largest margin in its own family's norm: the diagonal.</p>
<h2>Diagonal verdict (final margins, paired by seed)</h2>
${verdictSummary(input.tables.final)}
<p class="note">${escapeHtml(VERDICT_EXPLANATION)}</p>
${hasOptimum(input.tables) ? `<p class="note">${escapeHtml(REACH_EXPLANATION)}</p>\n` : ''}${mixed}
${notes}
<h2>Figures</h2>
${fig.join('\n')}
${skipped.length > 0 ? `<ul>${skipped.join('')}</ul>` : ''}
<h2>Tables</h2>
<p>Mean ± standard deviation over seeds; <strong>bold</strong> = the largest mean in its column; shaded = the optimizer's own family norm. Also as ${input.tableFiles.map((n) => `<a href="${n}">${n}</a>`).join(', ')}.</p>
<h3 style="font-size:1.2em">Final normalized margins</h3>
${input.tables.final.map(marginTableHtml).join('\n')}
<h3 style="font-size:1.2em">At a common loss level</h3>
${input.tables.commonLoss.map(marginTableHtml).join('\n')}
${atLossHtml(input.tables)}
<h2>Provenance</h2>
${provenanceHtml(input)}
</body>
</html>
`;
}

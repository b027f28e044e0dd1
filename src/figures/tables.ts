import { stringify } from 'csv-stringify/sync';
import { NORM_NAMES, OPTIMIZERS, type NormName } from '../optimizers/families.js';
import { marginTablesFrom, type MarginSample, type MarginTable, type PairedVerdict, type TableRow } from '../report/finalTable.js';
import { lossRange, valueAtLoss } from './align.js';
import type { LoadedRun, ResultSet } from '../results/load.js';
import { describeDiffs } from '../report/settings.js';
import { ACTIVATION_LABEL, NORM_LABEL, NORM_LATEX } from './style.js';

/**
 * docs/science.md §10 table, two ways: the final normalized margins, and the margins at a common loss level
 * that every run of the (activation, β) group reached: the lowest loss of its least-trained run,
 * each run read at its first passage of that level (src/figures/align.ts). Both come with the
 * diagonal verdict, paired by seed (src/report/finalTable.ts).
 */
export interface ReportTable {
  kind: 'final' | 'common-loss';
  table: MarginTable;
  /** log10 loss of the common level; null for the final table. */
  level: number | null;
  /** The run whose lowest loss sets the level. */
  levelSetBy: string | null;
}

export interface ReportTables {
  final: ReportTable[];
  commonLoss: ReportTable[];
  /** Runs of different settings tabulated together (`--allow-mixed`): which, in words; '' otherwise. */
  mixed: string;
}

const marginsOf = (get: (norm: NormName) => number) =>
  Object.fromEntries(NORM_NAMES.map((n) => [n, get(n)])) as Record<NormName, number>;

function sample(run: LoadedRun, margins: Record<NormName, number>): MarginSample {
  const { activation, optimizer, beta, seed } = run.summary.run;
  return { activation, optimizer, beta, seed, margins, variant: run.variant };
}

/** Group key (activation, β) of a run. */
const tableKey = (r: LoadedRun) => `${r.summary.run.activation}|${r.summary.run.beta}`;

export function reportTables(set: ResultSet): ReportTables {
  const finalSamples = set.runs.map((r) => sample(r, marginsOf((n) => r.rows[r.rows.length - 1]![`margin_${n}`]!)));
  const final = marginTablesFrom(finalSamples).map((table) => ({ kind: 'final' as const, table, level: null, levelSetBy: null }));

  const byTable = new Map<string, LoadedRun[]>();
  for (const r of set.runs) byTable.set(tableKey(r), [...(byTable.get(tableKey(r)) ?? []), r]);
  const commonLoss: ReportTable[] = [];
  for (const runs of byTable.values()) {
    let level = -Infinity;
    let setBy = '';
    for (const r of runs) {
      const { lowest } = lossRange(r.rows);
      if (lowest > level) [level, setBy] = [lowest, r.summary.id];
    }
    const samples = runs.map((r) => sample(r, marginsOf((n) => valueAtLoss(r.rows, level, `margin_${n}`)!)));
    for (const table of marginTablesFrom(samples)) commonLoss.push({ kind: 'common-loss', table, level, levelSetBy: setBy });
  }
  const mixed =
    set.mixed.length > 0 ? `Runs of different settings are shown together (--allow-mixed): they differ in ${describeDiffs(set.mixed)}; each row names its runs' values.` : '';
  return { final, commonLoss, mixed };
}

/** Seeds of a table: the largest per-row count, and whether every cell has it. */
export function seedCount(t: MarginTable): { max: number; uneven: boolean } {
  const counts = t.rows.map((r) => t.cells[r.label]!.l2.seeds);
  const max = Math.max(...counts);
  return { max, uneven: counts.some((c) => c !== max) };
}

// ---- number formatting ----------------------------------------------------------------------

/** Plain decimals for 1e-3 ≤ |x| < 1e4 (mean) or any |x| ≥ 1e-6 beside a plain mean (std); else mantissa × 10^exp. */
function parts(x: number, digits: number, plain: boolean): { plain: string } | { mantissa: string; exp: number } {
  if (!Number.isFinite(x)) return { plain: String(x) };
  if (x === 0) return { plain: '0' };
  const e = Math.floor(Math.log10(Math.abs(x)));
  // toFixed with `digits` significant digits (toPrecision would switch to exponents by itself).
  if (plain) return { plain: x.toFixed(Math.max(0, Math.min(20, digits - 1 - e))) };
  const [m, exp] = x.toExponential(digits - 1).split('e');
  return { mantissa: m!, exp: Number(exp) };
}

const isPlain = (x: number) => !Number.isFinite(x) || x === 0 || (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4);

function render(p: ReturnType<typeof parts>, latex: boolean): string {
  if ('plain' in p) return latex ? p.plain.replace('Infinity', '\\infty').replace('NaN', '\\mathrm{NaN}') : p.plain;
  return latex ? `${p.mantissa}\\times10^{${p.exp}}` : `${p.mantissa}e${p.exp}`;
}

/** A number for Markdown, HTML and the terminal: 0.02828, 226.3, 1.234e-5 (four significant digits). */
export function formatNumber(x: number, digits = 4): string {
  return render(parts(x, digits, isPlain(x)), false);
}

/** The same number in LaTeX math mode (without the dollars): 1.234\times10^{-5}. */
export function formatNumberLatex(x: number, digits = 4): string {
  return render(parts(x, digits, isPlain(x)), true);
}

/**
 * "mean ± std": the mean to four significant digits, the std to two, in the mean's notation
 * (0.005784 ± 0.00026, 1.234e-5 ± 2.1e-7); just the mean for one seed.
 */
export function formatMeanStd(mean: number, std: number, latex = false): string {
  const plain = isPlain(mean);
  const m = render(parts(mean, 4, plain), latex);
  if (!Number.isFinite(std)) return m;
  const s = render(parts(std, 2, plain && (std === 0 || Math.abs(std) >= 1e-6)), latex);
  return latex ? `${m} \\pm ${s}` : `${m} ± ${s}`;
}

// ---- what the tables say in words ------------------------------------------------------------

export function tableHeading(r: ReportTable): string {
  const t = r.table;
  const { max, uneven } = seedCount(t);
  const seeds = `${max} seed${max === 1 ? '' : 's'}${uneven ? ', fewer for some optimizers' : ''}`;
  const what = r.kind === 'final' ? 'Final normalized margins' : `Normalized margins at log10 loss = ${formatNumber(r.level!)}`;
  return `${what} — ${ACTIVATION_LABEL[t.activation]}, β = ${t.beta} (${seeds})`;
}

export function levelNote(r: ReportTable): string | null {
  if (r.kind !== 'common-loss') return null;
  return `The lowest loss every run of this group reached (set by ${r.levelSetBy}); each run is read where it first reaches it, interpolated in log10 loss between log points.`;
}

const STATUS_WORDS: Record<PairedVerdict['status'], string> = {
  holds: 'holds',
  fails: 'FAILS',
  inconclusive: 'inconclusive',
  'no-family': 'no family member run',
  'no-rival': 'no other optimizer run',
};

export interface VerdictRow {
  norm: NormName;
  family: string;
  comparison: string;
  difference: string;
  agree: string;
  status: string;
  winner: string;
}

/** One row per norm of a table's diagonal verdict, as text (shared by Markdown, HTML, LaTeX). */
export function verdictRows(t: MarginTable, latex = false): VerdictRow[] {
  return NORM_NAMES.map((norm) => {
    const v = t.paired[norm];
    const members = t.rows.filter((r) => OPTIMIZERS[r.optimizer].family === norm).map((r) => r.label);
    const n = v.diffs.length;
    const f = latex ? formatNumberLatex : formatNumber;
    const difference =
      n === 0 ? '—' : n === 1 ? f(v.meanDiff) : latex ? `${f(v.meanDiff)}\\ [${f(v.lo, 3)}, ${f(v.hi, 3)}]` : `${f(v.meanDiff)} [${f(v.lo, 3)}, ${f(v.hi, 3)}]`;
    const w = t.winners[norm];
    return {
      norm,
      family: members.length > 0 ? members.join(', ') : '—',
      comparison: v.weakest && v.rival ? `${v.weakest} − ${v.rival}` : '—',
      difference,
      agree: n === 0 ? '—' : `${v.agree}/${n}`,
      status: STATUS_WORDS[v.status],
      winner: `${w.row}${w.familyPresent ? (w.ownFamily ? ' (own family)' : ' (other family)') : ''}`,
    };
  });
}

export const VERDICT_EXPLANATION =
  'Diagonal verdict, paired by seed: for each norm, the weakest member of its own family minus the best other optimizer, ' +
  'per seed (all optimizers of a seed share its data and initial weights); mean difference with a 95% Student-t interval, ' +
  'and how many seeds have a positive difference. "holds": the interval lies above 0; "FAILS": below 0; "inconclusive": it contains 0 ' +
  '(or fewer than 2 seeds). "best mean" is the optimizer with the largest mean in that column.';

// ---- Markdown ---------------------------------------------------------------------------------

function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

function marginRows(t: MarginTable, cell: (text: string, best: boolean) => string, name: (r: TableRow) => string): string[][] {
  return t.rows.map((r) => [
    name(r),
    ...NORM_NAMES.map((norm) => {
      const c = t.cells[r.label]![norm];
      return cell(formatMeanStd(c.mean, c.std), t.winners[norm].row === r.label);
    }),
  ]);
}

/** `adam (ℓ∞)`, `adam (steps=200) (ℓ∞)`. */
export const familyName = (r: TableRow): string => `${r.label} (${NORM_LABEL[OPTIMIZERS[r.optimizer].family]})`;

function markdownBlock(r: ReportTable): string {
  const t = r.table;
  const out = [`### ${tableHeading(r)}`, ''];
  const note = levelNote(r);
  if (note) out.push(note, '');
  out.push(
    markdownTable(
      ['optimizer (family)', ...NORM_NAMES.map((n) => `γ ${NORM_LABEL[n]}`)],
      marginRows(t, (text, best) => (best ? `**${text}**` : text), familyName),
    ),
    '',
    markdownTable(
      ['norm', 'family', 'weakest member − best other', 'mean difference [95% CI]', 'seeds agree', 'verdict', 'best mean'],
      verdictRows(t).map((v) => [NORM_LABEL[v.norm], v.family, v.comparison, v.difference, v.agree, v.status, v.winner]),
    ),
    '',
  );
  return out.join('\n');
}

/** The whole report as Markdown: both tables for every (activation, β), verdicts, notes. */
export function tablesMarkdown(tables: ReportTables, notes: readonly string[]): string {
  const out = [
    '# Normalized margins (docs/science.md §10)',
    '',
    'Mean ± standard deviation over seeds; **bold** = the largest mean in its column. γ_N = q_min / N(θ)^D.',
    '',
    VERDICT_EXPLANATION,
    '',
  ];
  if (tables.mixed) out.push(`**Mixed settings.** ${tables.mixed}`, '');
  if (notes.length > 0) out.push('**Incomplete results.**', '', ...notes.map((n) => `- ${n}`), '');
  out.push('## Final normalized margins', '', ...tables.final.map(markdownBlock));
  out.push('## At a common loss level', '', ...tables.commonLoss.map(markdownBlock));
  return out.join('\n');
}

// ---- LaTeX ------------------------------------------------------------------------------------

const texEscape = (s: string) => s.replace(/\\/g, '\\textbackslash{}').replace(/([_%&#$])/g, '\\$1');

function latexBlock(r: ReportTable): string {
  const t = r.table;
  const out: string[] = [];
  const seeds = seedCount(t);
  const where = r.kind === 'final' ? 'final' : `at $\\log_{10}$ loss $= ${formatNumberLatex(r.level!)}$`;
  out.push(`% ${tableHeading(r)}`);
  out.push('\\begin{tabular}{lrrrr}', '\\toprule');
  out.push(
    `\\multicolumn{5}{l}{${texEscape(ACTIVATION_LABEL[t.activation])}, $\\beta = ${t.beta}$, ${where}, ${seeds.max} seed${seeds.max === 1 ? '' : 's'}${seeds.uneven ? ' (fewer for some)' : ''}} \\\\`,
  );
  out.push('\\midrule');
  out.push(`optimizer & ${NORM_NAMES.map((n) => NORM_LATEX[n]).join(' & ')} \\\\`, '\\midrule');
  for (const r of t.rows) {
    const cells = NORM_NAMES.map((norm) => {
      const c = t.cells[r.label]![norm];
      const text = `$${formatMeanStd(c.mean, c.std, true)}$`;
      return t.winners[norm].row === r.label ? `$\\mathbf{${formatMeanStd(c.mean, c.std, true)}}$` : text;
    });
    out.push(`${texEscape(r.label)} & ${cells.join(' & ')} \\\\`);
  }
  out.push('\\midrule', 'norm & weakest $-$ best other & mean diff.\\ [95\\% CI] & seeds & verdict \\\\', '\\midrule');
  for (const v of verdictRows(t, true)) {
    out.push(
      `${NORM_LATEX[v.norm]} & ${texEscape(v.comparison).replace('−', '$-$')} & $${v.difference === '—' ? '-' : v.difference}$ & ${v.agree === '—' ? '--' : v.agree} & ${texEscape(v.status)} \\\\`,
    );
  }
  out.push('\\bottomrule', '\\end{tabular}', '');
  return out.join('\n');
}

/** The report as LaTeX tabulars (needs \usepackage{booktabs}); bold = column best. */
export function tablesLatex(tables: ReportTables, notes: readonly string[]): string {
  const out = [
    '% Normalized margins (margin-bench; docs/science.md §10): mean $\\pm$ std over seeds, bold = column best.',
    '% Verdict: weakest own-family member minus best other optimizer, paired by seed, 95% Student-t CI.',
    '% Needs \\usepackage{booktabs}.',
    ...(tables.mixed ? [`% Mixed settings: ${tables.mixed}`] : []),
    ...notes.map((n) => `% Incomplete: ${n}`),
    '',
    '% ---- final normalized margins ----',
    ...tables.final.map(latexBlock),
    '% ---- at a common loss level ----',
    ...tables.commonLoss.map(latexBlock),
  ];
  return out.join('\n');
}

// ---- CSV --------------------------------------------------------------------------------------

/** Every cell of both tables, one row each, full precision. */
export function tablesCsv(tables: ReportTables): string {
  const rows: (string | number)[][] = [];
  for (const r of [...tables.final, ...tables.commonLoss]) {
    const t = r.table;
    for (const row of t.rows) {
      for (const norm of NORM_NAMES) {
        const c = t.cells[row.label]![norm];
        rows.push([
          r.kind,
          t.activation,
          t.beta,
          r.level === null ? '' : r.level,
          row.optimizer,
          OPTIMIZERS[row.optimizer].family,
          norm,
          c.mean,
          Number.isFinite(c.std) ? c.std : '',
          c.seeds,
          t.winners[norm].row === row.label ? 1 : 0,
          row.variant,
        ]);
      }
    }
  }
  return stringify(rows.map((r) => r.map(String)), {
    header: true,
    columns: ['table', 'activation', 'beta', 'log10_loss_level', 'optimizer', 'family', 'norm', 'mean', 'std', 'seeds', 'best', 'settings'],
  });
}

/** The verdicts of both tables, one row per (table, activation, β, norm). */
export function verdictCsv(tables: ReportTables): string {
  const rows: string[][] = [];
  for (const r of [...tables.final, ...tables.commonLoss]) {
    const t = r.table;
    for (const norm of NORM_NAMES) {
      const v = t.paired[norm];
      const w = t.winners[norm];
      const num = (x: number) => (Number.isFinite(x) ? String(x) : '');
      rows.push([
        r.kind,
        t.activation,
        String(t.beta),
        r.level === null ? '' : String(r.level),
        norm,
        v.weakest ?? '',
        v.rival ?? '',
        String(v.diffs.length),
        num(v.meanDiff),
        num(v.lo),
        num(v.hi),
        String(v.agree),
        v.status,
        w.row,
        w.familyPresent ? String(w.ownFamily ? 1 : 0) : '',
      ]);
    }
  }
  return stringify(rows, {
    header: true,
    columns: [
      'table', 'activation', 'beta', 'log10_loss_level', 'norm', 'weakest_own', 'best_other', 'paired_seeds',
      'mean_diff', 'ci95_lo', 'ci95_hi', 'seeds_agree', 'verdict', 'best_mean', 'best_mean_is_own_family',
    ],
  });
}

import { stringify } from 'csv-stringify/sync';
import type { Activation } from '../config/types.js';
import { ownNormName, ratioColumn, stepSignature } from '../metrics/normTable.js';

type NormName = string;
import { formatReach, inFamily, marginTablesFrom, REACH_EXPLANATION, type MarginSample, type MarginTable, type PairedVerdict, type TableRow } from '../report/finalTable.js';
import { lossBracket, lossRange, valueAtLoss } from './align.js';
import { optimumNorms, resultNorms, type LoadedRun, type ResultSet } from '../results/load.js';
import { describeDiffs } from '../report/settings.js';
import { ACTIVATION_LABEL, normLabel, normLatex } from './style.js';

/**
 * docs/science.md §10 table, two ways: the final normalized margins, and the margins at a common loss level
 * that every run of the (activation, β) group reached: the lowest loss of its least-trained run,
 * each run read at its first passage of that level (src/figures/align.ts). Both come with the
 * diagonal verdict, paired by seed (src/report/finalTable.ts).
 */
export interface ReportTable {
  kind: 'final' | 'common-loss' | 'at-loss';
  table: MarginTable;
  /** log10 loss of the common level or of the asked-for level; null for the final table. */
  level: number | null;
  /** The run whose lowest loss sets the level (common-loss only). */
  levelSetBy: string | null;
  /** at-loss: the group's runs that never reached the level (not in the table). */
  unreached?: UnreachedRun[];
  /** at-loss: how wide the brackets the runs were read in were (docs/science.md §11.4). */
  bracket?: BracketWidth;
}

/** A run that never reached a loss level: where it ended. */
export interface UnreachedRun {
  id: string;
  optimizer: string;
  seed: number;
  /** log10 of the lowest loss it logged, and its last step. */
  lowest: number;
  steps: number;
}

/**
 * The widest bracket of an at-loss table: the most steps and log10-loss decades between the two log
 * points a run was read between, and the largest relative change |γ_b − γ_a| / |γ| of any margin
 * across one. Where a margin moves monotonically between the two points, the interpolation error
 * is below that change.
 */
export interface BracketWidth {
  steps: number;
  decades: number;
  relChange: number;
}

/** A group (activation, β) none of whose runs reached an asked-for level. */
export interface EmptyAtLoss {
  level: number;
  activation: Activation;
  beta: number;
  unreached: UnreachedRun[];
}

export interface ReportTables {
  final: ReportTable[];
  commonLoss: ReportTable[];
  /** One table per asked-for loss level (log10) and (activation, β) with at least one run that reached it. */
  atLoss: ReportTable[];
  /** The (level, activation, β) groups with no run that reached the level. */
  atLossEmpty: EmptyAtLoss[];
  /** Runs of different settings tabulated together (`--allow-mixed`): which, in words; '' otherwise. */
  mixed: string;
}

/** γ of every norm of the set (docs/science.md §12.6: the standard four and the extras every run logged). */
const marginsWith = (norms: readonly string[]) => (get: (norm: NormName) => number) =>
  Object.fromEntries(norms.map((n) => [n, get(n)])) as Record<NormName, number>;

/** `ratios`: γ_N/γ*_N at the same point, for the norms with an exact optimum (depth 1; absent otherwise). */
function sample(run: LoadedRun, margins: Record<NormName, number>, ratios?: Record<NormName, number>): MarginSample {
  const { activation, optimizer, beta, seed } = run.summary.run;
  const steps = stepSignature(run.summary.config, optimizer, run.summary.config.model.depth);
  return { activation, optimizer, beta, seed, margins, variant: run.variant, ...(ratios ? { ratios } : {}), steps };
}

/** Group key (activation, β) of a run. */
const tableKey = (r: LoadedRun) => `${r.summary.run.activation}|${r.summary.run.beta}`;

/**
 * The tables of a results set: final margins, margins at the common loss level and, for each of
 * `levels` (log10 loss, e.g. −8 for 1e-8), the margins at that loss (docs/science.md §11.4).
 */
export function reportTables(set: ResultSet, levels: readonly number[] = []): ReportTables {
  const norms = resultNorms(set.runs).map((n) => n.name);
  const marginsOf = marginsWith(norms);
  // Depth 1: each table also reads γ_N/γ*_N where it reads γ_N (docs/science.md §14.5).
  const optimal = optimumNorms(set.runs).map((n) => n.name);
  const ratiosOf = (get: (column: string) => number) => (optimal.length > 0 ? marginsWith(optimal)((n) => get(ratioColumn(n))) : undefined);
  const finalSamples = set.runs.map((r) => {
    const last = r.rows[r.rows.length - 1]!;
    return sample(r, marginsOf((n) => last[`margin_${n}`]!), ratiosOf((c) => last[c]!));
  });
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
    const samples = runs.map((r) => sample(r, marginsOf((n) => valueAtLoss(r.rows, level, `margin_${n}`)!), ratiosOf((c) => valueAtLoss(r.rows, level, c)!)));
    for (const table of marginTablesFrom(samples)) commonLoss.push({ kind: 'common-loss', table, level, levelSetBy: setBy });
  }
  const mixed =
    set.mixed.length > 0 ? `Runs of different settings are shown together (--allow-mixed): they differ in ${describeDiffs(set.mixed)}; each row names its runs' values.` : '';
  const atLoss: ReportTable[] = [];
  const atLossEmpty: EmptyAtLoss[] = [];
  for (const level of levels) {
    for (const runs of byTable.values()) {
      const samples: MarginSample[] = [];
      const unreached: UnreachedRun[] = [];
      const bracket: BracketWidth = { steps: 0, decades: 0, relChange: 0 };
      for (const r of runs) {
        const br = lossBracket(r.rows, level);
        if (!br) {
          const { activation: _a, optimizer, seed } = r.summary.run;
          unreached.push({ id: r.summary.id, optimizer, seed, lowest: lossRange(r.rows).lowest, steps: r.rows[r.rows.length - 1]!.step! });
          continue;
        }
        const at = (column: string) => br.a[column]! + br.w * (br.b[column]! - br.a[column]!);
        const margins = marginsOf((n) => at(`margin_${n}`));
        bracket.steps = Math.max(bracket.steps, br.b.step! - br.a.step!);
        bracket.decades = Math.max(bracket.decades, br.a.log10_loss! - br.b.log10_loss!);
        for (const n of norms) {
          const change = Math.abs(br.b[`margin_${n}`]! - br.a[`margin_${n}`]!) / Math.abs(margins[n]!);
          if (Number.isFinite(change)) bracket.relChange = Math.max(bracket.relChange, change);
        }
        samples.push(sample(r, margins, ratiosOf(at)));
      }
      if (samples.length === 0) {
        const { activation, beta } = runs[0]!.summary.run;
        atLossEmpty.push({ level, activation, beta, unreached });
        continue;
      }
      for (const table of marginTablesFrom(samples)) atLoss.push({ kind: 'at-loss', table, level, levelSetBy: null, unreached, bracket });
    }
  }
  return { final, commonLoss, atLoss, atLossEmpty, mixed };
}

/**
 * The loss levels (log10) the runs' configs name: `train.target_log10_loss` and
 * `log.at_log10_loss`, highest first; the figures tabulate each.
 */
export function configLevels(set: ResultSet): number[] {
  const levels = new Set<number>();
  for (const r of set.runs) {
    const cfg = r.summary.config as { train?: { target_log10_loss?: number | null }; log?: { at_log10_loss?: number[] } };
    if (typeof cfg.train?.target_log10_loss === 'number') levels.add(cfg.train.target_log10_loss);
    for (const l of cfg.log?.at_log10_loss ?? []) levels.add(l);
  }
  return [...levels].sort((a, b) => b - a);
}

/** A loss level for people: 1e-8 for log10 = −8, 10^-7.5 otherwise. */
export function formatLossLevel(level: number): string {
  return Number.isInteger(level) ? `1e${level}` : `10^${formatNumber(level)}`;
}

/**
 * The runs that never reached a level, by optimizer: `muon (β = 0.9; 10 runs: lowest loss
 * 10^-3.2 … 10^-1.1, after 20000 steps)`.
 */
export function describeUnreached(runs: readonly UnreachedRun[]): string[] {
  const byOpt = new Map<string, UnreachedRun[]>();
  for (const r of runs) byOpt.set(r.optimizer, [...(byOpt.get(r.optimizer) ?? []), r]);
  return [...byOpt].map(([opt, rs]) => {
    const lo = Math.min(...rs.map((r) => r.lowest));
    const hi = Math.max(...rs.map((r) => r.lowest));
    const steps = [...new Set(rs.map((r) => r.steps))].sort((a, b) => a - b);
    const loss = lo === hi ? `10^${lo.toFixed(2)}` : `10^${lo.toFixed(2)} … 10^${hi.toFixed(2)}`;
    const seeds = rs.map((r) => r.seed).sort((a, b) => a - b).join(', ');
    return `${opt} (seed${rs.length === 1 ? '' : 's'} ${seeds}): lowest loss ${loss} after ${steps.length === 1 ? steps[0] : `${steps[0]}–${steps.at(-1)}`} steps`;
  });
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

/** "mean ± 95% CI half-width": 0.8756 ± 0.0038; just the mean for one seed. */
export const ciText = (c: { mean: number; halfWidth: number }): string =>
  Number.isFinite(c.halfWidth) ? `${formatNumber(c.mean)} ± ${formatNumber(c.halfWidth, 2)}` : formatNumber(c.mean);

// ---- what the tables say in words ------------------------------------------------------------

export function tableHeading(r: ReportTable): string {
  const t = r.table;
  const { max, uneven } = seedCount(t);
  const seeds = `${max} seed${max === 1 ? '' : 's'}${uneven ? ', fewer for some optimizers' : ''}`;
  const what =
    r.kind === 'final'
      ? 'Final normalized margins'
      : r.kind === 'at-loss'
        ? `Normalized margins at loss ${formatLossLevel(r.level!)}`
        : `Normalized margins at log10 loss = ${formatNumber(r.level!)}`;
  return `${what} — ${ACTIVATION_LABEL[t.activation]}, β = ${t.beta} (${seeds})`;
}

export function levelNote(r: ReportTable): string | null {
  if (r.kind === 'at-loss') {
    const b = r.bracket!;
    const reading =
      `Each run is read where its loss first reaches ${formatLossLevel(r.level!)}, interpolated in log10 loss between the two log points around it ` +
      `(at most ${b.steps} step${b.steps === 1 ? '' : 's'} and ${formatNumber(b.decades, 2)} decades apart; across them a margin changes by at most ` +
      `${formatNumber(100 * b.relChange, 2)}%, which bounds the interpolation error where it moves monotonically).`;
    const un = r.unreached ?? [];
    return un.length === 0 ? reading : `${reading} Never reached ${formatLossLevel(r.level!)}, so not in the table: ${describeUnreached(un).join('; ')}.`;
  }
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
  /** Depth 1: `≥ 0.973`, the own family's smallest γ_N/γ*_N ('—' without a family member or an optimum); null for tables without optima. */
  reach: string | null;
}

/** One row per norm of a table's diagonal verdict, as text (shared by Markdown, HTML, LaTeX). */
export function verdictRows(t: MarginTable, latex = false, atLoss = false): VerdictRow[] {
  return t.norms.map((norm) => {
    const v = t.paired[norm]!;
    const members = t.rows.filter((r) => inFamily(r, norm)).map((r) => r.label);
    const n = v.diffs.length;
    const f = latex ? formatNumberLatex : formatNumber;
    const difference =
      n === 0 ? '—' : n === 1 ? f(v.meanDiff) : latex ? `${f(v.meanDiff)}\\ [${f(v.lo, 3)}, ${f(v.hi, 3)}]` : `${f(v.meanDiff)} [${f(v.lo, 3)}, ${f(v.hi, 3)}]`;
    const w = t.winners[norm]!;
    return {
      norm,
      family: members.length > 0 ? members.join(', ') : '—',
      comparison: v.weakest && v.rival ? `${v.weakest} − ${v.rival}` : '—',
      difference,
      agree: n === 0 ? '—' : `${v.agree}/${n}`,
      // In a table at a loss level, a missing family is one whose runs never reached the level.
      status: atLoss && v.status === 'no-family' ? 'no family member reached it' : STATUS_WORDS[v.status],
      winner: `${w.row}${w.familyPresent ? (w.twin ? ' (same steps as the family)' : w.ownFamily ? ' (own family)' : ' (other family)') : ''}`,
      reach: reachText(t, norm, latex),
    };
  });
}

/** A verdict row's fraction of the optimum: `≥ 0.973`; '—' where the norm has no optimum or no family member ran; null without optima. */
function reachText(t: MarginTable, norm: NormName, latex: boolean): string | null {
  if (!t.optimum) return null;
  const r = t.optimum.reach[norm];
  if (!r) return '—';
  if (Number.isNaN(r.min)) return latex ? '\\mathrm{NaN}' : 'NaN';
  return `${latex ? '\\geq' : '≥'} ${formatReach(r.min)}`;
}

/** Header of the verdict's optimum column. */
const REACH_HEADER = 'own family reaches (of γ*)';

/** Whether any table of the report has optima (depth 1): then the notes say what the fraction of the optimum is. */
export const hasOptimum = (tables: ReportTables): boolean => [...tables.final, ...tables.commonLoss, ...tables.atLoss].some((r) => r.table.optimum !== null);

export { REACH_EXPLANATION };

/** The γ_N/γ*_N rows of a table: per row, each norm's mean ± 95% CI half-width; `best` marks the largest mean of a column. */
export function optimumRows(t: MarginTable, cell: (text: string, best: boolean) => string, name: (r: TableRow) => string, text = ciText): string[][] {
  const o = t.optimum!;
  const best = Object.fromEntries(o.norms.map((n) => [n, t.rows.reduce((a, b) => (o.cells[b.label]![n]!.mean > o.cells[a.label]![n]!.mean ? b : a)).label]));
  return t.rows.map((r) => [name(r), ...o.norms.map((n) => cell(text(o.cells[r.label]![n]!), best[n] === r.label))]);
}

export const OPTIMUM_CAPTION = 'Fraction of the optimum γ_N/γ*_N (mean ± 95% Student-t half-width over seeds; bold = the largest mean in its column):';

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
    ...t.norms.map((norm) => {
      const c = t.cells[r.label]![norm]!;
      return cell(formatMeanStd(c.mean, c.std), t.winners[norm]!.row === r.label);
    }),
  ]);
}

/** `adam (ℓ∞)`, `adam (steps=200) (ℓ∞)`. */
export const familyName = (r: TableRow): string => `${r.label} (${normLabel(ownNormName(r.optimizer))})`;

function markdownBlock(r: ReportTable): string {
  const t = r.table;
  const out = [`### ${tableHeading(r)}`, ''];
  const note = levelNote(r);
  if (note) out.push(note, '');
  out.push(
    markdownTable(
      ['optimizer (family)', ...t.norms.map((n) => `γ ${normLabel(n)}`)],
      marginRows(t, (text, best) => (best ? `**${text}**` : text), familyName),
    ),
    '',
    markdownTable(
      ['norm', 'family', 'weakest member − best other', 'mean difference [95% CI]', 'seeds agree', 'verdict', 'best mean', ...(t.optimum ? [REACH_HEADER] : [])],
      verdictRows(t, false, r.kind === 'at-loss').map((v) => [normLabel(v.norm), v.family, v.comparison, v.difference, v.agree, v.status, v.winner, ...(v.reach === null ? [] : [v.reach])]),
    ),
    '',
  );
  if (t.optimum) {
    out.push(
      OPTIMUM_CAPTION,
      '',
      markdownTable(['optimizer (family)', ...t.optimum.norms.map((n) => `γ/γ* ${normLabel(n)}`)], optimumRows(t, (text, best) => (best ? `**${text}**` : text), familyName)),
      '',
    );
  }
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
    ...(hasOptimum(tables) ? [REACH_EXPLANATION, ''] : []),
  ];
  if (tables.mixed) out.push(`**Mixed settings.** ${tables.mixed}`, '');
  if (notes.length > 0) out.push('**Incomplete results.**', '', ...notes.map((n) => `- ${n}`), '');
  if (tables.final.length > 0) out.push('## Final normalized margins', '', ...tables.final.map(markdownBlock));
  if (tables.commonLoss.length > 0) out.push('## At a common loss level', '', ...tables.commonLoss.map(markdownBlock));
  for (const level of atLossLevels(tables)) {
    out.push(`## At loss ${formatLossLevel(level)}`, '', ...tables.atLoss.filter((r) => r.level === level).map(markdownBlock));
    for (const e of tables.atLossEmpty.filter((x) => x.level === level)) out.push(`### ${emptyHeading(e)}`, '', `${emptyNote(e)}`, '');
  }
  return out.join('\n');
}

/** The asked-for levels of the at-loss tables, in the order asked. */
export function atLossLevels(tables: ReportTables): number[] {
  return [...new Set([...tables.atLoss, ...tables.atLossEmpty].map((r) => r.level!))];
}

export const emptyHeading = (e: EmptyAtLoss): string => `Normalized margins at loss ${formatLossLevel(e.level)} — ${ACTIVATION_LABEL[e.activation]}, β = ${e.beta}`;
export const emptyNote = (e: EmptyAtLoss): string =>
  `No run of this group reached ${formatLossLevel(e.level)}: ${describeUnreached(e.unreached).join('; ')}.`;

// ---- LaTeX ------------------------------------------------------------------------------------

const texEscape = (s: string) => s.replace(/\\/g, '\\textbackslash{}').replace(/([_%&#$])/g, '\\$1');

function latexBlock(r: ReportTable): string {
  const t = r.table;
  const out: string[] = [];
  const seeds = seedCount(t);
  const where = r.kind === 'final' ? 'final' : `at $\\log_{10}$ loss $= ${formatNumberLatex(r.level!)}$`; // at-loss tables too
  // Columns: the norms, and room for the verdict's cells (four, five with the optimum's).
  const columns = Math.max(t.optimum ? 5 : 4, t.norms.length);
  out.push(`% ${tableHeading(r)}`);
  out.push(`\\begin{tabular}{l${'r'.repeat(columns)}}`, '\\toprule');
  out.push(
    `\\multicolumn{${1 + columns}}{l}{${texEscape(ACTIVATION_LABEL[t.activation])}, $\\beta = ${t.beta}$, ${where}, ${seeds.max} seed${seeds.max === 1 ? '' : 's'}${seeds.uneven ? ' (fewer for some)' : ''}} \\\\`,
  );
  out.push('\\midrule');
  out.push(`optimizer & ${t.norms.map((n) => normLatex(n)).join(' & ')} \\\\`, '\\midrule');
  for (const r of t.rows) {
    const cells = t.norms.map((norm) => {
      const c = t.cells[r.label]![norm]!;
      const text = `$${formatMeanStd(c.mean, c.std, true)}$`;
      return t.winners[norm]!.row === r.label ? `$\\mathbf{${formatMeanStd(c.mean, c.std, true)}}$` : text;
    });
    out.push(`${texEscape(r.label)} & ${cells.join(' & ')} \\\\`);
  }
  const reachHead = t.optimum ? ' & own family $\\geq$ (of $\\gamma^*$)' : '';
  out.push('\\midrule', `norm & weakest $-$ best other & mean diff.\\ [95\\% CI] & seeds & verdict${reachHead} \\\\`, '\\midrule');
  for (const v of verdictRows(t, true, r.kind === 'at-loss')) {
    const reach = v.reach === null ? '' : ` & ${v.reach === '—' ? '--' : `$${v.reach}$`}`;
    out.push(
      `${normLatex(v.norm)} & ${texEscape(v.comparison).replace('−', '$-$')} & $${v.difference === '—' ? '-' : v.difference}$ & ${v.agree === '—' ? '--' : v.agree} & ${texEscape(v.status)}${reach} \\\\`,
    );
  }
  if (t.optimum) {
    out.push('\\midrule', `$\\gamma/\\gamma^*$ & ${t.optimum.norms.map((n) => normLatex(n)).join(' & ')} \\\\`, '\\midrule');
    const latexCI = (c: { mean: number; halfWidth: number }) =>
      Number.isFinite(c.halfWidth) ? `${formatNumberLatex(c.mean)} \\pm ${formatNumberLatex(c.halfWidth, 2)}` : formatNumberLatex(c.mean);
    for (const row of optimumRows(t, (text, best) => (best ? `$\\mathbf{${text}}$` : `$${text}$`), (r) => texEscape(r.label), latexCI)) out.push(`${row.join(' & ')} \\\\`);
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
    ...(hasOptimum(tables) ? [`% ${REACH_EXPLANATION}`] : []),
    ...(tables.mixed ? [`% Mixed settings: ${tables.mixed}`] : []),
    ...notes.map((n) => `% Incomplete: ${n}`),
    '',
    ...(tables.final.length > 0 ? ['% ---- final normalized margins ----', ...tables.final.map(latexBlock)] : []),
    ...(tables.commonLoss.length > 0 ? ['% ---- at a common loss level ----', ...tables.commonLoss.map(latexBlock)] : []),
    ...atLossLevels(tables).flatMap((level) => [
      `% ---- at loss ${formatLossLevel(level)} ----`,
      ...tables.atLoss.filter((r) => r.level === level).flatMap((r) => [...(r.unreached?.length ? [`% Never reached: ${describeUnreached(r.unreached).join('; ')}`] : []), latexBlock(r)]),
      ...tables.atLossEmpty.filter((e) => e.level === level).map((e) => `% ${emptyNote(e)}`),
    ]),
  ];
  return out.join('\n');
}

// ---- CSV --------------------------------------------------------------------------------------

/**
 * Every cell of both tables, one row each, full precision. Depth 1 (docs/science.md §14.5): two
 * more columns, γ_N/γ*_N's mean and 95% half-width over seeds (empty for a norm without an optimum).
 */
export function tablesCsv(tables: ReportTables): string {
  const rows: (string | number)[][] = [];
  const optimum = hasOptimum(tables);
  for (const r of [...tables.final, ...tables.commonLoss, ...tables.atLoss]) {
    const t = r.table;
    for (const row of t.rows) {
      for (const norm of t.norms) {
        const c = t.cells[row.label]![norm]!;
        const ratio = t.optimum?.cells[row.label]![norm];
        rows.push([
          r.kind,
          t.activation,
          t.beta,
          r.level === null ? '' : r.level,
          row.optimizer,
          ownNormName(row.optimizer),
          norm,
          c.mean,
          Number.isFinite(c.std) ? c.std : '',
          c.seeds,
          t.winners[norm]!.row === row.label ? 1 : 0,
          row.variant,
          ...(optimum ? [ratio ? ratio.mean : '', ratio && Number.isFinite(ratio.halfWidth) ? ratio.halfWidth : ''] : []),
        ]);
      }
    }
  }
  return stringify(rows.map((r) => r.map(String)), {
    header: true,
    columns: [
      'table', 'activation', 'beta', 'log10_loss_level', 'optimizer', 'family', 'norm', 'mean', 'std', 'seeds', 'best', 'settings',
      ...(optimum ? ['ratio_mean', 'ratio_ci95_half_width'] : []),
    ],
  });
}

/**
 * The verdicts of both tables, one row per (table, activation, β, norm). Depth 1: three more
 * columns, the own family's smallest γ_N/γ*_N and the row and seed it belongs to (the x of
 * "reaches ≥ x of the optimum", unrounded; empty where the norm has no optimum or family member).
 */
export function verdictCsv(tables: ReportTables): string {
  const rows: string[][] = [];
  const optimum = hasOptimum(tables);
  for (const r of [...tables.final, ...tables.commonLoss, ...tables.atLoss]) {
    const t = r.table;
    for (const norm of t.norms) {
      const v = t.paired[norm]!;
      const w = t.winners[norm]!;
      const num = (x: number) => (Number.isFinite(x) ? String(x) : '');
      const reach = t.optimum?.reach[norm];
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
        ...(optimum ? (reach ? [Number.isNaN(reach.min) ? 'NaN' : String(reach.min), reach.row, String(reach.seed)] : ['', '', '']) : []),
      ]);
    }
  }
  return stringify(rows, {
    header: true,
    columns: [
      'table', 'activation', 'beta', 'log10_loss_level', 'norm', 'weakest_own', 'best_other', 'paired_seeds',
      'mean_diff', 'ci95_lo', 'ci95_hi', 'seeds_agree', 'verdict', 'best_mean', 'best_mean_is_own_family',
      ...(optimum ? ['own_min_ratio', 'own_min_ratio_row', 'own_min_ratio_seed'] : []),
    ],
  });
}

import type { Activation } from '../config/types.js';
import { OPTIMIZER_NAMES } from '../config/types.js';
import { meanCI, meanStd, type MeanCI } from './stats.js';
import { ownNormName, stepSignature } from '../metrics/normTable.js';
import { NORM_NAMES } from '../optimizers/families.js';
import type { RunSummary } from '../results/summary.js';

/** A logged norm by name: a standard one (`l2`, …) or a composed one (docs/science.md §12.6). */
type NormName = string;

export { meanStd };

/** One run's normalized margins at the point a table reports (its final row, or a common loss level). */
export interface MarginSample {
  activation: Activation;
  /** A preset's name or a composed optimizer's own. */
  optimizer: string;
  beta: number;
  seed: number;
  /** γ_N by norm name: the four standard norms, and any extra norm every sample of a table has. */
  margins: Record<NormName, number>;
  /** The settings label of runs of different settings tabulated together (`steps=200`); '' or absent otherwise. */
  variant?: string;
  /**
   * A depth-1 run's fraction of the exact optimum γ_N/γ*_N at the same point, by norm, for the
   * norms with an optimum (docs/science.md §14.5); absent for deeper networks and older runs.
   */
  ratios?: Record<NormName, number>;
  /**
   * What decides the optimizer's steps (stepSignature, src/metrics/normTable.ts): optimizers of
   * one signature take the same steps, so one is never the other's rival in a verdict.
   */
  steps?: string | null;
}

/**
 * A row of a table: one optimizer, or one optimizer under one of several settings (mixed runs,
 * labelled `adam (steps=200)`). Its family is the optimizer's.
 */
export interface TableRow {
  label: string;
  optimizer: string;
  variant: string;
}

export const rowLabel = (optimizer: string, variant = ''): string => (variant ? `${optimizer} (${variant})` : optimizer);

export interface MarginCell {
  mean: number;
  std: number;
  seeds: number;
  /** The value of each seed, for the paired verdict. */
  bySeed: Map<number, number>;
}

/**
 * The diagonal verdict for one norm N, paired by seed (all optimizers of a seed share its data
 * and initial weights): d_s = γ_N(weakest own-family member, s) − γ_N(best other optimizer, s),
 * with a 95% Student-t interval for the mean of d over the seeds both ran.
 * - `holds`: the interval lies above 0 (every own-family member beats every other optimizer);
 * - `fails`: it lies below 0 (some other optimizer beats a member of N's family);
 * - `inconclusive`: it contains 0, or fewer than 2 paired seeds;
 * - `no-family` / `no-rival`: no optimizer of N's family, or none outside it, in the table.
 */
export interface PairedVerdict {
  status: 'holds' | 'fails' | 'inconclusive' | 'no-family' | 'no-rival';
  /** The own-family row (its label) with the smallest mean γ_N. */
  weakest: string | null;
  /** The row outside N's family with the largest mean γ_N. */
  rival: string | null;
  seeds: number[];
  diffs: number[];
  meanDiff: number;
  lo: number;
  hi: number;
  /** Seeds with d_s > 0. */
  agree: number;
}

/** Normalized margins of one (activation, β) group: optimizer × norm (docs/science.md §10 table). */
export interface MarginTable {
  activation: Activation;
  beta: number;
  /** Registry order of the presets, then the composed optimizers as they first appear; then the order their settings labels first appear. */
  rows: TableRow[];
  /** The norms tabulated, in column order: the four standard ones, then the extra norms every run of the group logged (docs/science.md §12.6). */
  norms: NormName[];
  /** By row label. */
  cells: Record<string, Record<NormName, MarginCell>>;
  /** Per norm: the row with the largest mean, its optimizer, and whether it belongs to the norm's family. */
  /** `twin`: the row is outside the family but takes a member's steps (docs/science.md §10.3); absent otherwise. */
  winners: Record<NormName, { row: string; optimizer: string; ownFamily: boolean; familyPresent: boolean; twin?: true }>;
  /** Per norm: the paired-by-seed verdict. */
  paired: Record<NormName, PairedVerdict>;
  /** How close the runs come to the exact optima (depth 1); null where no norm has one for every run of the group. */
  optimum: OptimumTable | null;
}

/** The smallest γ_N/γ*_N of a norm's own family: over its members and their seeds, and where it is. */
export interface OptimumReach {
  /** NaN where some member's ratio is undefined (a NaN in its CSV). */
  min: number;
  row: string;
  seed: number;
}

/** docs/science.md §14.5: a table's fractions of the optimum, for the norms every run of the group has one for. */
export interface OptimumTable {
  /** In column order. */
  norms: NormName[];
  /** By row label and norm: γ_N/γ*_N, mean and 95% Student-t interval over seeds. */
  cells: Record<string, Record<NormName, MeanCI>>;
  /** By norm: the own family's smallest ratio ("reaches ≥ x of the optimum"); null where no member ran. */
  reach: Record<NormName, OptimumReach | null>;
}

/** docs/science.md §1: the presets whose implicit bias maximizes the margin in `norm` (a composed norm's family is its optimizer). */
export function familyOf(norm: NormName): string[] {
  const presets = OPTIMIZER_NAMES.filter((o) => ownNormName(o) === norm);
  return presets.length > 0 || (NORM_NAMES as readonly string[]).includes(norm) ? presets : [norm];
}

/** Whether a row's optimizer belongs to `norm`'s family (docs/science.md §1, §12). */
export const inFamily = (row: Pick<TableRow, 'optimizer'>, norm: NormName): boolean => ownNormName(row.optimizer) === norm;

/** The paired verdict for `norm` in one table (see PairedVerdict). */
export function pairedVerdict(norm: NormName, rows: readonly TableRow[], cells: MarginTable['cells'], level = 0.95, twins: ReadonlySet<string> = new Set()): PairedVerdict {
  const members = rows.filter((r) => inFamily(r, norm)).map((r) => r.label);
  const others = rows.filter((r) => !inFamily(r, norm) && !twins.has(r.label)).map((r) => r.label);
  const empty = { seeds: [], diffs: [], meanDiff: NaN, lo: NaN, hi: NaN, agree: 0 };
  if (members.length === 0) return { status: 'no-family', weakest: null, rival: null, ...empty };
  const weakest = members.reduce((a, b) => (cells[b]![norm].mean < cells[a]![norm].mean ? b : a));
  if (others.length === 0) return { status: 'no-rival', weakest, rival: null, ...empty };
  const rival = others.reduce((a, b) => (cells[b]![norm].mean > cells[a]![norm].mean ? b : a));
  const own = cells[weakest]![norm].bySeed;
  const their = cells[rival]![norm].bySeed;
  const seeds = [...own.keys()].filter((s) => their.has(s)).sort((a, b) => a - b);
  const diffs = seeds.map((s) => own.get(s)! - their.get(s)!);
  const agree = diffs.filter((d) => d > 0).length;
  if (diffs.length === 0) return { status: 'inconclusive', weakest, rival, ...empty };
  const ci = meanCI(diffs, level);
  const status = diffs.length < 2 ? 'inconclusive' : ci.lo > 0 ? 'holds' : ci.hi < 0 ? 'fails' : 'inconclusive';
  return { status, weakest, rival, seeds, diffs, meanDiff: ci.mean, lo: ci.lo, hi: ci.hi, agree };
}

const ofRow = (runs: readonly MarginSample[], row: TableRow) => runs.filter((r) => r.optimizer === row.optimizer && (r.variant ?? '') === row.variant);

/**
 * docs/science.md §14.5: per row and norm, γ_N/γ*_N over seeds; per norm, the smallest ratio of any
 * member of its own family on any seed, the x of "reaches ≥ x of the optimum". Only the norms
 * every sample has a ratio for; null where there are none (deeper networks, older runs).
 */
function optimumTable(norms: readonly NormName[], rows: readonly TableRow[], runs: readonly MarginSample[]): OptimumTable | null {
  const withRatio = norms.filter((n) => runs.every((r) => r.ratios !== undefined && n in r.ratios));
  if (withRatio.length === 0) return null;
  const cells: OptimumTable['cells'] = {};
  for (const row of rows) cells[row.label] = Object.fromEntries(withRatio.map((n) => [n, meanCI(ofRow(runs, row).map((r) => r.ratios![n]!))]));
  const reach: OptimumTable['reach'] = {};
  for (const n of withRatio) {
    const own = rows.filter((r) => inFamily(r, n)).flatMap((row) => ofRow(runs, row).map((r) => ({ min: r.ratios![n]!, row: row.label, seed: r.seed })));
    reach[n] = own.find((o) => Number.isNaN(o.min)) ?? own.reduce<OptimumReach | null>((a, b) => (a === null || b.min < a.min ? b : a), null);
  }
  return { norms: withRatio, cells, reach };
}

/**
 * "reaches ≥ x of the optimum": x rounded down to three decimals, so that the text stays a true
 * lower bound (0.97389 → 0.973); "—" where a ratio is undefined.
 */
export const formatReach = (min: number): string => (Number.isFinite(min) ? (Math.floor(min * 1000) / 1000).toFixed(3) : '—');

/** `reaches ≥ 0.973 of the optimum` (the terminal, the figures command, index.html). */
export const reachPhrase = (reach: OptimumReach): string =>
  Number.isNaN(reach.min) ? `has no ratio to the optimum (NaN for ${reach.row}, seed ${reach.seed})` : `reaches ≥ ${formatReach(reach.min)} of the optimum`;

/**
 * docs/science.md §1, §10: group samples by (activation, β), average each row's margins over seeds (a row is
 * an optimizer, or an optimizer and settings label), find each norm's winner and judge the
 * diagonal paired by seed. Groups keep the order they first appear in; rows follow the registry
 * order (ngd, signum, adam, muon, muon_signum, muon_adam), then the composed optimizers in the order
 * they first appear. The norms are the four standard ones and every extra norm all of a group's
 * samples carry (each a column, with a verdict row: does its own optimizer win it?).
 */
export function marginTablesFrom(samples: readonly MarginSample[]): MarginTable[] {
  const groups = new Map<string, MarginSample[]>();
  for (const s of samples) {
    const key = `${s.activation}|${s.beta}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const tables: MarginTable[] = [];
  for (const runs of groups.values()) {
    const { activation, beta } = runs[0]!;
    const variants = [...new Set(runs.map((r) => r.variant ?? ''))];
    const composed = [...new Set(runs.map((r) => r.optimizer))].filter((o) => !(OPTIMIZER_NAMES as readonly string[]).includes(o));
    const norms = [...NORM_NAMES, ...Object.keys(runs[0]!.margins).filter((n) => !(NORM_NAMES as readonly string[]).includes(n) && runs.every((r) => n in r.margins))];
    const rows: TableRow[] = [...OPTIMIZER_NAMES, ...composed].flatMap((optimizer) =>
      variants.filter((v) => runs.some((r) => r.optimizer === optimizer && (r.variant ?? '') === v)).map((variant) => ({ label: rowLabel(optimizer, variant), optimizer, variant })),
    );
    const cells: MarginTable['cells'] = {};
    for (const row of rows) {
      const mine = ofRow(runs, row);
      cells[row.label] = Object.fromEntries(
        norms.map((norm) => {
          const { mean, std, n } = meanStd(mine.map((r) => r.margins[norm]!));
          return [norm, { mean, std, seeds: n, bySeed: new Map(mine.map((r) => [r.seed, r.margins[norm]!])) }];
        }),
      ) as Record<NormName, MarginCell>;
    }
    // Rows outside a norm's family that take the steps of one of its members (at depth 1, Muon is
    // Muon-Signum): not rivals in its verdict, and their win is the family's.
    const stepsOf = (row: TableRow) => ofRow(runs, row)[0]?.steps ?? null;
    const twinsOf = (norm: NormName): Set<string> => {
      const own = new Set(rows.filter((r) => inFamily(r, norm)).map((r) => `${r.variant}|${stepsOf(r)}`));
      return new Set(rows.filter((r) => !inFamily(r, norm) && stepsOf(r) !== null && own.has(`${r.variant}|${stepsOf(r)}`)).map((r) => r.label));
    };
    const twins = Object.fromEntries(norms.map((norm) => [norm, twinsOf(norm)]));
    const winners = Object.fromEntries(
      norms.map((norm) => {
        const mean = (r: TableRow) => cells[r.label]![norm]!.mean;
        // On an exact tie (the same steps), the family's member is named.
        const best = rows.reduce((a, b) => (mean(b) > mean(a) || (mean(b) === mean(a) && inFamily(b, norm) && !inFamily(a, norm)) ? b : a));
        return [
          norm,
          {
            row: best.label,
            optimizer: best.optimizer,
            ownFamily: inFamily(best, norm) || twins[norm]!.has(best.label),
            ...(twins[norm]!.has(best.label) ? { twin: true as const } : {}),
            familyPresent: rows.some((r) => inFamily(r, norm)),
          },
        ];
      }),
    ) as MarginTable['winners'];
    const paired = Object.fromEntries(norms.map((norm) => [norm, pairedVerdict(norm, rows, cells, 0.95, twins[norm])])) as MarginTable['paired'];
    tables.push({ activation, beta, rows, norms, cells, winners, paired, optimum: optimumTable(norms, rows, runs) });
  }
  return tables;
}

/** The final normalized margins of finished runs (their summaries' final rows). */
export function marginTables(summaries: RunSummary[]): MarginTable[] {
  return marginTablesFrom(
    summaries
      .filter((s) => s.status === 'ok' && s.final)
      .map((s) => ({
        activation: s.run.activation,
        optimizer: s.run.optimizer,
        beta: s.run.beta,
        seed: s.run.seed,
        margins: finalColumns(s.final!, 'margin_'),
        steps: stepSignature(s.config, s.run.optimizer, s.config.model.depth),
        ...(Object.keys(s.final!).some((k) => k.startsWith('ratio_')) ? { ratios: finalColumns(s.final!, 'ratio_') } : {}),
      })),
  );
}

/** By norm, the values of a final row's `<prefix><name>` columns: γ_N (`margin_`), γ_N/γ*_N (`ratio_`). */
function finalColumns(final: Record<string, number | null>, prefix: 'margin_' | 'ratio_'): Record<NormName, number> {
  const out: Record<NormName, number> = {};
  for (const [k, v] of Object.entries(final)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v ?? NaN;
  return out;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(3) : String(x);
}

/** One line per norm: the paired verdict in words (shared by the terminal table and the reports). */
export function describePaired(norm: NormName, v: PairedVerdict): string {
  if (v.status === 'no-family') return `${norm}: no ${norm}-family optimizer run`;
  if (v.status === 'no-rival') return `${norm}: only ${norm}-family optimizers run`;
  const n = v.diffs.length;
  const ci = n > 1 ? ` [${fmt(v.lo)}, ${fmt(v.hi)}]` : '';
  return `${norm}: ${v.status} — ${v.weakest} − ${v.rival} = ${fmt(v.meanDiff)}${ci}, ${v.agree}/${n} seeds agree`;
}

/** A plain-text rendering for the terminal: one block per (activation, β), best per column marked *. */
export function formatMarginTables(tables: MarginTable[]): string {
  const lines: string[] = [];
  for (const t of tables) {
    lines.push(`final normalized margins — ${t.activation}, β = ${t.beta} (mean ± std over seeds; * = column best)`);
    const width = Math.max(12, ...t.rows.map((r) => r.label.length + 1));
    const header = ['optimizer'.padEnd(width), ...t.norms.map((n) => n.padStart(24))].join('');
    lines.push(header);
    for (const row of t.rows) {
      const cols = t.norms.map((norm) => {
        const c = t.cells[row.label]![norm]!;
        const mark = t.winners[norm]!.row === row.label ? '*' : ' ';
        const text = c.seeds > 1 ? `${fmt(c.mean)} ± ${fmt(c.std)}` : fmt(c.mean);
        return `${text}${mark}`.padStart(24);
      });
      lines.push([row.label.padEnd(width), ...cols].join(''));
    }
    const verdict = t.norms.map((norm) => {
      const w = t.winners[norm]!;
      if (!w.familyPresent) return `${norm}: no ${norm}-family optimizer run`;
      const reach = t.optimum?.reach[norm];
      const fraction = reach ? reachPhrase(reach) : '';
      if (w.ownFamily) return `${norm}: own family wins${fraction ? ` (${fraction})` : ''}`;
      return `${norm}: won by ${w.row} (not ${norm} family${fraction ? `; own family ${fraction}` : ''})`;
    });
    lines.push(`diagonal — ${verdict.join('; ')}`);
    if (t.rows.some((r) => t.cells[r.label]!.l2!.seeds > 1)) {
      lines.push(`paired by seed (weakest own-family − best other, 95% CI) — ${t.norms.map((n) => describePaired(n, t.paired[n]!)).join('; ')}`);
    }
    if (t.optimum) lines.push(...formatOptimumTable(t.optimum, t.rows, width));
    lines.push('');
  }
  return lines.join('\n');
}

/** What "reaches ≥ x of the optimum" means (shared by the terminal table and the reports). */
export const REACH_EXPLANATION =
  'Fraction of the optimum (depth-1 networks, docs/science.md §14.5): γ_N(θ)/γ*_N, where γ*_N is the exact max-margin value of the training data in norm N, ' +
  'recorded as its certified upper bound, so every ratio is ≤ 1; read where the table reads the margins (the final log point, or a loss level). ' +
  '"Reaches ≥ x of the optimum": x is the smallest ratio over the members of the norm\'s own family and their seeds, rounded down to three decimals. ' +
  'At depth 1 Muon, Muon-Signum and Muon-Adam take the same steps (the single layer is the Muon layer), as do any optimizers whose one-layer rule, rate and momentum agree: ' +
  'such optimizers are never rivals in each other\'s verdicts, and a tie between them is won by the norm\'s family (docs/science.md §10.3).';

/** The terminal's block of γ_N/γ*_N: mean ± 95% CI half-width over seeds, then what the verdict's x is. */
function formatOptimumTable(o: OptimumTable, rows: readonly TableRow[], width: number): string[] {
  const cell = (c: MeanCI) => (Number.isFinite(c.halfWidth) ? `${c.mean.toFixed(4)} ± ${c.halfWidth.toFixed(4)}` : c.mean.toFixed(4));
  return [
    'fraction of the optimum γ_N/γ*_N (mean ± 95% CI half-width over seeds)',
    ['optimizer'.padEnd(width), ...o.norms.map((n) => n.padStart(24))].join(''),
    ...rows.map((r) => [r.label.padEnd(width), ...o.norms.map((n) => `${cell(o.cells[r.label]![n]!)} `.padStart(24))].join('')),
    REACH_EXPLANATION,
  ];
}

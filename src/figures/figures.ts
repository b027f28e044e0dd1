import type { TopLevelSpec } from 'vega-lite';
import { cosOptColumn, ratioColumn } from '../metrics/normTable.js';
import { ACTIVATIONS, OPTIMIZER_NAMES, type Activation, type OptimizerName } from '../config/types.js';
import { NORM_NAMES } from '../optimizers/families.js';
import { describeDiffs } from '../report/settings.js';
import { lastStep, lossCurves, timeCurves, type Curve } from './align.js';
import type { Coverage } from './coverage.js';
import { ALIGN_COLUMNS, hasAlignment, optimumNorms, resultNorms, type LoadedRun, type ResultNorm, type ResultSet } from '../results/load.js';
import { presentOptimizers } from './generalization.js';
import { formatNumber } from './tables.js';
import { figureSpec, type Panel } from './specs.js';
import { ACTIVATION_LABEL, normLabel } from './style.js';

/** docs/science.md §10: the optimizers of each figure, in legend order. */
export const FIGURE1_OPTIMIZERS: readonly OptimizerName[] = ['ngd', 'signum', 'muon', 'muon_signum'];
export const FIGURE2_OPTIMIZERS: readonly OptimizerName[] = ['adam', 'muon_adam', 'signum', 'muon_signum'];

export type FigureName = 'figure1a' | 'figure1b' | 'figure2' | 'alignment' | 'composed' | 'optimum' | 'optimum_cosine' | 'test_accuracy' | 'robustness';

/**
 * The loss axis: `symlog` (default) is linear within ±1 and logarithmic beyond, so runs that end
 * near loss 1e-2 and runs that end near 1e-200 are both legible in one panel; `linear` spaces
 * log10 loss evenly, as a plain axis would.
 */
export type LossAxis = 'symlog' | 'linear';

export interface FigureOptions {
  lossAxis: LossAxis;
}

export interface FigureDef {
  name: FigureName;
  title: string;
  /** A caption for the HTML page and the README: what is drawn and how. */
  caption: string;
  spec: TopLevelSpec;
}

/** Why a figure was not drawn (for the HTML page). */
export interface SkippedFigure {
  name: FigureName;
  reason: string;
}

const LOSS_AXIS = 'log₁₀ training loss (mean cross-entropy, nats) → lower';

/**
 * What a line and a band are, true to the curves drawn: "Line: 1 seed, no band." when no group
 * has two seeds; otherwise the seed count and the 95% band, and which groups have none.
 */
export function averagePhrase(curves: readonly Curve[], clipped?: string): string {
  const counts = [...new Set(curves.filter((c) => c.points.length > 0).map((c) => c.seeds.length))].sort((a, b) => a - b);
  if (counts.length === 0) return 'No curve has data.';
  const [min, max] = [counts[0]!, counts[counts.length - 1]!];
  if (max === 1) return 'Line: 1 seed, no band.';
  const seeds = min === max ? `${max} seeds` : `${min}–${max} seeds`;
  const noBand = min === 1 ? '; no band where a group has 1 seed' : '';
  return `Line: mean over ${seeds}; band: 95% confidence interval (Student t)${clipped ? `, ${clipped}` : ''}${noBand}.`;
}

/** Line styles in words. */
const STYLE_PHRASE = 'Colour: optimizer; line style: momentum β, as in the legend.';

/** The activations the curves have, in order, and how the rows show them. */
function rowsOf(curves: readonly Curve[]): { activations: Activation[]; phrase: string } {
  const activations = ACTIVATIONS.filter((a) => curves.some((c) => c.activation === a));
  const phrase =
    activations.length > 1 ? `One row per activation (${activations.map((a) => ACTIVATION_LABEL[a]).join(', ')}, top to bottom).` : `${ACTIVATION_LABEL[activations[0]!]} only.`;
  return { activations, phrase };
}

/** Runs of different settings drawn together: said on the figure. */
function mixedPhrase(set: ResultSet): string[] {
  return set.mixed.length > 0 ? [`Mixed settings (--allow-mixed): runs differ in ${describeDiffs(set.mixed)}; the legend's line styles carry each run's values.`] : [];
}

const HOW_ALIGNED =
  'Runs are put on a common loss axis by first passage: a run’s value at a loss level is read where it first reaches that level, ' +
  'linearly interpolated in log10 loss between its log points; a curve spans only the losses every seed of its group reached (no extrapolation).';

function caption(parts: (string | null)[], notes: string[]): string {
  const incomplete = notes.length > 0 ? `Incomplete results: ${notes.join('; ')}.` : null;
  return [...parts, incomplete].filter((p): p is string => !!p).join(' ');
}

const AXIS_PHRASE: Record<LossAxis, string> = {
  symlog: 'x: log10 of the training loss on a symmetric-log axis (linear within ±1, logarithmic beyond), reversed so that training runs left to right',
  linear: 'x: log10 of the training loss, reversed so that training runs left to right',
};

/** Panels: one row per activation, one column per norm. */
function normPanels(curvesByNorm: Curve[][], activations: readonly Activation[], what: string): Panel[] {
  return activations.flatMap((a) =>
    NORM_NAMES.map((norm, i) => ({
      title: `${normLabel(norm)} ${what} · ${ACTIVATION_LABEL[a]}`,
      row: ACTIVATION_LABEL[a],
      curves: curvesByNorm[i]!.filter((c) => c.activation === a),
    })),
  );
}

function marginFigure(
  set: ResultSet,
  cov: Coverage,
  name: 'figure1a' | 'figure2',
  optimizers: readonly OptimizerName[],
  lossAxis: LossAxis,
): FigureDef | SkippedFigure {
  const curvesByNorm = NORM_NAMES.map((norm) => lossCurves(set.runs, `margin_${norm}`, optimizers));
  if (curvesByNorm[0]!.length === 0) return { name, reason: `none of ${optimizers.join(', ')} in these results` };
  const absent = optimizers.filter((o) => !set.runs.some((r) => r.summary.run.optimizer === o));
  const notes = [...cov.notesFor(optimizers), ...(absent.length > 0 ? [`not in these results: ${absent.join(', ')}`] : [])];
  const all = curvesByNorm.flat();
  const rows = rowsOf(all);
  const title =
    name === 'figure1a'
      ? 'Figure 1(a): normalized margins of the steepest-descent optimizers'
      : 'Figure 2: normalized margins of the Adam-type optimizers (signum, muon_signum for reference)';
  const average = averagePhrase(all, 'clipped at the axis floor');
  const subtitle = [
    `${average} ${STYLE_PHRASE} ${rows.phrase}`,
    'Log-scale margins: points whose mean margin is ≤ 0 (data not yet separated) are not drawn.',
    ...mixedPhrase(set),
    ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : []),
  ];
  return {
    name,
    title,
    caption: caption(
      [
        `${title}. One panel per norm and activation; ${AXIS_PHRASE[lossAxis]}; y: the normalized margin γ_N = q_min / N(θ)^D, log scale.`,
        `${average} ${STYLE_PHRASE} ${rows.phrase}`,
        HOW_ALIGNED,
        'Margins ≤ 0 (before the training data are separated) cannot be shown on a log axis: those points are omitted, a series that never separates is named under the title, and band edges below the axis are clipped.',
        ...mixedPhrase(set),
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle,
      panels: normPanels(curvesByNorm, rows.activations, 'margin'),
      columns: NORM_NAMES.length,
      x: { title: LOSS_AXIS, reverse: true, symlog: lossAxis === 'symlog' },
      y: { title: 'normalized margin γ (log scale)', log: true },
      optimizers,
      width: 230,
      height: 180,
    }),
  };
}

/**
 * What T is: `4000 steps`; for runs that stop at a target loss (docs/science.md §11.3), each run's
 * own last step: `each run's last step, 812–15000`.
 */
function stepsPhrase(set: ResultSet): string {
  const last = set.runs.map(lastStep);
  const caps = [...new Set(set.runs.map((r) => r.summary.config.train.steps))].sort((a, b) => a - b);
  if (set.runs.every((r) => r.summary.stop?.reason !== 'target_loss')) return `${caps.join(', ')} steps`;
  const lo = Math.min(...last);
  const hi = Math.max(...last);
  return `each run's last step, ${lo === hi ? lo : `${lo}–${hi}`}`;
}

/** Bottom of the cosine axis: 0, or lower in steps of 0.2 if some band goes below 0. */
function cosineFloor(curves: Curve[]): number {
  const lowest = Math.min(0, ...curves.flatMap((c) => c.points.map((p) => p.lo)).filter(Number.isFinite));
  return Math.floor(lowest / 0.2) * 0.2;
}

function cosineFigure(set: ResultSet, cov: Coverage): FigureDef | SkippedFigure {
  const curves = timeCurves(set.runs, 'cos_to_last', FIGURE1_OPTIMIZERS);
  if (curves.length === 0) return { name: 'figure1b', reason: `none of ${FIGURE1_OPTIMIZERS.join(', ')} in these results` };
  const notes = cov.notesFor(FIGURE1_OPTIMIZERS);
  const rows = rowsOf(curves);
  const steps = stepsPhrase(set);
  const title = 'Figure 1(b): direction convergence, cosine to the last iterate';
  const average = averagePhrase(curves, 'clipped at 1');
  return {
    name: 'figure1b',
    title,
    caption: caption(
      [
        `${title}: ⟨θ_t/‖θ_t‖₂, θ_T/‖θ_T‖₂⟩ against normalized time t/T (T = ${steps}), one panel per activation.`,
        `${average} ${STYLE_PHRASE}`,
        'Values are the logged ones (runs of one config log at the same steps); where they do not, linear interpolation in t/T, never past a run’s last log point.',
        ...mixedPhrase(set),
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle: [`${average} ${STYLE_PHRASE}`, ...mixedPhrase(set), ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : [])],
      panels: rows.activations.map((a) => ({ title: ACTIVATION_LABEL[a], row: ACTIVATION_LABEL[a], curves: curves.filter((c) => c.activation === a) })),
      columns: 2,
      x: { title: `normalized time t/T (T = ${steps})`, reverse: false, domain: [0, 1] },
      y: { title: 'cos(θ_t, θ_T)', log: false, domain: [cosineFloor(curves), 1], clamp: true },
      optimizers: FIGURE1_OPTIMIZERS,
      width: 330,
      height: 210,
    }),
  };
}

function alignmentFigure(set: ResultSet, cov: Coverage, lossAxis: LossAxis): FigureDef | SkippedFigure {
  if (!hasAlignment(set.runs)) {
    return { name: 'alignment', reason: `the CSVs have no KKT alignment columns (${ALIGN_COLUMNS.join(', ')})` };
  }
  // Every optimizer the results have: each norm's panel shows whether its own family aligns best.
  const present = new Set(set.runs.map((r) => r.summary.run.optimizer));
  const optimizers = OPTIMIZER_NAMES.filter((o) => present.has(o));
  const curvesByNorm = NORM_NAMES.map((norm) => lossCurves(set.runs, `align_${norm}`, optimizers));
  if (curvesByNorm[0]!.length === 0) return { name: 'alignment', reason: `none of ${optimizers.join(', ')} in these results` };
  const notes = cov.notesFor(optimizers);
  const rows = rowsOf(curvesByNorm.flat());
  const title = 'KKT alignment per norm';
  const average = averagePhrase(curvesByNorm.flat(), 'clipped to [−1, 1]');
  return {
    name: 'alignment',
    title,
    caption: caption(
      [
        `${title} (columns align_l2 … align_hybrid, in [−1, 1]) against log10 training loss, for ${optimizers.join(', ')}; one panel per norm and activation; ${AXIS_PHRASE[lossAxis]}; each panel's y range fitted to its data.`,
        `${average} ${STYLE_PHRASE} ${rows.phrase}`,
        HOW_ALIGNED,
        ...mixedPhrase(set),
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle: [
        `${average} ${STYLE_PHRASE} ${rows.phrase} Each panel's y range fits its data.`,
        ...mixedPhrase(set),
        ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : []),
      ],
      panels: normPanels(curvesByNorm, rows.activations, 'alignment'),
      columns: NORM_NAMES.length,
      x: { title: LOSS_AXIS, reverse: true, symlog: lossAxis === 'symlog' },
      y: { title: 'KKT alignment', log: false, fit: [-1, 1] },
      optimizers,
      width: 230,
      height: 180,
    }),
  };
}

/**
 * docs/science.md §12.6: one panel per composed optimizer's implied norm and activation, its margin
 * against log10 loss for that optimizer and the steepest-descent presets of Figure 1: does the
 * composed optimizer end on top in its own norm?
 */
function composedFigure(set: ResultSet, cov: Coverage, lossAxis: LossAxis): FigureDef | SkippedFigure {
  const present = new Set(set.runs.map((r) => r.summary.run.optimizer));
  const own = resultNorms(set.runs).filter((n) => !n.standard && present.has(n.name));
  if (own.length === 0) return { name: 'composed', reason: 'no composed optimizer in these results (docs/science.md §12)' };
  const rivals = FIGURE1_OPTIMIZERS.filter((o) => present.has(o));
  const curvesByNorm = own.map((n) => lossCurves(set.runs, `margin_${n.name}`, [n.name, ...rivals]));
  const all = curvesByNorm.flat();
  const rows = rowsOf(all);
  const optimizers = [...rivals, ...own.map((n) => n.name)];
  const notes = cov.notesFor(optimizers);
  const title = 'Composed optimizers: each one’s own implied norm';
  const average = averagePhrase(all, 'clipped at the axis floor');
  const definitions = own.map((n) => `${n.name}: N(θ) = ${n.definition || n.name}`).join('; ');
  return {
    name: 'composed',
    title,
    caption: caption(
      [
        `${title}. One panel per composed optimizer and activation: the normalized margin in that optimizer's implied norm (${definitions}), for it (near-black) and for ${rivals.join(', ')}; ${AXIS_PHRASE[lossAxis]}; y: γ_N = q_min / N(θ)^D, log scale.`,
        `${average} ${STYLE_PHRASE} ${rows.phrase}`,
        HOW_ALIGNED,
        'Margins ≤ 0 are not drawn on the log axis. The paired verdict of each norm is in the tables.',
        ...mixedPhrase(set),
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle: [`${average} ${STYLE_PHRASE} ${rows.phrase}`, ...mixedPhrase(set), ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : [])],
      panels: rows.activations.flatMap((a) =>
        own.map((n, i) => ({ title: `${n.name} margin · ${ACTIVATION_LABEL[a]}`, row: ACTIVATION_LABEL[a], curves: curvesByNorm[i]!.filter((c) => c.activation === a) })),
      ),
      columns: Math.min(4, own.length),
      x: { title: LOSS_AXIS, reverse: true, symlog: lossAxis === 'symlog' },
      y: { title: 'normalized margin γ (log scale)', log: true },
      optimizers,
      width: 230,
      height: 180,
    }),
  };
}

/** The largest of a list, and every name that has it: `spectral, hybrid (1.8e-5)`. */
function largestGaps(optima: readonly { name: string; gap: number }[]): string {
  const largest = Math.max(...optima.map((o) => o.gap));
  return `${optima.filter((o) => o.gap === largest).map((o) => normLabel(o.name)).join(', ')} (${largest.toExponential(1)})`;
}

/**
 * The optima the runs' summaries record for `norms` (docs/science.md §14.4), in words: each γ*
 * (a range where the runs' data differ), the largest relative duality gap and which norms'
 * solvers stopped short of their tolerance; short (subtitle) or full (caption).
 */
function optimaPhrase(runs: readonly LoadedRun[], norms: readonly ResultNorm[]): { short: string; full: string } {
  const recorded = norms.map((n) => {
    const own = runs.flatMap((r) => (r.summary.optima ?? []).filter((o) => o.name === n.name));
    return { norm: n, own, gap: Math.max(...own.map((o) => o.gap)), converged: own.every((o) => o.converged) };
  });
  const known = recorded.filter((r) => r.own.length > 0);
  if (known.length === 0) return { short: 'The summaries record no optima.', full: 'The runs’ summaries record no optima (γ*, gap, solver).' };
  const gammas = known.map((r) => {
    const values = r.own.map((o) => o.gamma);
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    const solvers = [...new Set(r.own.map((o) => o.solver))].join(', ');
    return `${normLabel(r.norm.name)} ${lo === hi ? formatNumber(lo) : `${formatNumber(lo)}–${formatNumber(hi)}`} (${solvers})`;
  });
  const gaps = largestGaps(known.map((r) => ({ name: r.norm.name, gap: r.gap })));
  const open = known.filter((r) => !r.converged).map((r) => normLabel(r.norm.name));
  const unconverged =
    open.length === 0
      ? 'every solver met its tolerance'
      : `not converged (the solver stopped short of its tolerance; the ratio to the true optimum is at most ratio/(1 − gap)): ${open.join(', ')}`;
  const missing = recorded.filter((r) => r.own.length < runs.length).map((r) => normLabel(r.norm.name));
  const absent = missing.length > 0 ? ` Some summaries record no optimum for ${missing.join(', ')}.` : '';
  return {
    short: `γ*: the certified upper bound of the exact optimum; largest relative duality gap ${gaps}; ${open.length === 0 ? 'all converged' : `not converged: ${open.join(', ')}`}.`,
    full: `γ*_N: ${gammas.join('; ')}. Largest relative duality gap (upper − lower)/upper: ${gaps}; ${unconverged}.${absent}`,
  };
}

/** Linear norms that are not strictly convex: their max-margin direction need not be unique. */
const FLAT_BASES = ['linf', 'l1', 'spectral'];

/** Which norms' W* is the one optimal direction (ℓ2, Schatten-p: strictly convex) and which may be one of many, by the solved base norm. */
function uniquenessPhrase(runs: readonly LoadedRun[], norms: readonly ResultNorm[]): string {
  const base = new Map(runs.flatMap((r) => r.summary.optima ?? []).map((o) => [o.name, o.base]));
  const flat = norms.filter((n) => FLAT_BASES.includes(base.get(n.name) ?? '')).map((n) => normLabel(n.name));
  const strict = norms.filter((n) => base.has(n.name) && !FLAT_BASES.includes(base.get(n.name)!)).map((n) => normLabel(n.name));
  return [
    strict.length > 0 ? `W*_N is the one optimal direction for ${strict.join(', ')} (strictly convex norms).` : '',
    flat.length > 0
      ? `For ${flat.join(', ')} (norms with flat faces: ℓ∞, ℓ1, spectral) the optimal set can hold more than one direction, so a cosine below 1 need not mean a margin below the optimum; the optimum figure shows the margin.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** Whether a run was compared with the exact optimum (a depth-1 run): its CSV has ratio_<norm> columns. */
const comparesWithOptimum = (r: LoadedRun): boolean => r.columns.some((c) => c.startsWith('ratio_'));

/** Why the optimum figures are not drawn: no run, or not every run, has ratio_<norm> columns. */
function noOptimumReason(runs: readonly LoadedRun[]): SkippedFigure['reason'] {
  const tracked = runs.filter(comparesWithOptimum).length;
  return tracked === 0
    ? 'the CSVs have no ratio_<norm> columns (only depth-1 runs are compared with the exact optimum, docs/science.md §14)'
    : `only ${tracked} of ${runs.length} runs have ratio_<norm> and cos_opt_<norm> columns for a common norm (depth-1 runs); runs of other depths have no optimum to compare with`;
}

/**
 * docs/science.md §14.5, depth-1 runs: per logged norm with an exact optimum (and activation),
 * `ratio_<norm>` = γ_N/γ*_N (figure `optimum`) or `cos_opt_<norm>` = cos∠(θ, W*_N) (figure
 * `optimum_cosine`) against log10 training loss, for every optimizer of the results. Two figures,
 * not two rows of one: each has one y quantity, so one axis title and one reference at 1.
 */
function optimumFigure(set: ResultSet, cov: Coverage, name: 'optimum' | 'optimum_cosine', lossAxis: LossAxis): FigureDef | SkippedFigure {
  const norms = optimumNorms(set.runs);
  if (norms.length === 0) return { name, reason: noOptimumReason(set.runs) };
  // Every preset in every panel; a composed optimizer in its own norm's panel only, as in the
  // composed figure, so that a panel never holds two of them (they share one colour).
  const optimizers = presentOptimizers(set.runs);
  const presets = optimizers.filter((o) => (OPTIMIZER_NAMES as readonly string[]).includes(o));
  const ofPanel = (n: ResultNorm) => [...presets, ...(!n.standard && optimizers.includes(n.name) ? [n.name] : [])];
  const ratio = name === 'optimum';
  const column = (n: string) => (ratio ? ratioColumn(n) : cosOptColumn(n));
  const curvesByNorm = norms.map((n) => lossCurves(set.runs, column(n.name), ofPanel(n)));
  const all = curvesByNorm.flat();
  const rows = rowsOf(all);
  const notes = cov.notesFor(optimizers);
  const gaps = optimaPhrase(set.runs, norms);
  const title = ratio ? 'Fraction of the exact optimum: γ/γ* in each norm' : 'Direction to the exact optimum: cos(θ, W*) in each norm';
  const average = averagePhrase(all, ratio ? 'clipped at 1' : 'clipped to [−1, 1]');
  const what = ratio
    ? 'y: γ_N(θ_t)/γ*_N, the normalized margin over the exact max-margin value of the training data in that norm (a depth-1 network is linear in its weights); dashed line: the optimum'
    : 'y: cos∠(θ_t, W*_N) = ⟨θ_t, W*_N⟩/(‖θ_t‖_F ‖W*_N‖_F), W*_N the optimal direction the solver returned; dashed line: cos = 1';
  const unique = ratio
    ? 'γ*_N is recorded as the certified upper bound of the max-margin problem (docs/science.md §14.3), so every ratio is ≤ 1 and a ratio near 1 is a proof of near-optimality.'
    : uniquenessPhrase(set.runs, norms);
  return {
    name,
    title,
    caption: caption(
      [
        `${title}. One panel per norm with an exact optimum (docs/science.md §14) and activation: every preset optimizer of the results, and a composed optimizer in its own norm's panel (near-black); ${AXIS_PHRASE[lossAxis]}; ${what}.`,
        unique,
        gaps.full,
        `${average} ${STYLE_PHRASE} ${rows.phrase}`,
        HOW_ALIGNED,
        ...mixedPhrase(set),
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle: [`${average} ${STYLE_PHRASE} ${rows.phrase} Dashed line: ${ratio ? 'the optimum' : 'cos = 1'}.`, gaps.short, ...mixedPhrase(set), ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : [])],
      panels: rows.activations.flatMap((a) =>
        norms.map((n, i) => ({ title: `${normLabel(n.name)} · ${ACTIVATION_LABEL[a]}`, row: ACTIVATION_LABEL[a], curves: curvesByNorm[i]!.filter((c) => c.activation === a) })),
      ),
      columns: norms.length,
      x: { title: LOSS_AXIS, reverse: true, symlog: lossAxis === 'symlog' },
      y: { title: ratio ? 'γ / γ* (fraction of the optimum)' : 'cos(θ_t, W*)', log: false, fit: ratio ? [-Infinity, 1] : [-1, 1], reference: 1 },
      optimizers,
      width: 210,
      height: 180,
    }),
  };
}

/** The figures `optimum` (γ_N/γ*_N) and `optimum_cosine` (cos∠(θ, W*_N)), each drawn or skipped with why. */
export function optimumFigures(set: ResultSet, cov: Coverage, lossAxis: LossAxis = 'symlog'): (FigureDef | SkippedFigure)[] {
  return [optimumFigure(set, cov, 'optimum', lossAxis), optimumFigure(set, cov, 'optimum_cosine', lossAxis)];
}

/** Every figure the results allow, and why any other was skipped. */
export function figureDefs(
  set: ResultSet,
  cov: Coverage,
  options: FigureOptions = { lossAxis: 'symlog' },
): { figures: FigureDef[]; skipped: SkippedFigure[] } {
  const { lossAxis } = options;
  const all = [
    marginFigure(set, cov, 'figure1a', FIGURE1_OPTIMIZERS, lossAxis),
    cosineFigure(set, cov),
    marginFigure(set, cov, 'figure2', FIGURE2_OPTIMIZERS, lossAxis),
    alignmentFigure(set, cov, lossAxis),
    composedFigure(set, cov, lossAxis),
    // Only results with some depth-1 run are told why there is no optimum figure (as the held-out figures, src/figures/build.ts).
    ...(set.runs.some(comparesWithOptimum) ? optimumFigures(set, cov, lossAxis) : []),
  ];
  return {
    figures: all.filter((f): f is FigureDef => 'spec' in f),
    skipped: all.filter((f): f is SkippedFigure => 'reason' in f),
  };
}

import type { TopLevelSpec } from 'vega-lite';
import { OPTIMIZER_NAMES, type OptimizerName } from '../config/types.js';
import { NORM_NAMES } from '../metrics/norms.js';
import { lossCurves, timeCurves, type Curve } from './align.js';
import type { Coverage } from './coverage.js';
import { ALIGN_COLUMNS, hasAlignment, type ResultSet } from './load.js';
import { figureSpec, type Panel } from './specs.js';
import { ACTIVATION_LABEL, NORM_LABEL } from './style.js';

/** SPEC §10: the optimizers of each figure, in legend order. */
export const FIGURE1_OPTIMIZERS: readonly OptimizerName[] = ['ngd', 'signum', 'muon', 'muon_signum'];
export const FIGURE2_OPTIMIZERS: readonly OptimizerName[] = ['adam', 'muon_adam', 'signum', 'muon_signum'];

export type FigureName = 'figure1a' | 'figure1b' | 'figure2' | 'alignment';

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

function seedsPhrase(curves: Curve[]): string {
  const counts = [...new Set(curves.map((c) => c.seeds.length))].sort((a, b) => a - b);
  return counts.length === 1 ? `${counts[0]} seed${counts[0] === 1 ? '' : 's'}` : `${counts[0]}–${counts[counts.length - 1]} seeds`;
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
  const title =
    name === 'figure1a'
      ? 'Figure 1(a): normalized margins of the steepest-descent optimizers'
      : 'Figure 2: normalized margins of the Adam-type optimizers (signum, muon_signum for reference)';
  const subtitle = [
    `Line: mean over ${seedsPhrase(all)}; band: 95% confidence interval (Student t). Solid: β = 0.9, dotted: β = 0. Darker: ReLU, lighter: squared ReLU.`,
    'Log-scale margins: points whose mean margin is ≤ 0 (data not yet separated) are not drawn; band edges below the axis are clipped to it.',
    ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : []),
  ];
  const panels: Panel[] = NORM_NAMES.map((norm, i) => ({ title: `${NORM_LABEL[norm]} margin`, curves: curvesByNorm[i]! }));
  return {
    name,
    title,
    caption: caption(
      [
        `${title}. One panel per norm; ${AXIS_PHRASE[lossAxis]}; y: the normalized margin γ_N = q_min / N(θ)^D (SPEC §5), log scale.`,
        `Line: mean over ${seedsPhrase(all)}; band: 95% Student-t confidence interval over seeds. Solid β = 0.9, dotted β = 0; darker ReLU, lighter squared ReLU.`,
        HOW_ALIGNED,
        'Margins ≤ 0 (before the training data are separated) cannot be shown on a log axis: those points are omitted and band edges below the axis are clipped.',
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle,
      panels,
      columns: 2,
      x: { title: LOSS_AXIS, reverse: true, symlog: lossAxis === 'symlog' },
      y: { title: 'normalized margin γ (log scale)', log: true },
      optimizers,
      width: 330,
      height: 210,
    }),
  };
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
  const activations = (['relu', 'sqrelu'] as const).filter((a) => curves.some((c) => c.activation === a));
  const steps = [...new Set(set.runs.map((r) => r.summary.config.train.steps))];
  const title = 'Figure 1(b): direction convergence, cosine to the last iterate';
  return {
    name: 'figure1b',
    title,
    caption: caption(
      [
        `${title}: ⟨θ_t/‖θ_t‖₂, θ_T/‖θ_T‖₂⟩ against normalized time t/T (T = ${steps.join(', ')} steps), one panel per activation.`,
        `Line: mean over ${seedsPhrase(curves)}; band: 95% Student-t confidence interval, clipped at 1. Solid β = 0.9, dotted β = 0.`,
        'Values are the logged ones (runs of one config log at the same steps); where they do not, linear interpolation in t/T, never past a run’s last log point.',
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle: [
        `Line: mean over ${seedsPhrase(curves)}; band: 95% confidence interval (Student t), clipped at 1. Solid: β = 0.9, dotted: β = 0.`,
        ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : []),
      ],
      panels: activations.map((a) => ({ title: ACTIVATION_LABEL[a], curves: curves.filter((c) => c.activation === a) })),
      columns: 2,
      x: { title: `normalized time t/T (T = ${steps.join(', ')} steps)`, reverse: false, domain: [0, 1] },
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
  const title = 'KKT alignment per norm';
  return {
    name: 'alignment',
    title,
    caption: caption(
      [
        `${title} (columns align_l2 … align_hybrid, in [−1, 1]) against log10 training loss, for ${optimizers.join(', ')}; same styling as Figure 1(a); ${AXIS_PHRASE[lossAxis]}.`,
        'Line: mean over seeds; band: 95% Student-t confidence interval, clipped to [−1, 1].',
        HOW_ALIGNED,
      ],
      notes,
    ),
    spec: figureSpec({
      title,
      subtitle: [
        `Line: mean over ${seedsPhrase(curvesByNorm.flat())}; band: 95% confidence interval (Student t), clipped to [−1, 1]. Solid: β = 0.9, dotted: β = 0.`,
        ...(notes.length > 0 ? [`Incomplete: ${notes.join('; ')}`] : []),
      ],
      panels: NORM_NAMES.map((norm, i) => ({ title: `${NORM_LABEL[norm]} alignment`, curves: curvesByNorm[i]! })),
      columns: 2,
      x: { title: LOSS_AXIS, reverse: true, symlog: lossAxis === 'symlog' },
      y: { title: 'KKT alignment', log: false, domain: [-1, 1], clamp: true },
      optimizers,
      width: 330,
      height: 210,
    }),
  };
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
  ];
  return {
    figures: all.filter((f): f is FigureDef => 'spec' in f),
    skipped: all.filter((f): f is SkippedFigure => 'reason' in f),
  };
}

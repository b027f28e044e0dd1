import { stringify } from 'csv-stringify/sync';
import { OPTIMIZER_NAMES, type Activation } from '../config/types.js';
import { ATTACK_BALLS, type AttackBall } from '../metrics/robust.js';
import { rankCorrelation, type RankCorrelation } from '../report/spearman.js';
import { meanCI } from '../report/stats.js';
import { hasHeldOut, metricValue, robustMetrics, type Metric } from '../results/heldOut.js';
import { groupRuns, resultNorms, type LoadedRun, type ResultSet } from '../results/load.js';
import { lossCurves, type Curve, type CurvePoint } from './align.js';
import { figureSpec } from './specs.js';
import { ACTIVATION_LABEL, normLabel } from './style.js';
import { ciText } from './tables.js';

/**
 * The held-out figures and tables (docs/science.md §13, docs/generalization.md): test accuracy
 * against training loss, robust accuracy against radius, `table --metric`, and the rank
 * correlations between each norm's training margin and the held-out accuracies.
 */

/** What a held-out figure needs: a name, a caption and its Vega-Lite spec (as FigureDef in figures.ts). */
export interface HeldOutFigure {
  name: 'test_accuracy' | 'robustness';
  title: string;
  caption: string;
  spec: ReturnType<typeof figureSpec>;
}

/** The optimizers of the runs, presets in registry order, then composed ones by name. */
export function presentOptimizers(runs: readonly LoadedRun[]): string[] {
  const present = new Set(runs.map((r) => r.summary.run.optimizer));
  const presets = OPTIMIZER_NAMES.filter((o) => present.has(o));
  return [...presets, ...[...present].filter((o) => !(presets as string[]).includes(o)).sort()];
}

const activationsOf = (runs: readonly LoadedRun[]): Activation[] => [...new Set(runs.map((r) => r.summary.run.activation))];

const BAND = 'Line: mean over seeds; band: 95% Student-t confidence interval over seeds.';

/** Test accuracy against log10 training loss, one panel per activation (the Figure 1(a) axes). */
function testAccuracyFigure(set: ResultSet): HeldOutFigure {
  const optimizers = presentOptimizers(set.runs);
  const curves = lossCurves(set.runs, 'test_acc', optimizers);
  const activations = activationsOf(set.runs);
  const n = set.runs[0]!.summary.data.test?.n;
  const title = 'Held-out accuracy against training loss';
  const what = `test accuracy on ${n ?? 'the'} held-out samples (data.test)`;
  return {
    name: 'test_accuracy',
    title,
    caption: `${title}: ${what} at each log point against log10 of the training loss (reversed: training runs left to right), read at each run's first passage of each loss level as in Figure 1(a); one panel per activation. ${BAND}`,
    spec: figureSpec({
      title,
      subtitle: [`${what}. ${BAND} Colour: optimizer; line style: momentum β.`],
      panels: activations.map((a) => ({ title: `test accuracy · ${ACTIVATION_LABEL[a]}`, row: ACTIVATION_LABEL[a], curves: curves.filter((c) => c.activation === a) })),
      columns: Math.min(2, activations.length),
      x: { title: 'log₁₀ training loss → lower', reverse: true, symlog: true },
      y: { title: 'test accuracy', log: false, fit: [0, 1] },
      optimizers,
      width: 330,
      height: 220,
    }),
  };
}

const BALL_LABEL: Record<AttackBall, string> = { linf: 'ℓ∞', l2: 'ℓ2' };

/** Robust accuracy at each radius of `ball` (radius 0: the clean test accuracy) per (activation, optimizer, β), mean ± CI over seeds. */
function radiusCurves(runs: readonly LoadedRun[], ball: AttackBall): Curve[] {
  const metrics = robustMetrics(runs).filter((m) => m.ball === ball);
  return groupRuns(runs).map(({ key, runs: group }) => {
    const at = (values: number[], x: number): CurvePoint => {
      const ci = meanCI(values);
      return values.length > 1 ? { x, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n } : { x, mean: ci.mean, lo: ci.mean, hi: ci.mean, n: 1 };
    };
    const clean = at(group.map((r) => r.rows[r.rows.length - 1]!.test_acc!), 0);
    const points = [clean, ...metrics.map((m) => at(group.map((r) => metricValue(r, m)!), m.radius))];
    return { ...key, seeds: group.map((r) => r.summary.run.seed), steps: Math.max(...group.map((r) => r.summary.steps_completed)), points };
  });
}

/** Robust accuracy against radius, one panel per ball (and activation). */
function robustnessFigure(set: ResultSet): HeldOutFigure {
  const optimizers = presentOptimizers(set.runs);
  const balls = ATTACK_BALLS.filter((b) => robustMetrics(set.runs).some((m) => m.ball === b));
  const activations = activationsOf(set.runs);
  const r = set.runs[0]!.summary.robust!;
  const how = `PGD on the final weights, ${r.steps} steps, ${r.restarts} random start${r.restarts === 1 ? '' : 's'}, on ${r.n} held-out samples; radius 0 is the clean test accuracy`;
  const title = 'Robust accuracy against the attack radius';
  return {
    name: 'robustness',
    title,
    caption: `${title}: ${how} (docs/science.md §13.2; an upper bound on the true robust accuracy). One panel per ball and activation; lines join the measured radii. ${BAND}`,
    spec: figureSpec({
      title,
      subtitle: [`${how}; an upper bound on the true robust accuracy. ${BAND}`],
      panels: activations.flatMap((a) =>
        balls.map((ball) => {
          const curves = radiusCurves(set.runs, ball).filter((c) => c.activation === a);
          const largest = Math.max(...curves.flatMap((c) => c.points.map((p) => p.x)));
          return { title: `${BALL_LABEL[ball]} ball · ${ACTIVATION_LABEL[a]}`, row: ACTIVATION_LABEL[a], curves, xDomain: [0, largest] as [number, number] };
        }),
      ),
      columns: balls.length,
      x: { title: 'radius ε of the perturbation (pixels in [0, 1])', reverse: false },
      y: { title: 'robust accuracy', log: false, fit: [0, 1] },
      optimizers,
      width: 300,
      height: 220,
    }),
  };
}

/** The held-out figures the results allow; [] with the reason where they have none. */
export function heldOutFigures(set: ResultSet): { figures: HeldOutFigure[]; skipped: { name: HeldOutFigure['name']; reason: string }[] } {
  const figures: HeldOutFigure[] = [];
  const skipped: { name: HeldOutFigure['name']; reason: string }[] = [];
  if (!hasHeldOut(set.runs)) {
    skipped.push({ name: 'test_accuracy', reason: 'the runs have no held-out columns (data.test not set)' }, { name: 'robustness', reason: 'the runs have no held-out set' });
    return { figures, skipped };
  }
  figures.push(testAccuracyFigure(set));
  if (robustMetrics(set.runs).length > 0) figures.push(robustnessFigure(set));
  else skipped.push({ name: 'robustness', reason: 'no robust accuracy every run has (log.robust lists no radius)' });
  return { figures, skipped };
}

// ---- table --metric ---------------------------------------------------------------------------

/** One (activation, β) group's metric table: per optimizer, per metric, mean and 95% CI over seeds. */
export interface MetricTable {
  activation: Activation;
  beta: number;
  rows: { label: string; cells: ReturnType<typeof meanCI>[] }[];
}

/** `table --metric`: the metrics' final values, mean ± 95% Student-t half-width over seeds, per (activation, β). */
export function metricTables(set: ResultSet, metrics: readonly Metric[]): MetricTable[] {
  const tables = new Map<string, MetricTable>();
  for (const { key, runs } of groupRuns(set.runs)) {
    const id = `${key.activation}|${key.beta}`;
    if (!tables.has(id)) tables.set(id, { activation: key.activation, beta: key.beta, rows: [] });
    const label = key.variant ? `${key.optimizer} (${key.variant})` : key.optimizer;
    tables.get(id)!.rows.push({ label, cells: metrics.map((m) => meanCI(runs.map((r) => metricValue(r, m)!))) });
  }
  return [...tables.values()];
}


function markdownTable(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function metricTablesMarkdown(tables: readonly MetricTable[], metrics: readonly Metric[]): string {
  const blocks = tables.map((t) =>
    [
      `### ${metrics.map((m) => m.name).join(', ')} — ${ACTIVATION_LABEL[t.activation]}, β = ${t.beta}`,
      '',
      markdownTable(['optimizer', ...metrics.map((m) => m.name)], t.rows.map((r) => [r.label, ...r.cells.map(ciText)])),
    ].join('\n'),
  );
  const note = 'Mean ± half-width of the 95% Student-t interval over seeds, at the end of each run (robust_<ball>@<radius>: PGD on the held-out set, docs/science.md §13.2).';
  return `${[...blocks, note].join('\n\n')}\n`;
}

export function metricTablesCsv(tables: readonly MetricTable[], metrics: readonly Metric[]): string {
  const rows = tables.flatMap((t) =>
    t.rows.flatMap((r) => r.cells.map((c, j) => [t.activation, t.beta, r.label, metrics[j]!.name, c.mean, Number.isFinite(c.halfWidth) ? c.halfWidth : '', c.n].map(String))),
  );
  return stringify(rows, { header: true, columns: ['activation', 'beta', 'optimizer', 'metric', 'mean', 'ci95_half_width', 'seeds'] });
}

export function metricTablesLatex(tables: readonly MetricTable[], metrics: readonly Metric[]): string {
  const esc = (s: string) => s.replace(/_/g, '\\_');
  const cell = (c: { mean: number; halfWidth: number }) => `$${ciText(c).replace('±', '\\pm')}$`;
  return tables
    .map((t) =>
      [
        `% ${t.activation}, beta = ${t.beta}: mean \\pm 95% Student-t half-width over seeds`,
        `\\begin{tabular}{l${'r'.repeat(metrics.length)}}`,
        '\\toprule',
        `optimizer & ${metrics.map((m) => `\\texttt{${esc(m.name)}}`).join(' & ')} \\\\`,
        '\\midrule',
        ...t.rows.map((r) => `\\texttt{${esc(r.label)}} & ${r.cells.map(cell).join(' & ')} \\\\`),
        '\\bottomrule',
        '\\end{tabular}',
      ].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

// ---- rank correlations -----------------------------------------------------------------------

/** ρ between one norm's final training margin and one held-out accuracy, over the optimizers, per (activation, β). */
export interface RankCell {
  activation: Activation;
  beta: number;
  /** The norm of the training margin margin_<norm>. */
  norm: string;
  /** test_acc or robust_<ball>@<radius>. */
  target: string;
  optimizers: number;
  correlation: RankCorrelation;
}

/**
 * docs/science.md §13.4: for each (activation, β), each logged norm N and each of test accuracy and
 * the robust accuracies: per seed, Spearman's ρ across the optimizers between their final γ_N and
 * the accuracy; then the mean ρ over seeds with a 95% Student-t interval. [] without held-out data.
 */
export function rankCorrelations(set: ResultSet): RankCell[] {
  if (!hasHeldOut(set.runs)) return [];
  const targets: Metric[] = [{ kind: 'column', name: 'test_acc', column: 'test_acc' }, ...robustMetrics(set.runs)];
  const norms = resultNorms(set.runs).map((n) => n.name);
  const cells: RankCell[] = [];
  const groups = new Map<string, LoadedRun[]>();
  for (const r of set.runs) {
    const id = `${r.summary.run.activation}|${r.summary.run.beta}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  for (const runs of groups.values()) {
    const { activation, beta } = runs[0]!.summary.run;
    const seeds = [...new Set(runs.map((r) => r.summary.run.seed))].sort((a, b) => a - b);
    for (const norm of norms) {
      for (const target of targets) {
        const pairs = seeds.map((seed) => {
          const ofSeed = runs.filter((r) => r.summary.run.seed === seed);
          return { seed, x: ofSeed.map((r) => r.rows[r.rows.length - 1]![`margin_${norm}`]!), y: ofSeed.map((r) => metricValue(r, target)!) };
        });
        const optimizers = new Set(runs.map((r) => `${r.summary.run.optimizer}|${r.variant}`)).size;
        cells.push({ activation, beta, norm, target: target.name, optimizers, correlation: rankCorrelation(pairs) });
      }
    }
  }
  return cells;
}

/** A ρ interval's bound as shown: the t-interval of the mean can pass ±1, which no ρ can; shown clipped to [−1, 1]. */
const clipRho = (v: number) => Math.min(1, Math.max(-1, v));

const rhoText = (c: RankCorrelation) =>
  c.n === 0 ? '—' : Number.isFinite(c.halfWidth) ? `${c.mean.toFixed(2)} [${clipRho(c.lo).toFixed(2)}, ${clipRho(c.hi).toFixed(2)}]` : c.mean.toFixed(2);

/** The rank correlations as Markdown: one table per (activation, β), rows = norms, columns = accuracies. */
export function rankCorrelationsMarkdown(cells: readonly RankCell[]): string {
  const groups = [...new Set(cells.map((c) => `${c.activation}|${c.beta}`))];
  const blocks = groups.map((g) => {
    const mine = cells.filter((c) => `${c.activation}|${c.beta}` === g);
    const targets = [...new Set(mine.map((c) => c.target))];
    const norms = [...new Set(mine.map((c) => c.norm))];
    const first = mine[0]!;
    return [
      `### Spearman ρ across ${first.optimizers} optimizers: final training margin vs held-out accuracy — ${ACTIVATION_LABEL[first.activation]}, β = ${first.beta}`,
      '',
      markdownTable(
        ['training margin', ...targets],
        norms.map((n) => [`γ ${normLabel(n)}`, ...targets.map((t) => rhoText(mine.find((c) => c.norm === n && c.target === t)!.correlation))]),
      ),
    ].join('\n');
  });
  const seeds = Math.max(0, ...cells.map((c) => c.correlation.n));
  const note =
    `ρ is computed per seed across the optimizers (all optimizers of a seed share its data and initial weights), between each optimizer's final normalized training margin in that norm and its final held-out accuracy; ` +
    `shown: the mean of the ${seeds} seeds' ρ and its 95% Student-t interval over the seeds, clipped to [−1, 1] (docs/science.md §13.4). ρ = 1: the larger the margin, the higher the accuracy, in the same order.`;
  return `${[...blocks, note].join('\n\n')}\n`;
}

export function rankCorrelationsCsv(cells: readonly RankCell[]): string {
  const num = (v: number) => (Number.isFinite(v) ? String(v) : '');
  return stringify(
    cells.map((c) => [c.activation, String(c.beta), c.norm, c.target, String(c.optimizers), num(c.correlation.mean), num(clipRho(c.correlation.lo)), num(clipRho(c.correlation.hi)), String(c.correlation.n)]),
    { header: true, columns: ['activation', 'beta', 'margin_norm', 'target', 'optimizers', 'rho_mean', 'ci95_lo', 'ci95_hi', 'seeds'] },
  );
}

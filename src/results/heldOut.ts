import { UsageError } from '../errors.js';
import { ATTACK_BALLS, type AttackBall } from '../metrics/robust.js';
import type { LoadedRun } from './load.js';

/**
 * The held-out quantities of a results folder (docs/science.md §13) as named metrics: any CSV
 * column, read at a run's last row (`test_acc`, `test_log10_loss`, `p10_margin_linf`,
 * `margin_l2`, …), and `robust_<ball>@<radius>`, the robust accuracy the summary records for that
 * ball and radius (`robust_linf@0.05`, `robust_l2@1`).
 */
export type Metric = { kind: 'column'; name: string; column: string } | { kind: 'robust'; name: string; ball: AttackBall; radius: number };

const ROBUST = /^robust_([a-z0-9]+)@(.+)$/;
const COLUMN = /^[A-Za-z][A-Za-z0-9_]*$/;

/** One metric name as `table --metric` takes it; a UsageError naming `flag` and the name otherwise. */
export function parseMetric(text: string, flag = '--metric'): Metric {
  const name = text.trim();
  const m = ROBUST.exec(name);
  if (m) {
    const ball = m[1]!;
    const radius = Number(m[2]);
    if (!(ATTACK_BALLS as readonly string[]).includes(ball)) throw new UsageError(`${flag} ${name}: unknown ball "${ball}", expected robust_linf@<radius> or robust_l2@<radius>`);
    if (m[2]!.trim() === '' || !(radius > 0)) throw new UsageError(`${flag} ${name}: the radius "${m[2]}" is not a number > 0`);
    return { kind: 'robust', name, ball: ball as AttackBall, radius };
  }
  if (!COLUMN.test(name)) throw new UsageError(`${flag} ${name || '(empty)'}: expected a CSV column (e.g. test_acc) or robust_<linf|l2>@<radius> (e.g. robust_linf@0.05)`);
  return { kind: 'column', name, column: name };
}

/** A comma-separated list of metrics (`test_acc,robust_linf@0.05`), each parsed, none twice. */
export function parseMetrics(texts: readonly string[], flag = '--metric'): Metric[] {
  const metrics = texts.flatMap((t) => t.split(',')).map((t) => parseMetric(t, flag));
  const twice = metrics.find((m, i) => metrics.findIndex((o) => o.name === m.name) !== i);
  if (twice) throw new UsageError(`${flag}: ${twice.name} is listed twice`);
  return metrics;
}

/** A run's value of a metric, or undefined where the run does not have it (no such column, no such radius). */
export function metricValue(run: LoadedRun, metric: Metric): number | undefined {
  if (metric.kind === 'column') return run.columns.includes(metric.column) ? run.rows[run.rows.length - 1]![metric.column] : undefined;
  return run.summary.robust?.points.find((p) => p.ball === metric.ball && p.radius === metric.radius)?.accuracy;
}

/** What the runs offer for `metric`, in words: the robust radii recorded, or whether test columns exist. */
function available(runs: readonly LoadedRun[], metric: Metric): string {
  if (metric.kind === 'robust') {
    const names = [...new Set(runs.flatMap((r) => (r.summary.robust?.points ?? []).map((p) => `robust_${p.ball}@${p.radius}`)))];
    return names.length > 0 ? `these runs have ${names.join(', ')}` : 'these runs have no robust accuracies (log.robust lists no radius, or no data.test)';
  }
  return runs[0]!.columns.includes('test_acc') ? 'see the CSV header for the column names' : 'these runs have no held-out columns (data.test is not set)';
}

/** Every run's value of every metric; a UsageError naming the metric and a run that lacks it. */
export function checkMetrics(runs: readonly LoadedRun[], metrics: readonly Metric[], flag = '--metric'): void {
  for (const metric of metrics) {
    const lacking = runs.find((r) => metricValue(r, metric) === undefined);
    if (lacking) throw new UsageError(`${flag} ${metric.name}: run ${lacking.summary.id} has no such value; ${available(runs, metric)}`);
  }
}

/** The robust metrics every run of `runs` has, ℓ∞ before ℓ2, radii ascending; [] for runs without an attack. */
export function robustMetrics(runs: readonly LoadedRun[]): Extract<Metric, { kind: 'robust' }>[] {
  if (runs.length === 0) return [];
  const first = runs[0]!.summary.robust?.points ?? [];
  return ATTACK_BALLS.flatMap((ball) =>
    first
      .filter((p) => p.ball === ball)
      .map((p) => p.radius)
      .sort((a, b) => a - b)
      .map((radius) => ({ kind: 'robust' as const, name: `robust_${ball}@${radius}`, ball, radius })),
  ).filter((m) => runs.every((r) => metricValue(r, m) !== undefined));
}

/** Whether every run logged the held-out columns (data.test was set). */
export const hasHeldOut = (runs: readonly LoadedRun[]): boolean => runs.length > 0 && runs.every((r) => r.columns.includes('test_acc'));

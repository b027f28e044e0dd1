import { groupRuns, type GroupKey, type LoadedRun, type Row } from '../results/load.js';
import { meanCI } from '../report/stats.js';

/**
 * Putting runs on a common axis. Runs log at their own steps and reach different losses, so a
 * seed average needs every run's value at the same x:
 *
 * - Loss axis (Figure 1(a), 2, alignment): a run's value at loss level L (log10) is its value when
 *   it FIRST reaches L: between the two consecutive log points whose log10 loss brackets that
 *   first crossing, linearly interpolated in log10 loss. The loss need not fall monotonically
 *   (momentum overshoots), and first passage keeps the map from loss to value single-valued.
 *   A run has a value only for L between its starting loss and the lowest loss it logged: nothing
 *   is extrapolated.
 * - Time axis (Figure 1(b)): t/T with T = the run's last step (`train.steps`, or the step where it
 *   reached `train.target_log10_loss`, docs/science.md §11.3), linear interpolation in t/T; runs of
 *   one config that ran all their steps log at the same steps, so the values are the logged ones.
 *
 * A group's curve (one activation × optimizer × β, mean over its seeds) is drawn only where every
 * seed of the group has a value, so the mean at each x is over the same seeds and a curve never
 * jumps where one seed's data end.
 */

/**
 * `column` of a run at its first passage of loss level `level` (log10), linearly interpolated in
 * log10 loss between the bracketing log points; undefined above the starting loss or below the
 * lowest loss the run logged.
 */
export function valueAtLoss(rows: readonly Row[], level: number, column: string): number | undefined {
  const br = lossBracket(rows, level);
  return br && br.a[column]! + br.w * (br.b[column]! - br.a[column]!);
}

/**
 * The two log points around a run's first passage of loss level `level` (log10): a, the last one
 * above it, b, the first at or below it, and the weight w ∈ [0, 1] of b in the linear
 * interpolation in log10 loss. At the starting loss itself, a = b = the first row. Undefined
 * above the starting loss or below the lowest loss the run logged.
 */
export function lossBracket(rows: readonly Row[], level: number): { a: Row; b: Row; w: number } | undefined {
  const first = rows[0];
  if (!first || !(level <= first.log10_loss!)) return undefined;
  if (level === first.log10_loss) return { a: first, b: first, w: 0 };
  for (let k = 1; k < rows.length; k++) {
    const b = rows[k]!;
    if (b.log10_loss! <= level) {
      // Rows before k all have loss above `level` (first crossing), so a.log10_loss > level ≥ b.log10_loss.
      const a = rows[k - 1]!;
      return { a, b, w: (a.log10_loss! - level) / (a.log10_loss! - b.log10_loss!) };
    }
  }
  return undefined;
}

/** log10 loss range a run covers: [lowest logged, starting]. */
export function lossRange(rows: readonly Row[]): { lowest: number; start: number } {
  return { lowest: Math.min(...rows.map((r) => r.log10_loss!)), start: rows[0]!.log10_loss! };
}

/** `column` at normalized time u = t/T, linear interpolation between log points; undefined past the run's data. */
export function valueAtTime(rows: readonly Row[], T: number, u: number, column: string): number | undefined {
  for (let k = 0; k < rows.length; k++) {
    const uk = rows[k]!.step! / T;
    if (uk === u) return rows[k]![column];
    if (uk > u) {
      if (k === 0) return undefined;
      const a = rows[k - 1]!;
      const ua = a.step! / T;
      return a[column]! + ((u - ua) / (uk - ua)) * (rows[k]![column]! - a[column]!);
    }
  }
  return undefined;
}

export interface CurvePoint {
  x: number;
  mean: number;
  /** 95% Student-t band over seeds; equal to mean when there is one seed. */
  lo: number;
  hi: number;
  n: number;
}

export interface Curve extends GroupKey {
  seeds: number[];
  /** T (each run's last step) of the group's runs: the largest, should they differ. */
  steps: number;
  points: CurvePoint[];
}

/** T of a run: `train.steps`, or the step where it stopped at its target loss (docs/science.md §11.3). */
export const lastStep = (r: LoadedRun): number => (r.summary.stop?.reason === 'target_loss' ? r.summary.stop.step : r.summary.config.train.steps);

const stepsOf = (group: readonly LoadedRun[]) => Math.max(...group.map(lastStep));

function pointOf(x: number, values: number[]): CurvePoint {
  const ci = meanCI(values);
  return values.length > 1 ? { x, mean: ci.mean, lo: ci.lo, hi: ci.hi, n: ci.n } : { x, mean: ci.mean, lo: ci.mean, hi: ci.mean, n: 1 };
}

/** Default number of evenly spaced log10-loss levels per curve. */
export const LOSS_GRID_POINTS = 120;

/**
 * Mean ± 95% CI over seeds of `column` against log10 loss, one curve per (activation, optimizer,
 * β) among `optimizers`: `gridPoints` evenly spaced levels from the highest starting loss every
 * seed has data below, down to the lowest loss every seed reached.
 */
export function lossCurves(
  runs: readonly LoadedRun[],
  column: string,
  optimizers: readonly string[],
  gridPoints = LOSS_GRID_POINTS,
): Curve[] {
  return groupRuns(runs.filter((r) => optimizers.includes(r.summary.run.optimizer))).map(({ key, runs: group }) => {
    const ranges = group.map((r) => lossRange(r.rows));
    const top = Math.min(...ranges.map((r) => r.start));
    const bottom = Math.max(...ranges.map((r) => r.lowest));
    const points: CurvePoint[] = [];
    if (top >= bottom) {
      const n = top > bottom ? gridPoints : 1;
      for (let i = 0; i < n; i++) {
        // Endpoints exactly: the last level is the lowest loss of the least-trained seed.
        const x = i === n - 1 ? bottom : top + ((bottom - top) * i) / (n - 1);
        const values = group.map((r) => valueAtLoss(r.rows, x, column)!);
        points.push(pointOf(x, values));
      }
    }
    return { ...key, seeds: group.map((r) => r.summary.run.seed), steps: stepsOf(group), points };
  });
}

/** Mean ± 95% CI over seeds of `column` against t/T, at every logged t/T that all seeds of the group reach. */
export function timeCurves(runs: readonly LoadedRun[], column: string, optimizers: readonly string[]): Curve[] {
  return groupRuns(runs.filter((r) => optimizers.includes(r.summary.run.optimizer))).map(({ key, runs: group }) => {
    const T = (r: LoadedRun) => Math.max(1, lastStep(r));
    const end = Math.min(...group.map((r) => r.rows[r.rows.length - 1]!.step! / T(r)));
    const grid = [...new Set(group.flatMap((r) => r.rows.map((row) => row.step! / T(r))))].filter((u) => u <= end).sort((a, b) => a - b);
    const points = grid.map((u) => pointOf(u, group.map((r) => valueAtTime(r.rows, T(r), u, column)!)));
    return { ...key, seeds: group.map((r) => r.summary.run.seed), steps: stepsOf(group), points };
  });
}

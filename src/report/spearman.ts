import { meanCI, type MeanCI } from './stats.js';

/**
 * docs/science.md §13.4: ranks 1..n of `values`, ties given the mean of the ranks they span
 * (fractional ranking), as Spearman's coefficient needs them.
 */
export function fractionalRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]![0] === order[start]![0]) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]![1]] = rank;
    start = end + 1;
  }
  return ranks;
}

/**
 * docs/science.md §13.4: Spearman's rank correlation of paired values, the Pearson correlation of
 * their fractional ranks; NaN for fewer than 3 pairs or where either side is constant (no ranking).
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) throw new Error(`spearman: ${x.length} values against ${y.length}`);
  const n = x.length;
  if (n < 3 || x.some((v) => !Number.isFinite(v)) || y.some((v) => !Number.isFinite(v))) return NaN;
  const rx = fractionalRanks(x);
  const ry = fractionalRanks(y);
  const mean = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = rx[i]! - mean;
    const b = ry[i]! - mean;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/** One seed's values of two quantities, one pair per optimizer. */
export interface SeedPairs {
  seed: number;
  x: number[];
  y: number[];
}

/** Spearman's ρ per seed, and their mean with a Student-t interval over the seeds (docs/science.md §13.4). */
export interface RankCorrelation extends MeanCI {
  /** ρ of each seed with a defined one, in seed order. */
  bySeed: { seed: number; rho: number }[];
}

/**
 * docs/science.md §13.4: for each seed, ρ across the optimizers that ran it; then the mean of the
 * seeds' ρ with a two-sided Student-t interval at `level` (NaN bounds for one seed). Seeds where ρ
 * is undefined (a constant side, fewer than 3 optimizers) are left out.
 */
export function rankCorrelation(seeds: readonly SeedPairs[], level = 0.95): RankCorrelation {
  const bySeed = seeds.map((s) => ({ seed: s.seed, rho: spearman(s.x, s.y) })).filter((s) => Number.isFinite(s.rho));
  return { ...meanCI(bySeed.map((s) => s.rho), level), bySeed };
}

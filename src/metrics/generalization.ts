import { crossEntropyLogDomain, logisticLogDomain, toLog10 } from '../numerics/logLoss.js';
import { accuracyFromMargins } from './margins.js';

/** The percentiles of the sample-margin distribution that are reported beside its minimum (docs/science.md §13.1). */
export const MARGIN_PERCENTILES = [1, 10, 50] as const;
export type MarginPercentile = (typeof MARGIN_PERCENTILES)[number];

/** A norm of θ by name and value, as the margins of docs/science.md §5 are normalized by it. */
export interface NamedNorm {
  name: string;
  value: number;
}

/** How the network does on one set of samples (docs/science.md §13.1). */
export interface SetMetrics {
  /** Number of samples. */
  n: number;
  /** Fraction with a positive sample margin (a tie counts as an error). */
  accuracy: number;
  /** Natural log of the mean loss, exact at any loss (docs/science.md §4). */
  logLoss: number;
  /** log10 of the mean loss. */
  log10Loss: number;
  /** Mean loss (0 where it underflows; logLoss stays exact). */
  loss: number;
  /** Sample margins q_i (docs/science.md §5), in sample order. */
  margins: Float64Array;
}

/**
 * docs/science.md §13.1: accuracy, mean loss and sample margins of outputs f(θ; x_i) [n, C] on a
 * set labelled `labels` (class indices for C > 1, ±1 for the binary task, C = 1), with the
 * training loss of docs/science.md §4 and its log-domain numerics.
 */
export function setMetrics(outputs: Float64Array, labels: Int32Array, numClasses: number): SetMetrics {
  if (outputs.length !== labels.length * numClasses) {
    throw new Error(`setMetrics: ${outputs.length} outputs for ${labels.length} labels and ${numClasses} outputs each`);
  }
  const { logLoss, margins } =
    numClasses === 1 ? logisticLogDomain(outputs, labels, null) : crossEntropyLogDomain(outputs, labels, numClasses, null);
  return { n: labels.length, accuracy: accuracyFromMargins(margins), logLoss, log10Loss: toLog10(logLoss), loss: Math.exp(logLoss), margins };
}

/**
 * docs/science.md §13.1: the p-th percentile (0 < p ≤ 100) of the values `sorted` (ascending) by
 * the nearest-rank rule: the ⌈p n / 100⌉-th smallest, the smallest value with at least p % of
 * the values at or below it. Always one of the values, no interpolation.
 */
export function nearestRankPercentile(sorted: Float64Array, p: number): number {
  if (!(p > 0 && p <= 100)) throw new Error(`nearestRankPercentile: p = ${p}, expected 0 < p ≤ 100`);
  if (sorted.length === 0) throw new Error('nearestRankPercentile: no values');
  // The slack keeps a product that rounds just above an integer (p n / 100 = 7.000000000000001) at that rank.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9));
  return sorted[rank - 1]!;
}

/** The minimum and the percentiles of MARGIN_PERCENTILES of a margin distribution. */
export interface MarginQuantiles {
  min: number;
  p1: number;
  p10: number;
  p50: number;
}

/** The normalized sample-margin distribution in one norm (docs/science.md §13.1). */
export interface NormalizedMarginDistribution extends MarginQuantiles {
  /** The norm's name, as given. */
  norm: string;
}

/** docs/science.md §13.1: min and 1st/10th/50th nearest-rank percentiles of the sample margins q_i. */
export function marginQuantiles(margins: Float64Array): MarginQuantiles {
  const sorted = Float64Array.from(margins).sort();
  if (sorted.length === 0) throw new Error('marginQuantiles: no margins');
  const [p1, p10, p50] = MARGIN_PERCENTILES.map((p) => nearestRankPercentile(sorted, p)) as [number, number, number];
  return { min: sorted[0]!, p1, p10, p50 };
}

/**
 * docs/science.md §13.1: the distribution of the normalized sample margins q_i / N(θ)^D in each
 * norm of `norms` (its min is the normalized margin γ_N of §5 on that set). Dividing by N^D > 0 keeps the
 * order of the q_i, so the percentiles are taken once, on q, and scaled per norm.
 */
export function normalizedMarginDistribution(margins: Float64Array, norms: readonly NamedNorm[], degree: number): NormalizedMarginDistribution[] {
  const q = marginQuantiles(margins);
  return norms.map(({ name, value }) => {
    if (!(value > 0)) throw new Error(`normalizedMarginDistribution: norm ${name} = ${value}, expected > 0`);
    const scale = value ** degree;
    return { norm: name, min: q.min / scale, p1: q.p1 / scale, p10: q.p10 / scale, p50: q.p50 / scale };
  });
}

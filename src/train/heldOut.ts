import type { Activation } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { MARGIN_PERCENTILES, normalizedMarginDistribution, setMetrics, type NamedNorm } from '../metrics/generalization.js';
import { F64Engine } from '../engine/f64.js';
import type { LayerShape, Params } from '../model/mlp.js';

/**
 * The CSV columns a run gains when `data.test` is set (docs/science.md §13.3), after every other
 * column: on the held-out set its accuracy and mean loss, and per logged norm the minimum and the
 * 1st/10th/50th percentiles of its normalized sample margins; on the training set the same
 * percentiles (the minimum is `margin_<norm>`). Each name starts with a prefix no other column
 * has (`test_`, `p1_`, …), so no norm's name can make two columns collide.
 */
export const TEST_ACC = 'test_acc';
export const TEST_LOSS = 'test_loss';
export const TEST_LOG10_LOSS = 'test_log10_loss';
/** The minimum normalized margin in norm `name` on the held-out set. */
export const testMarginColumn = (name: string): string => `test_margin_${name}`;
/** The p-th percentile of the normalized margins in norm `name`: on the training set, or with `test` on the held-out set. */
export const percentileColumn = (p: number, name: string, test = false): string => `${test ? 'test_' : ''}p${p}_margin_${name}`;

/** The held-out columns of a run logging the norms `names` (in their column order). */
export function heldOutColumns(names: readonly string[]): string[] {
  const train = names.flatMap((n) => MARGIN_PERCENTILES.map((p) => percentileColumn(p, n)));
  const test = names.flatMap((n) => [testMarginColumn(n), ...MARGIN_PERCENTILES.map((p) => percentileColumn(p, n, true))]);
  return [TEST_ACC, TEST_LOSS, TEST_LOG10_LOSS, ...train, ...test];
}

/**
 * The held-out set on the float64 engine (its sparse forward pass, several times faster than the
 * dense one), built once per run: `outputs(θ)` is f(θ; x_i) for every held-out x_i, [n, C].
 */
export class HeldOutSet {
  private readonly engine: F64Engine;

  constructor(
    readonly test: Dataset,
    shapes: LayerShape[],
    activation: Activation,
  ) {
    this.engine = new F64Engine(test, shapes, activation);
  }

  outputs(params: Params): Float64Array {
    return this.engine.evaluate([params], false)[0]!.logits;
  }
}

/** What the held-out columns are computed from at a log point. */
export interface HeldOutPoint {
  params: Params;
  degree: number;
  /** The training set's sample margins q_i at θ (the engine's evaluation). */
  trainMargins: Float64Array;
  /** N(θ) of every logged norm, in column order. */
  norms: readonly NamedNorm[];
  test: HeldOutSet;
}

/**
 * docs/science.md §13.3: the held-out columns' values at one log point: one forward pass of
 * θ over the held-out set (accuracy, mean loss, margins), and the percentiles of both sets' sample
 * margins, each divided by N(θ)^D per norm.
 */
export function heldOutValues({ params, degree, trainMargins, norms, test }: HeldOutPoint): Record<string, number> {
  const held = setMetrics(test.outputs(params), test.test.y, test.test.numClasses);
  const out: Record<string, number> = { [TEST_ACC]: held.accuracy, [TEST_LOSS]: held.loss, [TEST_LOG10_LOSS]: held.log10Loss };
  for (const dist of normalizedMarginDistribution(trainMargins, norms, degree)) {
    for (const p of MARGIN_PERCENTILES) out[percentileColumn(p, dist.norm)] = dist[`p${p}`];
  }
  for (const dist of normalizedMarginDistribution(held.margins, norms, degree)) {
    out[testMarginColumn(dist.norm)] = dist.min;
    for (const p of MARGIN_PERCENTILES) out[percentileColumn(p, dist.norm, true)] = dist[`p${p}`];
  }
  return out;
}

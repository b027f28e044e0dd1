import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  marginQuantiles,
  nearestRankPercentile,
  normalizedMarginDistribution,
  setMetrics,
} from '../../src/metrics/generalization.js';

// A hand-made table of 20 sample margins, as a CSV a user could check by hand.
const TABLE = `sample,q
0,0.8
1,-0.3
2,1.5
3,0.05
4,2.2
5,0.9
6,0.4
7,-0.1
8,1.1
9,0.6
10,3.0
11,0.7
12,0.2
13,1.9
14,0.3
15,1.2
16,0.5
17,2.5
18,1.0
19,0.1`;

const margins = Float64Array.from(
  TABLE.split('\n')
    .slice(1)
    .map((line) => Number(line.split(',')[1])),
);

test('docs/science.md §13.1 nearest-rank percentiles on a hand-made table', () => {
  // Sorted: −0.3, −0.1, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, …
  // n = 20: p = 1 → rank ⌈0.2⌉ = 1; p = 10 → rank 2; p = 50 → rank 10; p = 100 → rank 20.
  assert.deepEqual(marginQuantiles(margins), { min: -0.3, p1: -0.3, p10: -0.1, p50: 0.7 });
  const sorted = Float64Array.from(margins).sort();
  assert.equal(nearestRankPercentile(sorted, 100), 3.0);
  assert.equal(nearestRankPercentile(sorted, 35), 0.4); // rank 7
  assert.equal(nearestRankPercentile(sorted, 36), 0.5); // rank ⌈7.2⌉ = 8
  assert.equal(nearestRankPercentile(Float64Array.of(5), 1), 5);
  assert.throws(() => nearestRankPercentile(sorted, 0), /0 < p/);
  // In each norm: q / N^D, percentiles in the same order (N^D > 0 keeps it).
  const dist = normalizedMarginDistribution(margins, [{ name: 'l2', value: 2 }, { name: 'linf', value: 0.5 }], 2);
  assert.deepEqual(dist.map((d) => d.norm), ['l2', 'linf']);
  assert.deepEqual(dist[0], { norm: 'l2', min: -0.3 / 4, p1: -0.3 / 4, p10: -0.1 / 4, p50: 0.7 / 4 });
  assert.deepEqual(dist[1], { norm: 'linf', min: -0.3 / 0.25, p1: -0.3 / 0.25, p10: -0.1 / 0.25, p50: 0.7 / 0.25 });
  assert.throws(() => normalizedMarginDistribution(margins, [{ name: 'l2', value: 0 }], 2), /l2 = 0/);
});

test('docs/science.md §13.1 accuracy and mean loss of outputs on a set, multiclass and binary', () => {
  // Three samples, three classes. Margins: 2 − 1 = 1, 0 − 3 = −3, 1 − 1 = 0 (a tie: an error).
  const logits = Float64Array.of(2, 1, 0, 3, 0, 0, 1, 1, -1);
  const labels = Int32Array.of(0, 1, 1);
  const m = setMetrics(logits, labels, 3);
  assert.deepEqual([...m.margins], [1, -3, 0]);
  assert.equal(m.n, 3);
  assert.equal(m.accuracy, 1 / 3);
  const ce = (row: number[], y: number): number => Math.log(row.reduce((s, f) => s + Math.exp(f), 0)) - row[y]!;
  const mean = (ce([2, 1, 0], 0) + ce([3, 0, 0], 1) + ce([1, 1, -1], 1)) / 3;
  assert.ok(Math.abs(m.loss - mean) < 1e-14);
  assert.ok(Math.abs(m.log10Loss - Math.log10(mean)) < 1e-14);
  // Binary: y = ±1, loss log(1 + e^{−y f}).
  const b = setMetrics(Float64Array.of(2, -0.5, 1), Int32Array.of(1, 1, -1), 1);
  assert.deepEqual([...b.margins], [2, -0.5, -1]);
  assert.equal(b.accuracy, 1 / 3);
  const logistic = (q: number): number => Math.log1p(Math.exp(-q));
  assert.ok(Math.abs(b.loss - (logistic(2) + logistic(-0.5) + logistic(-1)) / 3) < 1e-14);
  // At margins far past float64's loss range, the log loss stays exact.
  const far = setMetrics(Float64Array.of(800, -800), Int32Array.of(1, -1), 1);
  assert.equal(far.loss, 0);
  assert.ok(Math.abs(far.logLoss - -800) < 1e-9);
  assert.throws(() => setMetrics(logits, labels, 2), /outputs/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fractionalRanks, rankCorrelation, spearman } from '../../src/report/spearman.js';
import { meanCI } from '../../src/report/stats.js';

test('docs/science.md §13.4 fractional ranks: ties share the mean of their ranks', () => {
  assert.deepEqual(fractionalRanks([0.3, 0.1, 0.2]), [3, 1, 2]);
  assert.deepEqual(fractionalRanks([5, 1, 5, 2]), [3.5, 1, 3.5, 2]);
  assert.deepEqual(fractionalRanks([7, 7, 7]), [2, 2, 2]);
});

test('docs/science.md §13.4 Spearman ρ against hand-computed ranks', () => {
  // Same order: 1; reversed: −1.
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4e-9, 3e-9, 2e-9, 1e-9]), -1);
  // Ranks x = 1..5, y = 2, 1, 4, 3, 5: Σd² = 1+1+1+1+0 = 4, ρ = 1 − 6·4 / (5·24) = 0.8 (no ties).
  assert.ok(Math.abs(spearman([0.1, 0.2, 0.3, 0.4, 0.5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12);
  // With a tie: x ranks 1, 2.5, 2.5, 4; y ranks 1, 2, 3, 4; Pearson of the ranks by hand:
  // centred x: −1.5, 0, 0, 1.5; centred y: −1.5, −0.5, 0.5, 1.5; Σxy = 4.5, Σx² = 4.5, Σy² = 5 → 4.5/√22.5.
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 4.5 / Math.sqrt(22.5)) < 1e-12);
  // Undefined: a constant side, or fewer than 3 pairs.
  assert.ok(Number.isNaN(spearman([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(spearman([1, 2], [1, 2])));
  assert.throws(() => spearman([1, 2, 3], [1, 2]), /3 values against 2/);
});

test('docs/science.md §13.4 per-seed ρ, mean and Student-t interval over the seeds', () => {
  const seeds = [
    { seed: 0, x: [1, 2, 3, 4], y: [1, 2, 3, 4] }, // ρ = 1
    { seed: 1, x: [1, 2, 3, 4], y: [4, 3, 2, 1] }, // ρ = −1
    { seed: 2, x: [0.1, 0.2, 0.3, 0.4, 0.5], y: [2, 1, 4, 3, 5] }, // ρ = 0.8
    { seed: 3, x: [1, 1, 1], y: [1, 2, 3] }, // undefined: left out
  ];
  const r = rankCorrelation(seeds);
  assert.deepEqual(r.bySeed.map((s) => s.seed), [0, 1, 2]);
  const want = meanCI([1, -1, 0.8]);
  assert.ok(Math.abs(r.mean - 0.8 / 3) < 1e-12);
  assert.ok(Math.abs(r.lo - want.lo) < 1e-12 && Math.abs(r.hi - want.hi) < 1e-12);
  assert.equal(r.n, 3);
});

// Putting runs on a common axis (src/figures/align.ts): first passage in log10 loss, linear
// interpolation between log points, and never a value outside a run's data.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { lossCurves, lossRange, timeCurves, valueAtLoss, valueAtTime } from '../../src/figures/align.js';
import { loadResults } from '../../src/results/load.js';
import { FIXTURE, cleanup } from './fixtures.js';

after(cleanup);

// A run whose loss overshoots once (momentum): log10 loss 0 → −1 → −0.5 → −2.
const rows = [
  { step: 0, log10_loss: 0, v: 10 },
  { step: 1, log10_loss: -1, v: 20 },
  { step: 3, log10_loss: -0.5, v: 30 },
  { step: 8, log10_loss: -2, v: 60 },
];

test('valueAtLoss: first passage, linear in log10 loss, undefined outside the data', () => {
  assert.equal(valueAtLoss(rows, 0, 'v'), 10); // the starting point itself
  assert.equal(valueAtLoss(rows, -0.5, 'v'), 15); // by hand: halfway from (0, 10) to (−1, 20), the FIRST crossing
  assert.equal(valueAtLoss(rows, -1, 'v'), 20);
  // Below −1 the first crossing is between (−0.5, 30) and (−2, 60): at −1.25, halfway → 45.
  assert.equal(valueAtLoss(rows, -1.25, 'v'), 45);
  assert.equal(valueAtLoss(rows, -2, 'v'), 60);
  assert.equal(valueAtLoss(rows, 0.1, 'v'), undefined); // above the starting loss
  assert.equal(valueAtLoss(rows, -2.01, 'v'), undefined); // below the lowest logged loss
  assert.deepEqual(lossRange(rows), { lowest: -2, start: 0 });
});

test('valueAtTime: logged values exactly, linear between, undefined past the last point', () => {
  assert.equal(valueAtTime(rows, 8, 3 / 8, 'v'), 30);
  assert.equal(valueAtTime(rows, 8, 2 / 8, 'v'), 25); // by hand: halfway from step 1 (20) to step 3 (30)
  assert.equal(valueAtTime(rows, 8, 1, 'v'), 60);
  assert.equal(valueAtTime(rows, 16, 0.75, 'v'), undefined); // T = 16: the run's data end at t/T = 0.5
});

test('lossCurves on the fixture: every point inside every seed’s range, mean = average of the seeds', () => {
  const set = loadResults([FIXTURE]);
  const curves = lossCurves(set.runs, 'margin_l2', ['ngd', 'signum', 'muon', 'muon_signum'], 50);
  assert.equal(curves.length, 2 * 4 * 2); // activation × optimizer × β
  for (const c of curves) {
    const group = set.runs.filter(
      (r) => r.summary.run.activation === c.activation && r.summary.run.optimizer === c.optimizer && r.summary.run.beta === c.beta,
    );
    assert.deepEqual(c.seeds, [0, 1, 2]);
    assert.equal(c.points.length, 50);
    const top = Math.min(...group.map((r) => r.rows[0]!.log10_loss!));
    const bottom = Math.max(...group.map((r) => Math.min(...r.rows.map((row) => row.log10_loss!))));
    assert.equal(c.points[0]!.x, top);
    assert.equal(c.points.at(-1)!.x, bottom);
    for (const p of c.points) {
      const values = group.map((r) => valueAtLoss(r.rows, p.x, 'margin_l2'));
      assert.ok(values.every((v) => v !== undefined), `${c.optimizer} at ${p.x}: a seed has no data`);
      const mean = values.reduce((s, v) => s + v!, 0) / values.length;
      assert.ok(Math.abs(p.mean - mean) <= 1e-12 * Math.abs(mean) + 1e-300);
      assert.ok(p.lo <= p.mean && p.mean <= p.hi && p.n === 3);
    }
  }
});

test('timeCurves on the fixture: the logged t/T grid, values as logged', () => {
  const set = loadResults([FIXTURE]);
  const curves = timeCurves(set.runs, 'cos_to_last', ['muon']);
  assert.equal(curves.length, 4);
  const run = set.runs.find((r) => r.summary.id === 'relu_muon_b0.9_s0')!;
  const c = curves.find((k) => k.activation === 'relu' && k.beta === 0.9)!;
  assert.deepEqual(c.points.map((p) => p.x), run.rows.map((r) => r.step! / 300));
  assert.ok(Math.abs(c.points.at(-1)!.mean - 1) < 1e-12); // cos(θ_T, θ_T) = 1
});

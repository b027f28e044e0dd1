import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { normOf, resolveMuonLayers, type NormName } from '../../src/metrics/norms.js';
import { learningRate, logSteps } from '../../src/train/schedule.js';

import { LOG_COLUMNS, runId } from '../../src/results/runs.js';
import { assertClose, engineFor, toyData, toyNet, trainOne } from '../helpers.js';

test('docs/science.md §7: η_t = η_0/(t+1)^a, the first update uses η_0', async () => {
  assert.equal(learningRate(0.5, 0.75, 0), 0.5);
  assertClose(learningRate(0.5, 0.75, 15), 0.5 / 16 ** 0.75, 1e-15, 'η_15'); // by hand: 16^0.75 = 8
  assert.equal(learningRate(0.5, 0.75, 15), 0.0625);
});

test('docs/science.md §8: log points are 0, T and a geometric grid in between', async () => {
  const steps = logSteps(4000, 40);
  assert.equal(steps[0], 0);
  assert.equal(steps[1], 1);
  assert.equal(steps.at(-1), 4000);
  assert.ok(steps.length > 30 && steps.length <= 41);
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
  // consecutive ratios are roughly constant once rounding stops merging points
  const tail = steps.slice(-10);
  const ratios = tail.slice(1).map((s, i) => s / tail[i]!);
  assert.ok(Math.max(...ratios) / Math.min(...ratios) < 1.05);
  assert.deepEqual(logSteps(5, 1), [0, 1, 5]);
});

test('a run logs every column at every log point; η_0 = rel × own-family norm of θ_0', async () => {
  const data = toyData(12, 12, 4, 2);
  const { shapes, params } = toyNet('relu', 2, 3);
  const config = resolveConfig({ train: { steps: 30 }, log: { n_log: 8 } }, 'test');
  for (const optimizer of ['ngd', 'adam', 'muon_signum'] as const) {
    const spec = { activation: 'relu' as const, optimizer, beta: 0.9, seed: 0 };
    const r = await trainOne(config, spec, engineFor(data, shapes, 'relu'), shapes, params);
    assert.equal(r.failure, null);
    assert.equal(r.stepsCompleted, 30);
    assert.deepEqual(r.rows.map((row) => row.step), logSteps(30, 8));
    // Everything is finite, except what compares with the previous log point, which step 0 lacks.
    const first = new Set(['angle_prev', 'norm_growth']);
    for (const [i, row] of r.rows.entries()) {
      for (const c of LOG_COLUMNS) {
        if (i === 0 && first.has(c)) assert.ok(Number.isNaN(row[c]), `${c} at step 0 should be NaN`);
        else assert.ok(Number.isFinite(row[c]), `${c} at step ${row.step}`);
      }
    }
    assertClose(r.rows.at(-1)!.cos_to_last, 1, 1e-14, 'cos_to_last at T');
    assertClose(r.rows[0]!.cos_m_g, 1, 1e-14, 'cos_m_g at 0'); // m_0 = (1 − β) g_0 points along g_0
    const isMuon = resolveMuonLayers(null, 2);
    assertClose(r.eta0, 0.1 * normOf(r.family as NormName, params, shapes, isMuon), 1e-15, 'η_0');
    r.rows.forEach((row) => assertClose(row.lr, learningRate(r.eta0, 0.75, row.step), 1e-15, 'lr column'));
    assert.notDeepEqual(r.finalParams, params); // it trained…
    assert.deepEqual(r.initialParams, params); // …without touching its input
  }
  assert.equal(runId({ activation: 'sqrelu', optimizer: 'adam', beta: 0, seed: 0 }), 'sqrelu_adam_b0_s0');
  assert.equal(runId({ activation: 'relu', optimizer: 'muon', beta: 0.9, seed: 3 }), 'relu_muon_b0.9_s3');
});

test('a run that turns non-finite stops and records the step', async () => {
  const data = toyData(12, 12, 4, 2);
  const { shapes, params } = toyNet('sqrelu', 3, 3);
  // η_0 = 1e200 sends the weights to ±1e200; squared ReLU over three layers overflows to ∞.
  const config = resolveConfig({ train: { steps: 50, lr: { eta0: 1e200 } }, log: { n_log: 50 } }, 'test');
  const r = await trainOne(config, { activation: 'sqrelu', optimizer: 'signum', beta: 0, seed: 0 }, engineFor(data, shapes, 'sqrelu'), shapes, params);
  assert.ok(r.failure, 'expected a failure');
  assert.ok(r.failure.step > 0 && r.failure.step < 50);
  assert.match(r.failure.reason, /non-finite/);
  assert.equal(r.stepsCompleted, r.failure.step);
  assert.ok(r.rows.every((row) => row.step < r.failure!.step));
  assertClose(r.rows.at(-1)!.cos_to_last, 1, 1e-14, 'cos_to_last'); // measured against the last finite iterate
});

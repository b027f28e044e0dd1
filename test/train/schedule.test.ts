import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { initParams, layerShapes } from '../../src/model/mlp.js';
import { adamSpeedLimit, learningRate, logDescentRate, LossBasedRate, makeSchedule } from '../../src/train/schedule.js';

import { assertClose, engineFor, toyData, toyNet, trainOne } from '../helpers.js';

const settings = { natsPerStep: 0.05, below: 0.1, growth: 1.02, max: 1, backoff: 0.5 };
const LOG_BELOW = Math.log(0.1);

test('polynomial schedule: exactly docs/science.md §7, whatever the loss', async () => {
  const s = makeSchedule(resolveConfig({}, 'test').train.lr, 0.5);
  assert.equal(s.usesDescentRate, false);
  for (const t of [0, 1, 15, 3999]) assert.equal(s.rate(t, -700, NaN), learningRate(0.5, 0.75, t));
});

test('logDescentRate: log of ⟨∇L, D⟩/L, from log-scales, NaN when the step does not descend', async () => {
  // ∇L = e^s G: ⟨∇L, D⟩/L = e^{s − log L} ⟨G, D⟩. By hand: s = −3, ⟨G, D⟩ = 2, log L = −5 → 2 + log 2.
  assertClose(logDescentRate(-3, 2, -5), 2 + Math.log(2), 1e-15, 'log rate');
  // Far past underflow: L = e^{-1e6}, s = −1e6 + 3: still exact.
  assertClose(logDescentRate(-1e6 + 3, 0.5, -1e6), 3 + Math.log(0.5), 1e-9, 'log rate at L = e^{-1e6}');
  assert.ok(Number.isNaN(logDescentRate(-3, 0, -5)));
  assert.ok(Number.isNaN(logDescentRate(-3, -1, -5)));
  assert.ok(Number.isNaN(logDescentRate(-Infinity, 1, -5)));
});

test('loss_based: polynomial while L > below; then κ L/⟨∇L, D⟩ under its caps', async () => {
  const eta0 = 0.2;
  const r = new LossBasedRate(eta0, 0.75, settings);
  // Above `below` the descent rate is ignored: docs/science.md §7 exactly.
  for (let t = 0; t < 5; t++) assert.equal(r.rate(t, LOG_BELOW + 1 - t * 0.1, 7), learningRate(eta0, 0.75, t));
  const poly4 = learningRate(eta0, 0.75, 4);
  // Below: κ/rate would be 0.05/e^{-3} ≈ 1.0 — capped by growth: 1.02 × η_4.
  const eta5 = r.rate(5, LOG_BELOW - 1, -3);
  assertClose(eta5, 1.02 * poly4, 1e-15, 'growth cap');
  // The rule itself when it is the smallest: κ e^{-logRate}, by hand 0.05 · e^{-4}.
  const eta6 = r.rate(6, LOG_BELOW - 2, 4);
  assertClose(eta6, 0.05 * Math.exp(-4), 1e-15, 'κ L/⟨∇L, D⟩');
  // Growth cap again, then the max cap max · η_0.
  let eta = eta6;
  for (let t = 7; t < 400; t++) {
    const next = r.rate(t, LOG_BELOW - 2 - t, -50);
    assert.ok(next <= eta * 1.02 * (1 + 1e-15) && next <= eta0 * (1 + 1e-15), `step ${t}`);
    eta = next;
  }
  assert.equal(eta, eta0); // reached the cap and stays there
  // The loss went up: back off; a step that does not descend (NaN rate): back off.
  assertClose(r.rate(400, LOG_BELOW - 1, -50), 0.5 * eta0, 1e-15, 'backoff on loss increase');
  assertClose(r.rate(401, LOG_BELOW - 2, NaN), 0.25 * eta0, 1e-15, 'backoff on non-descent');
  // Back above `below`: the polynomial rate again.
  assert.equal(r.rate(402, LOG_BELOW + 0.5, -50), learningRate(eta0, 0.75, 402));
});

test('loss_based: exact at losses far below float64 (L = e^{-1e6})', async () => {
  const r = new LossBasedRate(1, 0.75, { ...settings, growth: 1e300, max: 1e300 });
  r.rate(0, -1e6 + 1, 0);
  // log ⟨∇L, D⟩/L = log(1e6): κ/1e6, even though L, e^s and ⟨∇L, D⟩ are all 0 as floats.
  assertClose(r.rate(1, -1e6, logDescentRate(-1e6 + Math.log(1e6), 1, -1e6)), 0.05 / 1e6, 1e-9, 'η at L = e^{-1e6}');
});

test('a loss_based run: docs/science.md §7 until the loss is below `below`, each step within its caps after', async () => {
  const data = toyData(12, 12, 4, 2); // separable by the width-16 net: accuracy 1 from step ~170
  const { shapes, params } = toyNet('relu', 2, 2, 12, 16);
  const lr = { schedule: 'loss_based', rel: 0.1, loss_below: 0.3 } as const;
  const config = resolveConfig({ train: { steps: 400, lr }, log: { n_log: 4000 } }, 'test'); // every step is a log point
  const r = await trainOne(config, { activation: 'relu', optimizer: 'ngd', beta: 0, seed: 0 }, engineFor(data, shapes, 'relu'), shapes, params);
  assert.equal(r.failure, null);
  const switchAt = r.rows.findIndex((row) => row.loss <= 0.3);
  assert.ok(switchAt > 0, 'the toy run should get below the threshold');
  r.rows.slice(0, switchAt).forEach((row) => assert.equal(row.lr, learningRate(r.eta0, 0.75, row.step)));
  for (let i = switchAt; i < r.rows.length; i++) {
    const [row, prev] = [r.rows[i]!, r.rows[i - 1]!];
    assert.ok(row.lr <= r.eta0 * (1 + 1e-15), `lr ≤ η_0 at ${row.step}`);
    if (row.loss <= 0.3 && row.log10_loss <= prev.log10_loss) assert.ok(row.lr <= prev.lr * 1.02 * (1 + 1e-15), `growth cap at ${row.step}`);
  }
  // It ends faster than the polynomial schedule from the same start.
  const poly = await trainOne(resolveConfig({ train: { steps: 400 }, log: { n_log: 1 } }, 'test'), { activation: 'relu', optimizer: 'ngd', beta: 0, seed: 0 }, engineFor(data, shapes, 'relu'), shapes, params);
  assert.ok(r.rows.at(-1)!.log10_loss < poly.rows.at(-1)!.log10_loss, `${r.rows.at(-1)!.log10_loss} vs ${poly.rows.at(-1)!.log10_loss}`);
});

test("Adam's speed limit: √v̂ follows gradients shrinking by e^{-r} per step only for r < ½ log(1/β2)", async () => {
  assertClose(adamSpeedLimit(0.95), 0.5 * Math.log(1 / 0.95), 1e-15, 'limit'); // by hand: 0.025647…
  assert.equal(adamSpeedLimit(0), Infinity); // β2 = 0: √v̂ = |g|, no memory, no limit
  // Textbook Adam on one coordinate with g_t = e^{-r t}: the step m̂/√v̂ settles below the limit, vanishes above it.
  const step = (r: number, T: number) => {
    let m = 0;
    let v = 0;
    for (let t = 1; t <= T; t++) {
      const g = Math.exp(-r * t);
      m = 0.9 * m + 0.1 * g;
      v = 0.95 * v + 0.05 * g * g;
      if (t === T) return m / (1 - 0.9 ** t) / Math.sqrt(v / (1 - 0.95 ** t));
    }
    return NaN;
  };
  const limit = adamSpeedLimit(0.95);
  assertClose(step(0.5 * limit, 2000), step(0.5 * limit, 1000), 1e-9, 'steady below the limit');
  assert.ok(step(1.5 * limit, 2000) < 1e-3 * step(1.5 * limit, 1000), 'vanishing above it');
  // makeSchedule caps κ: asked 0.05, allowed 0.01 → η = 0.01 e^{-logRate} (growth and max out of the way).
  const lr = { ...resolveConfig({}, 'test').train.lr, schedule: 'loss_based', max_growth: 1e9, max_factor: 1e9 } as const;
  const s = makeSchedule(lr, 1, 0.01);
  s.rate(0, LOG_BELOW - 1, 0);
  assertClose(s.rate(1, LOG_BELOW - 2, 2), 0.01 * Math.exp(-2), 1e-15, 'capped κ');
  const free = makeSchedule(lr, 1);
  free.rate(0, LOG_BELOW - 1, 0);
  assertClose(free.rate(1, LOG_BELOW - 2, 2), 0.05 * Math.exp(-2), 1e-15, 'κ as asked');
});

test('configs/loss-based.yaml, shrunk to 60 steps: polynomial at first, loss-based once L < 0.1', async () => {
  const config = loadConfig(new URL('../../configs/loss-based.yaml', import.meta.url).pathname, ['train.steps=60', 'log.n_log=60']);
  assert.equal(config.train.lr.schedule, 'loss_based');
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: data.d, width: config.model.width, outputDim: data.numClasses, depth: config.model.depth });
  const spec = { activation: 'sqrelu', optimizer: 'signum', beta: 0.9, seed: 0 } as const;
  const r = await trainOne(config, spec, new F64Engine(data, shapes, 'sqrelu'), shapes, initParams(shapes, config.model.init_scale, 0));
  assert.equal(r.failure, null);
  const poly = (step: number) => learningRate(r.eta0, config.train.lr.decay, step);
  const below = r.rows.filter((row) => row.log10_loss < -1);
  assert.ok(below.length > 0, 'signum on squared ReLU gets below L = 0.1 within 60 steps');
  r.rows.filter((row) => row.step < below[0]!.step).forEach((row) => assert.equal(row.lr, poly(row.step)));
  assert.ok(below.some((row) => row.lr !== poly(row.step)), 'the loss-based rate takes over');
  r.rows.forEach((row) => assert.ok(row.lr <= r.eta0 * (1 + 1e-15)));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { OPTIMIZER_NAMES } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { loadEngineFactory } from '../../src/engine/create.js';
import { resolveMuonLayers } from '../../src/metrics/norms.js';
import { homogeneityDegree, initParams, shapesFor, type Params } from '../../src/model/mlp.js';
import { spanRuleApplies } from '../../src/train/parametrization.js';
import { LOG_COLUMNS } from '../../src/results/runs.js';
import { assertClose, assertMarginsClose, centralDifferences, denseForward, scaleParams, toyData, toyNet, trainOne } from '../helpers.js';

// Depth 1: the bias-free linear classifier f(W; x) = W x (docs/science.md §3.1), through both
// engines, both first-layer paths and every optimizer.

/** toyData with labels ±1 for the binary task (one output), or class labels. */
function linearToy(classes: number, seed: number) {
  const data = toyData(14, 12, Math.max(classes, 2), seed);
  if (classes === 1) return { ...data, numClasses: 1, y: Int32Array.from(data.y, (_, i) => (i % 2 === 0 ? 1 : -1)) };
  return data;
}

for (const classes of [1, 4]) {
  const what = classes === 1 ? 'binary' : 'multiclass';
  test(`depth 1, ${what}: the logits are W x, the margin has degree 1 and the gradient is the loss's (central differences)`, async () => {
    const data = linearToy(classes, 5);
    const { shapes, params } = toyNet('relu', 1, 2, 12, 6, classes);
    assert.deepEqual(shapes, [{ out: classes, in: 12 }]);
    for (const activation of ['relu', 'sqrelu'] as const) assert.equal(homogeneityDegree(activation, 1), 1);
    const engine = new F64Engine(data, shapes, 'sqrelu'); // no activation is ever applied at depth 1
    const ev = engine.evaluate([params], true)[0]!;
    const want = denseForward(params, shapes, data.X, data.n, 'relu');
    want.forEach((row, i) => row.forEach((v, k) => assertClose(ev.logits[i * classes + k]!, v, 1e-13, `logit ${i},${k}`)));
    // q_i(c W) = c q_i(W): degree 1.
    const margins = Float64Array.from(ev.margins);
    const scaled = engine.evaluate([scaleParams(params, 3)], false)[0]!.margins;
    margins.forEach((q, i) => assertClose(scaled[i]!, 3 * q, 1e-13, `q_${i}`));
    // ∂L/∂W = e^{gradLogScale} G against central differences of L = e^{log L}.
    const grad = ev.grad!.map((g) => g.map((v) => v * Math.exp(ev.gradLogScale)));
    const loss = (p: Params) => Math.exp(engine.evaluate([p], false)[0]!.logLoss);
    const fd = centralDifferences(params, loss, 1e-6);
    grad[0]!.forEach((g, k) => assert.ok(Math.abs(g - fd[k]!) < 1e-8, `∂L/∂W[${k}]: ${g} vs ${fd[k]}`));
    // By hand for the binary task: ∂L/∂w = −(1/n) Σ_i y_i x_i / (1 + e^{q_i}).
    if (classes === 1) {
      const hand = new Float64Array(12);
      for (let i = 0; i < data.n; i++) {
        const c = -data.y[i]! / (1 + Math.exp(ev.margins[i]!)) / data.n;
        for (let j = 0; j < 12; j++) hand[j]! += c * data.X[i * 12 + j]!;
      }
      hand.forEach((h, j) => assert.ok(Math.abs(h - grad[0]![j]!) < 1e-14, `by hand ∂L/∂w[${j}]`));
    }
  });
}

test('depth 1: the single layer is the Muon layer by default, so every hybrid is Muon there (docs/science.md §3.1)', () => {
  assert.deepEqual(resolveMuonLayers(null, 1), [true]);
  assert.deepEqual(resolveMuonLayers([], 1), [false]);
  assert.deepEqual(resolveMuonLayers(null, 2), [true, false]);
});

// 40 digits of 4 classes and the parity task: the span pays there (40 samples, ~150 live pixels each).
const configs = {
  multiclass: resolveConfig({ data: { classes: [0, 1, 2, 3], n_per_class: 10 }, model: { depth: 1 }, train: { steps: 60 }, log: { n_log: 8 } }, 'linear'),
  binary: resolveConfig({ data: { task: 'parity', n_per_class: 4 }, model: { depth: 1 }, train: { steps: 60 }, log: { n_log: 8 } }, 'linear'),
};

for (const [what, config] of Object.entries(configs)) {
  test(`depth 1, ${what}: every optimizer trains on the f64 engine, and the span path agrees with the full one`, async () => {
    const data = loadDataset(config.data);
    const shapes = shapesFor(config.model, data);
    assert.equal(shapes.length, 1);
    const init = initParams(shapes, config.model.init_scale, 1);
    const engine = new F64Engine(data, shapes, 'relu');
    for (const optimizer of OPTIMIZER_NAMES) {
      const spec = { activation: 'relu' as const, optimizer, beta: 0.9, seed: 1 };
      const full = await trainOne(config, spec, engine, shapes, init, { firstLayer: 'full' });
      const run = await trainOne(config, spec, engine, shapes, init);
      assert.equal(full.failure, null, optimizer);
      assert.equal(run.path, spanRuleApplies(config, spec, 1) ? 'span' : 'full', optimizer);
      // ngd and muon (and the hybrids, Muon here) take the span; signum and adam do not.
      assert.equal(run.path === 'span', ['ngd', 'muon', 'muon_signum', 'muon_adam'].includes(optimizer), optimizer);
      const last = full.rows.at(-1)!;
      for (const c of LOG_COLUMNS) assert.ok(Number.isFinite(last[c]), `${optimizer} ${c}`);
      assert.ok(last.loss < full.rows[0]!.loss, `${optimizer}: the loss falls`);
      assertMarginsClose(run.rows.at(-1)!, last, 1e-9, `${optimizer} span vs full`);
      // The hybrid norm is the spectral norm of the one (Muon) layer.
      assert.equal(last.norm_hybrid, last.norm_spectral);
    }
  });
}

test('depth 1 on the TF.js engine (wasm): host evaluation and runs held on the device match the float64 engine, every optimizer', async () => {
  const tfjs = await loadEngineFactory({ engine: 'tfjs', backend: 'wasm' });
  for (const classes of [1, 4]) {
    const data = linearToy(classes, 7);
    const { shapes, params } = toyNet('relu', 1, 3, 12, 6, classes);
    const want = new F64Engine(data, shapes, 'relu').evaluate([params], true)[0]!;
    const engine = tfjs.create(data, shapes, 'relu');
    const got = (await engine.evaluate([params], true))[0]!;
    assert.ok(Math.abs(got.logLoss - want.logLoss) < 1e-5 * Math.abs(want.logLoss), `${classes}: log loss`);
    got.grad![0]!.forEach((g, k) => assert.ok(Math.abs(g - want.grad![0]![k]!) < 1e-5, `${classes}: G[${k}]`));
    engine.dispose?.();
  }
  for (const config of Object.values(configs)) {
    const data = loadDataset(config.data);
    const shapes = shapesFor(config.model, data);
    const init = initParams(shapes, config.model.init_scale, 2);
    for (const optimizer of OPTIMIZER_NAMES) {
      const spec = { activation: 'relu' as const, optimizer, beta: 0.9, seed: 2 };
      const f64 = await trainOne(config, spec, new F64Engine(data, shapes, 'relu'), shapes, init);
      const engine = tfjs.create(data, shapes, 'relu');
      const held = await trainOne(config, spec, engine, shapes, init);
      engine.dispose?.();
      assert.equal(held.failure, null);
      assertMarginsClose(held.rows.at(-1)!, f64.rows.at(-1)!, 1e-3, `${config.data.task} ${optimizer} tfjs vs f64`);
    }
  }
});

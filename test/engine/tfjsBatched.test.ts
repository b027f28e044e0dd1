import assert from 'node:assert/strict';
import test from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64_FACTORY } from '../../src/engine/create.js';
import { loadBackend } from '../../src/engine/tfjs/backends.js';
import { BatchedTfjsEngine } from '../../src/engine/tfjs/batched.js';
import { NORM_NAMES } from '../../src/metrics/norms.js';
import { initParams, layerShapes } from '../../src/model/mlp.js';
import { trainRunsBatched } from '../../src/train/batched.js';
import { trainRun } from '../../src/train/train.js';
import { scaleParams, toyData } from '../helpers.js';

const maxDiff = (a: Float64Array[], b: Float64Array[]) =>
  a.reduce((m, t, l) => t.reduce((mm, v, k) => Math.max(mm, Math.abs(v - b[l]![k]!)), m), 0);

test('batched seeds: S parameter sets in one call give each set the float64 engine\'s evaluation (1e-5)', async () => {
  const runtime = await loadBackend('wasm');
  const before = runtime.tf.memory().numTensors;
  const data = toyData(30, 12, 4, 7);
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const depth of [2, 3]) {
      const shapes = layerShapes({ inputDim: 12, width: 6, outputDim: 4, depth, activation });
      // Three seeds, at very different scales (one at a tiny loss): each set is scaled on its own.
      const sets = [initParams(shapes, 1, 1), scaleParams(initParams(shapes, 1, 2), 7), scaleParams(initParams(shapes, 1, 3), 0.2)];
      const engine = new BatchedTfjsEngine(runtime, data, shapes, activation);
      const got = engine.evaluateMany(sets, true);
      sets.forEach((params, s) => {
        const want = F64_FACTORY.create(data, shapes, activation).evaluate(params, true);
        const what = `${activation} depth ${depth} set ${s}`;
        assert.ok(Math.abs(got[s]!.logLoss - want.logLoss) < 1e-5 * Math.max(1, Math.abs(want.logLoss)), `${what}: log loss`);
        assert.ok(Math.abs(got[s]!.gradLogScale - want.gradLogScale) < 1e-5 * Math.max(1, Math.abs(want.gradLogScale)), `${what}: log-scale`);
        assert.ok(maxDiff(got[s]!.grad!, want.grad!) < 1e-5, `${what}: max|ΔG| ${maxDiff(got[s]!.grad!, want.grad!)}`);
      });
      engine.dispose();
    }
  }
  assert.equal(runtime.tf.memory().numTensors, before, 'no tensor left behind');
});

test('batched seeds: 3 seeds × 2 optimizers trained in lockstep end where the float64 engine does, run by run', async () => {
  const runtime = await loadBackend('wasm');
  const config: Config = { ...DEFAULTS, train: { ...DEFAULTS.train, steps: 100 }, log: { n_log: 5 } };
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: 784, width: 50, outputDim: 10, depth: 2, activation: 'relu' });
  const specs = [0, 1, 2].flatMap((seed) => (['ngd', 'muon'] as const).map((optimizer) => ({ activation: 'relu' as const, optimizer, beta: 0.9, seed })));
  const inits = specs.map((s) => initParams(shapes, 0.3, s.seed));
  const engine = new BatchedTfjsEngine(runtime, data, shapes, 'relu');
  const results = trainRunsBatched(config, specs, engine, shapes, inits);
  engine.dispose();
  results.forEach((got, i) => {
    const want = trainRun(config, specs[i]!, F64_FACTORY.create(data, shapes, 'relu'), shapes, inits[i]!);
    assert.equal(got.rows.length, want.rows.length);
    const a = want.rows[want.rows.length - 1]!;
    const b = got.rows[got.rows.length - 1]!;
    for (const norm of NORM_NAMES) {
      const key = `margin_${norm}` as const;
      assert.ok(Math.abs(b[key] - a[key]) < 1e-3 * Math.abs(a[key]), `${specs[i]!.optimizer} seed ${specs[i]!.seed} ${key}: ${b[key]} vs ${a[key]}`);
    }
  });
});

import assert from 'node:assert/strict';
import test from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64_FACTORY, loadEngineFactory, type EngineFactory } from '../../src/engine/create.js';
import { missingPackages } from '../../src/engine/tfjs/backends.js';
import { initParams } from '../../src/model/mlp.js';
import { shapesFor } from '../../src/model/mlp.js';
import { assertMarginsClose, toyData, toyNet, trainOne } from '../helpers.js';

// The webgpu backend against the float64 engine. It needs the optional packages (never in
// package.json) and a WebGPU adapter; on a machine without a GPU, lavapipe (docs/engines.md)
// gives one. Everywhere else (CI) these tests skip, saying why.
let factory: EngineFactory | null = null;
let skip: string | false = false;
const missing = missingPackages('webgpu');
if (missing.length > 0) skip = `${missing.join(', ')} not installed`;
else {
  try {
    factory = await loadEngineFactory({ engine: 'tfjs', backend: 'webgpu' });
  } catch (err) {
    skip = `webgpu does not start here: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
  }
}

const maxDiff = (a: Float64Array[], b: Float64Array[]) =>
  a.reduce((m, t, l) => t.reduce((mm, v, k) => Math.max(mm, Math.abs(v - b[l]![k]!)), m), 0);

test('tfjs-webgpu: gradient direction, its log-scale and the loss equal the float64 engine\'s (1e-5), read back asynchronously', { skip }, async () => {
  const data = toyData(40, 12, 4, 3);
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const depth of [2, 3]) {
      const { shapes, params } = toyNet(activation, depth, 2);
      const want = (await F64_FACTORY.create(data, shapes, activation).evaluate([params], true))[0]!;
      const engine = factory!.create(data, shapes, activation);
      const pending = engine.evaluate([params], true);
      assert.ok(pending instanceof Promise, 'webgpu has no synchronous read-back in Node: evaluate answers with a promise');
      const got = (await pending)[0]!;
      const what = `${activation} depth ${depth}`;
      assert.ok(Math.abs(got.logLoss - want.logLoss) < 1e-5 * Math.abs(want.logLoss), `${what}: log loss ${got.logLoss} vs ${want.logLoss}`);
      assert.ok(Math.abs(got.gradLogScale - want.gradLogScale) < 1e-5, `${what}: log-scale`);
      assert.ok(maxDiff(got.grad!, want.grad!) < 1e-5, `${what}: max|ΔG| ${maxDiff(got.grad!, want.grad!)}`);
      engine.dispose?.();
    }
  }
});

test('tfjs-webgpu: 200 steps of ngd and muon (docs/science.md §9 data) end at the float64 margins (1e-3 relative)', { skip }, async () => {
  const config: Config = { ...DEFAULTS, train: { ...DEFAULTS.train, steps: 200 }, log: { n_log: 10 } };
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 0);
  for (const optimizer of ['ngd', 'muon'] as const) {
    const spec = { activation: 'relu' as const, optimizer, beta: 0.9, seed: 0 };
    const want = await trainOne(config, spec, F64_FACTORY.create(data, shapes, 'relu'), shapes, init);
    const engine = factory!.create(data, shapes, 'relu');
    const got = await trainOne(config, spec, engine, shapes, init);
    engine.dispose?.();
    assert.equal(got.failure, null);
    const a = want.rows[want.rows.length - 1]!;
    const b = got.rows[got.rows.length - 1]!;
    assertMarginsClose(b, a, 1e-3, optimizer);
  }
});

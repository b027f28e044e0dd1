import assert from 'node:assert/strict';
import test from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64_FACTORY, loadEngineFactory } from '../../src/engine/create.js';
import type { Engine } from '../../src/engine/types.js';
import { initParams } from '../../src/model/mlp.js';
import { shapesFor } from '../../src/model/mlp.js';
import { trainRun, trainRunAsync, type RunResult } from '../../src/train/train.js';

// trainRunAsync drives the same trainSteps generator as trainRun; only the read-back is awaited.
// So on an engine that can do both, the two must agree to the last bit.

function smallConfig(): Config {
  return {
    ...DEFAULTS,
    data: { ...DEFAULTS.data, classes: [0, 1, 2], n_per_class: 5 },
    model: { ...DEFAULTS.model, width: 8 },
    train: { ...DEFAULTS.train, steps: 40 },
    log: { n_log: 8 },
  };
}

/** The f64 engine with an evaluateAsync that only wraps evaluate, as an async-only engine would be driven. */
function asyncWrapped(engine: Engine): Engine {
  return {
    name: engine.name,
    evaluate: (p, g) => engine.evaluate(p, g),
    evaluateAsync: async (p, g) => engine.evaluate(p, g),
    asyncOnly: true,
  };
}

const sameRun = (a: RunResult, b: RunResult, what: string) => {
  assert.deepStrictEqual(b.rows, a.rows, `${what}: rows`);
  assert.deepStrictEqual(b.finalParams, a.finalParams, `${what}: θ_T`);
  assert.equal(b.stepsCompleted, a.stepsCompleted);
};

test('trainRunAsync gives bitwise trainRun\'s result (f64 engine behind an async wrapper; ngd, adam, muon)', async () => {
  const config = smallConfig();
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 0);
  for (const optimizer of ['ngd', 'adam', 'muon'] as const) {
    const spec = { activation: 'sqrelu' as const, optimizer, beta: 0.9, seed: 0 };
    const want = trainRun(config, spec, F64_FACTORY.create(data, shapes, 'sqrelu'), shapes, init);
    const got = await trainRunAsync(config, spec, asyncWrapped(F64_FACTORY.create(data, shapes, 'sqrelu')), shapes, init);
    sameRun(want, got, optimizer);
  }
});

test('tfjs-wasm: evaluateAsync (await tensor.data()) and evaluate (dataSync) train bitwise the same', async () => {
  const tfjs = await loadEngineFactory({ engine: 'tfjs', backend: 'wasm' });
  const config = smallConfig();
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 1);
  const spec = { activation: 'relu' as const, optimizer: 'muon' as const, beta: 0.9, seed: 1 };
  const sync = tfjs.create(data, shapes, 'relu');
  const want = trainRun(config, spec, sync, shapes, init);
  sync.dispose?.();
  const engine = tfjs.create(data, shapes, 'relu');
  assert.ok(engine.evaluateAsync && !engine.asyncOnly);
  const got = await trainRunAsync(config, spec, engine, shapes, init);
  engine.dispose?.();
  sameRun(want, got, 'tfjs-wasm muon');
});

test('trainRun refuses an async-only engine with a message naming trainRunAsync', () => {
  const config = smallConfig();
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const engine = asyncWrapped(F64_FACTORY.create(data, shapes, 'relu'));
  const spec = { activation: 'relu' as const, optimizer: 'ngd' as const, beta: 0.9, seed: 0 };
  assert.throws(() => trainRun(config, spec, engine, shapes, initParams(shapes, 0.3, 0)), /trainRunAsync/);
});

import assert from 'node:assert/strict';
import test from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64_FACTORY } from '../../src/engine/create.js';
import { loadBackend } from '../../src/engine/tfjs/backends.js';
import { TfjsEngine } from '../../src/engine/tfjs/engine.js';
import type { Engine } from '../../src/engine/types.js';
import { initParams, shapesFor } from '../../src/model/mlp.js';
import type { RunSpec } from '../../src/results/runs.js';
import { trainRuns, type RunResult } from '../../src/train/train.js';

// The one training driver, trainRuns: however an engine answers (synchronously or with a promise)
// and however many runs share its calls, every run must come out exactly as if it ran alone.

function smallConfig(): Config {
  return {
    ...DEFAULTS,
    data: { ...DEFAULTS.data, classes: [0, 1, 2], n_per_class: 5 },
    model: { ...DEFAULTS.model, width: 8 },
    train: { ...DEFAULTS.train, steps: 40 },
    log: { n_log: 8 },
  };
}

/** The f64 engine answering every call with a promise, as webgpu's engine does (its span engine too). */
function answeringLater(engine: Engine): Engine {
  let spanned: ReturnType<NonNullable<Engine['inDataSpan']>> | undefined;
  return {
    name: engine.name,
    batchLimit: engine.batchLimit,
    evaluate: async (sets, g) => engine.evaluate(sets, g),
    inDataSpan() {
      if (spanned === undefined) {
        const inner = engine.inDataSpan?.() ?? null;
        spanned = inner && { ...inner, engine: answeringLater(inner.engine) };
      }
      return spanned;
    },
  };
}

const sameRun = (a: RunResult, b: RunResult, what: string) => {
  assert.deepStrictEqual(b.rows, a.rows, `${what}: rows`);
  assert.deepStrictEqual(b.finalParams, a.finalParams, `${what}: θ_T`);
  assert.equal(b.stepsCompleted, a.stepsCompleted);
};

test('an engine that answers with a promise trains bitwise like one that answers at once (f64; ngd, adam, muon)', async () => {
  const config = smallConfig();
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 0);
  for (const optimizer of ['ngd', 'adam', 'muon'] as const) {
    const spec: RunSpec = { activation: 'sqrelu', optimizer, beta: 0.9, seed: 0 };
    const [want] = await trainRuns(config, [spec], F64_FACTORY.create(data, shapes, 'sqrelu'), shapes, [init]);
    const [got] = await trainRuns(config, [spec], answeringLater(F64_FACTORY.create(data, shapes, 'sqrelu')), shapes, [init]);
    sameRun(want!, got!, optimizer);
  }
});

test('runs trained together in lockstep end bitwise as each run alone (f64: batchLimit 1, the driver takes turns)', async () => {
  const config = smallConfig();
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const specs: RunSpec[] = [0, 1].flatMap((seed) => (['signum', 'muon_adam'] as const).map((optimizer) => ({ activation: 'relu' as const, optimizer, beta: 0.9, seed })));
  const inits = specs.map((s) => initParams(shapes, config.model.init_scale, s.seed));
  const together = await trainRuns(config, specs, F64_FACTORY.create(data, shapes, 'relu'), shapes, inits);
  for (const [i, spec] of specs.entries()) {
    const [alone] = await trainRuns(config, [spec], F64_FACTORY.create(data, shapes, 'relu'), shapes, [inits[i]!]);
    sameRun(alone!, together[i]!, `${spec.optimizer} seed ${spec.seed}`);
  }
  await assert.rejects(trainRuns(config, specs, F64_FACTORY.create(data, shapes, 'relu'), shapes, inits.slice(1)), /4 runs but 3 initial weights/);
  const mixed: RunSpec[] = [specs[0]!, { ...specs[1]!, activation: 'sqrelu' }];
  await assert.rejects(trainRuns(config, mixed, F64_FACTORY.create(data, shapes, 'relu'), shapes, inits.slice(0, 2)), /one activation/);
});

test('tfjs-wasm: asynchronous read-back (await tensor.data(), the webgpu path) and synchronous (dataSync) train bitwise the same, alone and batched', async () => {
  const runtime = await loadBackend('wasm');
  const config = smallConfig();
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const specs: RunSpec[] = [1, 2].map((seed) => ({ activation: 'relu', optimizer: 'muon', beta: 0.9, seed }));
  const inits = specs.map((s) => initParams(shapes, config.model.init_scale, s.seed));
  const sync = new TfjsEngine(runtime, data, shapes, 'relu');
  const later = new TfjsEngine(runtime, data, shapes, 'relu', { asyncReadback: true });
  assert.ok(!(sync.evaluate([inits[0]!], false) instanceof Promise));
  const pending = later.evaluate([inits[0]!], false);
  assert.ok(pending instanceof Promise);
  await pending;
  const want = await trainRuns(config, specs, sync, shapes, inits);
  const got = await trainRuns(config, specs, later, shapes, inits);
  specs.forEach((s, i) => sameRun(want[i]!, got[i]!, `tfjs-wasm muon seed ${s.seed}`));
  sync.dispose();
  later.dispose();
});

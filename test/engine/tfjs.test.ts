import assert from 'node:assert/strict';
import test from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config, OptimizerName } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64_FACTORY, loadEngineFactory, type EngineFactory } from '../../src/engine/create.js';
import { loadBackend } from '../../src/engine/tfjs/backends.js';
import { initParams, layerShapes } from '../../src/model/mlp.js';
import { marginTablesFrom } from '../../src/report/finalTable.js';
import { shapesFor } from '../../src/model/mlp.js';
import { NORM_NAMES } from '../../src/metrics/norms.js';
import { assertMarginsClose, scaleParams, toyData, toyNet, trainOne } from '../helpers.js';

// The TF.js engine against the float64 engine (the oracle), on the two backends every machine has.
const BACKENDS = ['wasm', 'cpu'] as const;
const factories = new Map<string, EngineFactory>();
async function tfjsFactory(backend: (typeof BACKENDS)[number]): Promise<EngineFactory> {
  if (!factories.has(backend)) factories.set(backend, await loadEngineFactory({ engine: 'tfjs', backend }));
  return factories.get(backend)!; // each engine makes its own backend the active one
}

const maxDiff = (a: Float64Array[], b: Float64Array[]) =>
  a.reduce((m, t, l) => t.reduce((mm, v, k) => Math.max(mm, Math.abs(v - b[l]![k]!)), m), 0);

for (const backend of BACKENDS) {
  test(`tfjs-${backend}: gradient direction, its log-scale and the loss equal the float64 engine's at moderate loss (1e-5)`, async () => {
    const tfjs = await tfjsFactory(backend);
    const data = toyData(40, 12, 4, 3);
    for (const activation of ['relu', 'sqrelu'] as const) {
      for (const depth of [2, 3]) {
        const { shapes, params } = toyNet(activation, depth, 2);
        const want = (await F64_FACTORY.create(data, shapes, activation).evaluate([params], true))[0]!;
        const engine = tfjs.create(data, shapes, activation);
        const got = (await engine.evaluate([params], true))[0]!;
        const what = `${activation} depth ${depth}`;
        assert.ok(Math.abs(got.logLoss - want.logLoss) < 1e-5 * Math.abs(want.logLoss), `${what}: log loss ${got.logLoss} vs ${want.logLoss}`);
        assert.ok(Math.abs(got.gradLogScale - want.gradLogScale) < 1e-5, `${what}: log-scale`);
        assert.ok(maxDiff(got.grad!, want.grad!) < 1e-5, `${what}: max|ΔG| ${maxDiff(got.grad!, want.grad!)}`);
        engine.dispose?.();
      }
    }
  });
}

test('tfjs-wasm: at a loss of ~1e-300 (float32 holds none of it) the direction and log-loss still match float64', async () => {
  const tfjs = await tfjsFactory('wasm');
  const data = toyData(30, 12, 3, 5);
  for (const activation of ['relu', 'sqrelu'] as const) {
    const { shapes, params } = toyNet(activation, 2, 4, 12, 8, 3);
    // Label each sample by the net's own argmax and keep the half with the larger margins: every
    // margin is then positive and within a small factor of q_min, so scaling θ up drives the loss
    // to ~e^-700 while the logits stay a few times q_min (float32's error is relative to |f|).
    const C = 3;
    const base = (await F64_FACTORY.create(data, shapes, activation).evaluate([params], false))[0]!;
    const y = Int32Array.from({ length: data.n }, (_, i) => {
      const row = Array.from(base.logits.subarray(i * C, i * C + C));
      return row.indexOf(Math.max(...row));
    });
    const q0 = (await F64_FACTORY.create({ ...data, y }, shapes, activation).evaluate([params], false))[0]!.margins;
    const median = [...q0].sort((a, b) => a - b)[Math.floor(data.n / 2)]!;
    const keep = [...q0.keys()].filter((i) => q0[i]! >= median);
    const own = {
      X: Float64Array.from(keep.flatMap((i) => Array.from(data.X.subarray(i * data.d, (i + 1) * data.d)))),
      y: Int32Array.from(keep.map((i) => y[i]!)),
      n: keep.length,
      d: data.d,
      numClasses: C,
    };
    const q = (await F64_FACTORY.create(own, shapes, activation).evaluate([params], false))[0]!.margins;
    const qmin = Math.min(...q);
    const D = activation === 'relu' ? 2 : 3;
    const c = (700 / qmin) ** (1 / D); // q_min → 700 nats: loss ~ e^-700 ~ 1e-304
    const scaled = scaleParams(params, c);
    const want = (await F64_FACTORY.create(own, shapes, activation).evaluate([scaled], true))[0]!;
    const engine = tfjs.create(own, shapes, activation);
    const got = (await engine.evaluate([scaled], true))[0]!;
    assert.ok(want.logLoss / Math.LN10 < -250, `f64 log10 loss ${want.logLoss / Math.LN10}`);
    assert.ok(Math.abs(got.logLoss - want.logLoss) < 1e-5 * Math.abs(want.logLoss), `${activation}: log loss ${got.logLoss} vs ${want.logLoss}`);
    assert.ok(Math.abs(got.gradLogScale - want.gradLogScale) < 1e-4 * Math.abs(want.gradLogScale), `${activation}: log-scale`);
    // The direction is dominated by the few smallest-margin samples; float32 logits carry an absolute
    // error ~1e-7·|f| ≈ 1e-4 nats here, which moves their weights by ~1e-4 relative.
    assert.ok(maxDiff(got.grad!, want.grad!) < 1e-3, `${activation}: max|ΔG| ${maxDiff(got.grad!, want.grad!)}`);
    engine.dispose?.();
  }
});

/** docs/science.md §9 data (100 digits, 784-50-10) with a short run. */
function spec9(steps: number, patch: Partial<Config['train']> = {}): Config {
  return { ...DEFAULTS, train: { ...DEFAULTS.train, steps, ...patch }, log: { n_log: 10 } };
}

test('tfjs-wasm: 100 steps of ngd and muon from the same initial weights end at the float64 margins (1e-3 relative)', async () => {
  const tfjs = await tfjsFactory('wasm');
  const config = spec9(100);
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 0);
  for (const optimizer of ['ngd', 'muon'] as const) {
    const spec = { activation: 'relu' as const, optimizer, beta: 0.9, seed: 0 };
    const want = await trainOne(config, spec, F64_FACTORY.create(data, shapes, 'relu'), shapes, init);
    const engine = tfjs.create(data, shapes, 'relu');
    const got = await trainOne(config, spec, engine, shapes, init);
    engine.dispose?.();
    const a = want.rows[want.rows.length - 1]!;
    const b = got.rows[got.rows.length - 1]!;
    assertMarginsClose(b, a, 1e-3, optimizer);
    assert.ok(Math.abs(b.log10_loss - a.log10_loss) < 1e-3 * Math.abs(a.log10_loss), `${optimizer} log10 loss`);
  }
});

test('tfjs-wasm: the diagonal holds on a small config run entirely on the TF.js engine (docs/science.md §1)', async () => {
  // configs/smoke.yaml at 150 steps and lr.rel 0.3 (the test/fixtures/smoke300 setting at half its
  // steps; the float64 engine shows the diagonal there on all 3 seeds, as at 300): ReLU, β 0.9, one
  // optimizer of each family, seed 0.
  const tfjs = await tfjsFactory('wasm');
  const config = spec9(150, { lr: { ...DEFAULTS.train.lr, rel: 0.3 } });
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const optimizers: OptimizerName[] = ['ngd', 'signum', 'muon', 'muon_signum'];
  const samples = [];
  for (const seed of [0]) {
    const init = initParams(shapes, config.model.init_scale, seed);
    for (const optimizer of optimizers) {
      const engine = tfjs.create(data, shapes, 'relu');
      const r = await trainOne(config, { activation: 'relu', optimizer, beta: 0.9, seed }, engine, shapes, init);
      engine.dispose?.();
      assert.equal(r.failure, null);
      const last = r.rows[r.rows.length - 1]!;
      samples.push({
        activation: 'relu' as const,
        optimizer,
        beta: 0.9,
        seed,
        margins: Object.fromEntries(NORM_NAMES.map((n) => [n, last[`margin_${n}`]])) as Record<(typeof NORM_NAMES)[number], number>,
      });
    }
  }
  const [table] = marginTablesFrom(samples);
  for (const norm of NORM_NAMES) {
    assert.ok(table!.winners[norm].ownFamily, `${norm} won by ${table!.winners[norm].optimizer}`);
    assert.ok(table!.paired[norm].diffs.every((d) => d > 0), `${norm}: own family ahead of every other optimizer`);
  }
});

test('tfjs-wasm: no tensor outlives an evaluation or a run (tf.memory() flat)', async () => {
  const tfjs = await tfjsFactory('wasm');
  const { tf } = await loadBackend('wasm');
  const before = tf.memory().numTensors;
  const config = spec9(10, { polar: 'exact' });
  const data = toyData(20, 784, 10, 1);
  const shapes = layerShapes({ inputDim: 784, width: 50, outputDim: 10, depth: 2 });
  const init = initParams(shapes, 0.3, 0);
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const optimizer of ['adam', 'muon_signum'] as const) {
      const engine = tfjs.create(data, shapes, activation);
      const inside = tf.memory().numTensors; // the engine's own copy of X
      (await engine.evaluate([init], false))[0]!;
      (await engine.evaluate([init], true))[0]!;
      assert.equal(tf.memory().numTensors, inside, 'after evaluate');
      await trainOne(config, { activation, optimizer, beta: 0.9, seed: 0 }, engine, shapes, init);
      assert.equal(tf.memory().numTensors, inside, `after a ${optimizer} run`);
      engine.dispose?.();
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

test('engines of two backends in one thread each compute on their own backend', async () => {
  const { tf } = await loadBackend('wasm');
  const data = toyData(10, 12, 4, 3);
  const { shapes, params } = toyNet('relu', 2, 2);
  const wasm = (await tfjsFactory('wasm')).create(data, shapes, 'relu');
  const cpu = (await tfjsFactory('cpu')).create(data, shapes, 'relu');
  for (const [engine, backend] of [[wasm, 'wasm'], [cpu, 'cpu'], [wasm, 'wasm']] as const) {
    (await engine.evaluate([params], true))[0]!;
    assert.equal(tf.getBackend(), backend);
    assert.equal(engine.name, `tfjs-${backend}`);
  }
  wasm.dispose?.();
  cpu.dispose?.();
});

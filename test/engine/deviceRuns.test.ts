import assert from 'node:assert/strict';
import test from 'node:test';
import type * as TF from '@tensorflow/tfjs-core';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config, OptimizerName } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { loadBackend } from '../../src/engine/tfjs/backends.js';
import { TfjsEngine } from '../../src/engine/tfjs/engine.js';
import type { StepOutcome } from '../../src/engine/types.js';
import { innerProduct } from '../../src/metrics/alignment.js';
import { resolveMuonLayers } from '../../src/metrics/norms.js';
import { initParams, layerShapes, shapesFor, type Params } from '../../src/model/mlp.js';
import { Optimizer } from '../../src/optimizers/registry.js';
import type { RunSpec } from '../../src/results/runs.js';
import { resolveConfig } from '../../src/config/load.js';
import { F64Engine } from '../../src/engine/f64.js';
import { toLog10 } from '../../src/numerics/logLoss.js';
import { logSteps } from '../../src/train/schedule.js';
import { trainRuns, trainSteps } from '../../src/train/train.js';
import { toyData, trainOne } from '../helpers.js';

// Runs the TF.js engine holds on its device (src/engine/tfjs/deviceRuns.ts): the optimizer step
// there against the host Optimizer, lockstep batches against runs alone, the traffic per step, and
// device memory.

const RULES: OptimizerName[] = ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'];

/** Toy data with pixels that are 0 in every sample (their weights never get a gradient: Adam's 0/0). */
function toyWithDeadPixels(n: number, d: number, classes: number, seed: number) {
  const data = toyData(n, d, classes, seed);
  for (let i = 0; i < n; i++) for (const j of [0, 5, d - 1]) data.X[i * d + j] = 0;
  return data;
}

test('device optimizer step = the host Optimizer fed the same gradients: all six rules, β 0.9 and 0 (1e-5)', async () => {
  const runtime = await loadBackend('wasm');
  const data = toyWithDeadPixels(30, 12, 4, 2);
  const shapes = layerShapes({ inputDim: 12, width: 7, outputDim: 4, depth: 3 });
  const isMuon = resolveMuonLayers(null, shapes.length);
  const eta = 0.05;
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const name of RULES) {
      for (const beta of [0.9, 0]) {
        const settings = { name, beta, beta2: 0.95, polar: 'exact' as const, isMuon, shapes };
        const engine = new TfjsEngine(runtime, data, shapes, activation);
        const held = engine.holdRuns();
        const run = held.hold(settings, initParams(shapes, 1, 3));
        const host = new Optimizer(settings);
        const what = `${activation} ${name} β ${beta}`;
        let previous: Params | null = null;
        let want: Params | null = null;
        for (let t = 0; t < 6; t++) {
          const [out] = (await held.step([{ run, logPoint: true, descentRate: true }])) as StepOutcome[];
          const theta = run.params.map((w) => w.slice());
          if (previous && want) {
            // The device's step, recovered from θ_t and θ_{t+1} (float32, |θ| ≲ 1: ~1e-7 / η).
            const got = previous.map((w, l) => w.map((v, k) => (v - theta[l]![k]!) / eta));
            const scale = Math.max(...want.map((w) => Math.max(...w.map(Math.abs))));
            const diff = Math.max(...got.map((w, l) => Math.max(...w.map((v, k) => Math.abs(v - want![l]![k]!)))));
            assert.ok(diff < 1e-5 * Math.max(1, scale), `${what} step ${t}: max|ΔD| ${diff} (max|D| ${scale})`);
          }
          const ev = out!.ev;
          assert.ok(ev.grad, `${what}: G at a log point`);
          const { direction, cosMomentumGrad } = host.step(ev.grad, ev.gradLogScale, true);
          want = direction.map((w) => w.slice());
          assert.ok(Math.abs(out!.cosMomentumGrad - cosMomentumGrad) < 1e-5, `${what} step ${t}: cos ${out!.cosMomentumGrad} vs ${cosMomentumGrad}`);
          const gd = innerProduct(ev.grad, direction);
          assert.ok(Math.abs(out!.gradDotDirection - gd) < 1e-5 * Math.max(1, Math.abs(gd)), `${what} step ${t}: ⟨G, D⟩ ${out!.gradDotDirection} vs ${gd}`);
          if (name === 'adam') {
            // The dead pixels' weights: no gradient ever, D = 0 (not NaN).
            for (const j of [0, 5, 11]) for (let k = 0; k < 7; k++) assert.equal(want[0]![k * 12 + j], 0);
          }
          previous = theta;
          run.descend(eta);
        }
        held.dispose();
        engine.dispose();
      }
    }
  }
});

function smallConfig(steps: number): Config {
  return {
    ...DEFAULTS,
    data: { ...DEFAULTS.data, classes: [0, 1, 2, 3], n_per_class: 6 },
    model: { ...DEFAULTS.model, width: 12 },
    train: { ...DEFAULTS.train, steps },
    log: { n_log: 6 },
  };
}

test('lockstep: seeds × optimizers trained as one device batch end as each run alone (float32 noise: 1e-4)', async () => {
  const runtime = await loadBackend('wasm');
  const config = smallConfig(40);
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const specs: RunSpec[] = [0, 1].flatMap((seed) => (['ngd', 'adam', 'muon', 'muon_adam'] as const).map((optimizer) => ({ activation: 'sqrelu' as const, optimizer, beta: 0.9, seed })));
  const inits = specs.map((s) => initParams(shapes, config.model.init_scale, s.seed));
  const engine = new TfjsEngine(runtime, data, shapes, 'sqrelu');
  const together = await trainRuns(config, specs, engine, shapes, inits);
  for (const [i, spec] of specs.entries()) {
    const [alone] = await trainRuns(config, [spec], engine, shapes, [inits[i]!]);
    const what = `${spec.optimizer} seed ${spec.seed}`;
    assert.equal(together[i]!.rows.length, alone!.rows.length, what);
    together[i]!.rows.forEach((row, r) => {
      const a = alone!.rows[r]!;
      for (const key of ['log10_loss', 'qmin', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid', 'cos_m_g'] as const) {
        assert.ok(Math.abs(row[key] - a[key]) <= 1e-4 * Math.max(1e-3, Math.abs(a[key])), `${what} step ${row.step} ${key}: ${row[key]} vs ${a[key]}`);
      }
    });
    // Its share of the batch's traffic: the same logits and G_f, the batch's scalars split evenly.
    const share = together[i]!.transfer!;
    const own = alone!.transfer!;
    assert.ok(Math.abs(share.down_bytes_per_step - own.down_bytes_per_step) <= 64 && Math.abs(share.up_bytes_per_step - own.up_bytes_per_step) <= 64, `${what}: ${JSON.stringify(share)} vs ${JSON.stringify(own)}`);
  }
  engine.dispose();
});

/** Counts every upload (tf.engine().makeTensor, where every host array enters TF.js) and every read, independently of the engine's own counters. */
function countTraffic(tf: typeof TF) {
  const counted = { up: 0, down: 0 };
  const core = tf.engine() as unknown as { makeTensor: (...a: unknown[]) => TF.Tensor };
  const make = core.makeTensor;
  core.makeTensor = function (this: unknown, ...args: unknown[]) {
    const values = args[0] as ArrayLike<number> & { byteLength?: number };
    counted.up += values.byteLength ?? values.length * 4;
    return make.apply(this, args);
  };
  const proto = tf.Tensor.prototype as unknown as { dataSync: () => ArrayLike<number> & { byteLength: number } };
  const dataSync = proto.dataSync;
  proto.dataSync = function (this: TF.Tensor) {
    const v = dataSync.call(this);
    counted.down += v.byteLength;
    return v;
  };
  return {
    counted,
    restore: () => {
      core.makeTensor = make;
      proto.dataSync = dataSync;
    },
  };
}

test('traffic per step: the logits and G_f plus a few scalars, the same at two widths, within 8·n·C + 4096 bytes each way, and every byte counted', async () => {
  const runtime = await loadBackend('wasm');
  const { tf } = runtime;
  const n = 20;
  const C = 4;
  const data = toyWithDeadPixels(n, 30, C, 4);
  const perWidth: Record<string, { down: number; up: number }>[] = [];
  for (const width of [8, 40]) {
    const shapes = layerShapes({ inputDim: 30, width, outputDim: C, depth: 3 });
    const isMuon = resolveMuonLayers(null, shapes.length);
    const byRule: Record<string, { down: number; up: number }> = {};
    for (const name of RULES) {
      const engine = new TfjsEngine(runtime, data, shapes, 'relu');
      const held = engine.holdRuns();
      const run = held.hold({ name, beta: 0.9, beta2: 0.95, polar: 'exact', isMuon, shapes }, initParams(shapes, 1, 1));
      await held.step([{ run, logPoint: true, descentRate: false }]); // the first step puts the batch on the device
      run.descend(0.01);
      const hook = countTraffic(tf);
      const steps = 5;
      try {
        for (let t = 0; t < steps; t++) {
          await held.step([{ run, logPoint: false, descentRate: false }]);
          run.descend(0.01);
        }
      } finally {
        hook.restore();
      }
      const reported = run.transfer()!;
      assert.equal(reported.down_bytes_per_step, hook.counted.down / steps, `${name} width ${width}: reads`);
      assert.equal(reported.up_bytes_per_step, hook.counted.up / steps, `${name} width ${width}: uploads (implicit scalars included)`);
      for (const [dir, bytes] of Object.entries({ down: reported.down_bytes_per_step, up: reported.up_bytes_per_step })) {
        assert.ok(bytes >= 4 * n * C, `${name} ${dir}: ${bytes} bytes carry the logits`);
        assert.ok(bytes <= 8 * n * C + 4096, `${name} width ${width} ${dir}: ${bytes} bytes per step`);
      }
      byRule[name] = { down: reported.down_bytes_per_step, up: reported.up_bytes_per_step };
      held.dispose();
      engine.dispose();
    }
    perWidth.push(byRule);
  }
  assert.deepEqual(perWidth[1], perWidth[0], 'bytes per step do not depend on the width');
});

test('a run\'s summary reports its traffic per step (log points excluded); θ is on the host only at log points', async () => {
  const runtime = await loadBackend('wasm');
  const config = smallConfig(12);
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const engine = new TfjsEngine(runtime, data, shapes, 'relu');
  const [r] = await trainRuns(config, [{ activation: 'relu', optimizer: 'adam', beta: 0.9, seed: 0 }], engine, shapes, [initParams(shapes, 0.3, 0)]);
  const { n } = data;
  const C = data.numClasses;
  assert.ok(r!.transfer!.down_bytes_per_step >= 4 * n * C && r!.transfer!.down_bytes_per_step <= 4 * n * C + 512, JSON.stringify(r!.transfer));
  assert.ok(r!.transfer!.up_bytes_per_step >= 4 * n * C && r!.transfer!.up_bytes_per_step <= 4 * n * C + 512, JSON.stringify(r!.transfer));
  const held = engine.holdRuns();
  const run = held.hold({ name: 'ngd', beta: 0.9, beta2: 0.95, polar: 'exact', isMuon: [true, false], shapes }, initParams(shapes, 0.3, 0));
  await held.step([{ run, logPoint: false, descentRate: false }]);
  assert.throws(() => run.params, /brought back only at log points/);
  held.dispose();
  engine.dispose();
});

test('tf.memory() flat: no tensor outlives a step or a run, for every rule (device batches, async read-back too)', async () => {
  const runtime = await loadBackend('wasm');
  const { tf } = runtime;
  const before = tf.memory().numTensors;
  const config = smallConfig(8);
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  for (const asyncReadback of [false, true]) {
    const engine = new TfjsEngine(runtime, data, shapes, 'sqrelu', { asyncReadback });
    const inside = tf.memory().numTensors; // X and the engine's constants
    const specs = RULES.map((optimizer) => ({ activation: 'sqrelu' as const, optimizer, beta: 0.9, seed: 0 }));
    await trainRuns(config, specs, engine, shapes, specs.map(() => initParams(shapes, 0.3, 0)));
    assert.equal(tf.memory().numTensors, inside, 'after a batch of every rule');
    // Step by step: the batch's state is a fixed set of tensors.
    const held = engine.holdRuns();
    const isMuon = [true, false];
    const runs = RULES.map((name) => held.hold({ name, beta: 0.9, beta2: 0.95, polar: 'exact', isMuon, shapes }, initParams(shapes, 0.3, 1)));
    const counts: number[] = [];
    for (let t = 0; t < 4; t++) {
      await held.step(runs.map((run) => ({ run, logPoint: t === 2, descentRate: true })));
      runs.forEach((run) => run.descend(0.01));
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts.slice(1), [counts[1], counts[1], counts[1]], `tensors after each step: ${counts.join(', ')}`);
    held.dispose();
    assert.equal(tf.memory().numTensors, inside, 'after the batch is disposed');
    engine.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('loss levels on the device: a held run stops at train.target_log10_loss and logs the step on each side of each level, at the f64 run\'s steps and values (1e-3); adam_eps and hybrid_ratio too', async () => {
  const runtime = await loadBackend('wasm');
  const { tf } = runtime;
  const base = { data: { task: 'parity', classes: [0, 1, 2, 3, 4, 5], n_per_class: 4 }, model: { width: 8 }, train: { steps: 300, lr: { rel: 0.1, decay: 0.8 } }, log: { n_log: 8 } } as const;
  const free = resolveConfig(base, 'test');
  const data = loadDataset(free.data);
  const shapes = shapesFor(free.model, data);
  const grid = logSteps(300, 8);
  for (const [spec, extra] of [
    [{ activation: 'relu', optimizer: 'signum', beta: 0.9, seed: 1 }, {}],
    [{ activation: 'sqrelu', optimizer: 'muon_adam', beta: 0.9, seed: 2 }, { adam_eps: 1e-3, lr: { ...base.train.lr, hybrid_ratio: 0.5 } }],
  ] as [RunSpec, Record<string, unknown>][]) {
    const init = initParams(shapes, free.model.init_scale, spec.seed);
    const what = `${spec.activation} ${spec.optimizer}`;
    // The f64 run's loss at every step (every step a level), to put two levels where float32 cannot move the crossing.
    const every = resolveConfig({ ...base, train: { ...base.train, ...extra } }, 'test');
    const losses = await lossesAtEveryStep(every, spec, data, shapes, init);
    const levelAfter = (from: number) => {
      for (let k = from; k < losses.length - 1; k++) {
        const level = (losses[k - 1]! + losses[k]!) / 2;
        const clear = losses.slice(0, k).every((v) => v > level + 1e-3) && losses[k]! < level - 1e-3;
        if (clear && !grid.includes(k) && !grid.includes(k - 1)) return { level, step: k };
      }
      throw new Error(`${what}: no clear level after step ${from}`);
    };
    const a = levelAfter(40);
    const b = levelAfter(a.step + 20);
    const config = resolveConfig({ ...base, train: { ...base.train, ...extra, target_log10_loss: b.level }, log: { n_log: 8, at_log10_loss: [a.level] } }, 'test');
    const want = await trainOne(config, spec, new F64Engine(data, shapes, spec.activation), shapes, init);
    const before = tf.memory().numTensors;
    const engine = new TfjsEngine(runtime, data, shapes, spec.activation);
    const got = await trainOne(config, spec, engine, shapes, init);
    engine.dispose();
    assert.equal(tf.memory().numTensors, before, `${what}: no kept tensor outlives the run`);
    assert.deepEqual(got.stop, { reason: 'target_loss', step: b.step }, what);
    assert.deepEqual(want.stop, got.stop, what);
    const steps = got.rows.map((row) => row.step);
    assert.deepEqual(steps, want.rows.map((row) => row.step), what);
    for (const step of [a.step - 1, a.step, b.step - 1, b.step]) assert.ok(steps.includes(step), `${what}: step ${step} logged`);
    got.rows.forEach((row, r) => {
      const w = want.rows[r]!;
      for (const key of ['log10_loss', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid', 'cos_m_g', 'align_l2', 'align_linf', 'align_spectral', 'align_hybrid', 'lr'] as const) {
        assert.ok(Number.isFinite(row[key]) === Number.isFinite(w[key]), `${what} step ${row.step} ${key}: ${row[key]} vs ${w[key]}`);
        if (Number.isFinite(w[key])) assert.ok(Math.abs(row[key] - w[key]) <= 1e-3 * Math.max(1, Math.abs(w[key])), `${what} step ${row.step} ${key}: ${row[key]} vs ${w[key]}`);
      }
    });
    // The step before each level came from the device's kept copy: θ, its gradient (the alignments) and cos(m, g).
    for (const step of [a.step - 1, b.step - 1]) {
      const row = got.rows.find((x) => x.step === step)!;
      assert.ok(Number.isFinite(row.align_l2) && Number.isFinite(row.cos_m_g) && Number.isFinite(row.angle_prev), `${what} step ${step}`);
    }
  }
});

/** log10 L(θ_t) at every step of the f64 run, from its generator driven by hand. */
async function lossesAtEveryStep(config: Readonly<Config>, spec: RunSpec, data: ReturnType<typeof loadDataset>, shapes: ReturnType<typeof shapesFor>, init: Params): Promise<number[]> {
  const engine = new F64Engine(data, shapes, spec.activation);
  const run = trainSteps(config, spec, shapes, init, undefined);
  const out: number[] = [];
  let st = run.next();
  while (!st.done) {
    const [ev] = engine.evaluate([st.value.run.params], true) as ReturnType<F64Engine['evaluate']> & unknown[];
    out.push(toLog10(ev!.logLoss));
    st = run.next({ ev: ev!, cosMomentumGrad: NaN, gradDotDirection: NaN });
  }
  return out;
}

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64_FACTORY } from '../../src/engine/create.js';
import { loadBackend } from '../../src/engine/tfjs/backends.js';
import { TfjsEngine } from '../../src/engine/tfjs/engine.js';
import { initParams, layerShapes } from '../../src/model/mlp.js';
import { trainRuns } from '../../src/train/train.js';
import { runHash } from '../../src/results/hash.js';
import type { RunSummary } from '../../src/results/summary.js';
import { runCli } from '../cli/helpers.js';
import { assertMarginsClose, scaleParams, toyData, trainOne } from '../helpers.js';

const maxDiff = (a: Float64Array[], b: Float64Array[]) =>
  a.reduce((m, t, l) => t.reduce((mm, v, k) => Math.max(mm, Math.abs(v - b[l]![k]!)), m), 0);

test('batched seeds: S parameter sets in one call give each set the float64 engine\'s evaluation (1e-5)', async () => {
  const runtime = await loadBackend('wasm');
  const before = runtime.tf.memory().numTensors;
  const data = toyData(30, 12, 4, 7);
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const depth of [2, 3]) {
      const shapes = layerShapes({ inputDim: 12, width: 6, outputDim: 4, depth });
      // Three seeds, at very different scales (one at a tiny loss): each set is scaled on its own.
      const sets = [initParams(shapes, 1, 1), scaleParams(initParams(shapes, 1, 2), 7), scaleParams(initParams(shapes, 1, 3), 0.2)];
      const engine = new TfjsEngine(runtime, data, shapes, activation);
      const got = await engine.evaluate(sets, true);
      for (const [s, params] of sets.entries()) {
        const want = (await F64_FACTORY.create(data, shapes, activation).evaluate([params], true))[0]!;
        const what = `${activation} depth ${depth} set ${s}`;
        assert.ok(Math.abs(got[s]!.logLoss - want.logLoss) < 1e-5 * Math.max(1, Math.abs(want.logLoss)), `${what}: log loss`);
        assert.ok(Math.abs(got[s]!.gradLogScale - want.gradLogScale) < 1e-5 * Math.max(1, Math.abs(want.gradLogScale)), `${what}: log-scale`);
        assert.ok(maxDiff(got[s]!.grad!, want.grad!) < 1e-5, `${what}: max|ΔG| ${maxDiff(got[s]!.grad!, want.grad!)}`);
      }
      engine.dispose();
    }
  }
  assert.equal(runtime.tf.memory().numTensors, before, 'no tensor left behind');
});

test('batched seeds: 3 seeds × 2 optimizers trained in lockstep end where the float64 engine does, run by run', async () => {
  const runtime = await loadBackend('wasm');
  const config: Config = { ...DEFAULTS, train: { ...DEFAULTS.train, steps: 40 }, log: { n_log: 5 } };
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: 784, width: 20, outputDim: 10, depth: 2 });
  const specs = [0, 1, 2].flatMap((seed) => (['ngd', 'muon'] as const).map((optimizer) => ({ activation: 'relu' as const, optimizer, beta: 0.9, seed })));
  const inits = specs.map((s) => initParams(shapes, 0.3, s.seed));
  const engine = new TfjsEngine(runtime, data, shapes, 'relu');
  const results = await trainRuns(config, specs, engine, shapes, inits);
  engine.dispose();
  for (const [i, got] of results.entries()) {
    const want = await trainOne(config, specs[i]!, F64_FACTORY.create(data, shapes, 'relu'), shapes, inits[i]!);
    assert.equal(got.rows.length, want.rows.length);
    const a = want.rows[want.rows.length - 1]!;
    const b = got.rows[got.rows.length - 1]!;
    assertMarginsClose(b, a, 1e-3, `${specs[i]!.optimizer} seed ${specs[i]!.seed}`);
  }
});

test('run with train.batch_runs 3: 3 seeds × {ngd, muon} train as two batches; each run\'s files as if alone, margins at float64\'s (1e-3); a rerun skips them', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mb-batch-'));
  try {
    const args = ['run', 'configs/smoke.yaml', '--engine', 'tfjs', '--backend', 'wasm', '--only', 'ngd,muon', '--seeds', '0-2', '--set', 'train.steps=30',
      '--set', 'model.width=20', '--set', 'train.betas=[0.9]', '--set', 'model.activations=[relu]', '--set', 'train.batch_runs=3', '--jobs', '2', '--out', out, '--no-progress'];
    const first = await runCli(args);
    assert.equal(first.code, 0, first.stderr);
    const finishedAt = (id: string) => (JSON.parse(readFileSync(join(out, `${id}.json`), 'utf8')) as RunSummary).finished_at;
    const ids = ['ngd', 'muon'].flatMap((o) => [0, 1, 2].map((seed) => `relu_${o}_b0.9_s${seed}`));
    const stamps = ids.map(finishedAt);
    const config: Config = { ...DEFAULTS, train: { ...DEFAULTS.train, steps: 30 }, log: { n_log: 10 } };
    const data = loadDataset(config.data);
    const shapes = layerShapes({ inputDim: 784, width: 20, outputDim: 10, depth: 2 });
    for (const optimizer of ['ngd', 'muon'] as const) {
      for (const seed of [0, 1, 2]) {
        const spec = { activation: 'relu' as const, optimizer, beta: 0.9, seed };
        const id = `relu_${optimizer}_b0.9_s${seed}`;
        const s = JSON.parse(readFileSync(join(out, `${id}.json`), 'utf8')) as RunSummary;
        assert.equal(s.status, 'ok', id);
        assert.equal(s.engine, 'tfjs-wasm', id);
        assert.equal(s.config.train.batch_runs, 3);
        assert.ok(existsSync(join(out, `${id}.csv`)), id);
        const want = (await trainOne(config, spec, F64_FACTORY.create(data, shapes, 'relu'), shapes, initParams(shapes, 0.3, seed))).rows.at(-1)!;
        assert.equal(s.final!.step, 30);
        assertMarginsClose(s.final!, want, 1e-3, id);
      }
    }
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(ids.map(finishedAt), stamps, 'the rerun redid nothing');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('train.batch_runs: above 1 only with the tfjs engine (usage error naming the key, nothing written); it enters the run hash only above 1', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'mb-batch-bad-')), 'results');
  try {
    const r = await runCli(['run', 'configs/smoke.yaml', '--set', 'train.batch_runs=4', '--out', out, '--no-progress']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /train\.batch_runs/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(existsSync(out), false, 'nothing written');
  } finally {
    rmSync(join(out, '..'), { recursive: true, force: true });
  }
  const spec = { activation: 'relu', optimizer: 'muon', beta: 0.9, seed: 0 } as const;
  const tfjs = (batch_runs: number): Config => ({ ...DEFAULTS, train: { ...DEFAULTS.train, engine: 'tfjs', backend: 'wasm', batch_runs } });
  assert.notEqual(runHash(tfjs(1), spec), runHash(tfjs(3), spec));
  assert.notEqual(runHash(tfjs(3), spec), runHash(tfjs(4), spec));
});

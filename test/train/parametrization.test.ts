import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { OPTIMIZER_NAMES, type Activation, type OptimizerName } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { initParams, shapesFor } from '../../src/model/mlp.js';
import { differingSettings, runSettings } from '../../src/report/settings.js';
import { LOG_COLUMNS, type LogRow, type RunSpec } from '../../src/results/runs.js';
import { firstLayerPath, spanParametrization, spanRuleApplies } from '../../src/train/parametrization.js';
import { executeOne, trainOne } from '../helpers.js';

// The first layer trained in the data's span (src/train/parametrization.ts) is the same run as the
// first layer trained as it is, up to rounding: its coordinates map back to θ and its gradient to θ's,
// whole runs agree in every logged column, and the summary says which path ran without making it a setting.

const config = resolveConfig({ log: { n_log: 20 } }, 'span test');
const data = loadDataset(config.data);
const shapes = shapesFor(config.model, data);
const init = initParams(shapes, config.model.init_scale, 3);

test('the span coordinates map back to θ: θ_0 exactly, a step of K as a step of W_1 along the data, the gradient as θ\'s gradient', () => {
  const engine = new F64Engine(data, shapes, 'sqrelu');
  const spanned = engine.inDataSpan();
  assert.ok(spanned, '100 digits of 522 live pixels: the span pays');
  const { span } = spanned;
  const coords = spanParametrization(span, shapes, init);
  assert.deepEqual(coords.shapes.map((s) => [s.out, s.in]), [[50, 100], [10, 50]]);
  // θ_0 comes back bit for bit, and the start is a copy.
  assert.deepEqual(coords.toFull(coords.start), init);
  assert.notEqual(coords.start[1], init[1]);

  // The same network: loss, margins and gradient at θ_0 on both engines, to 1e-12 (of max|f|, of max|G| = 1).
  const full = engine.evaluate([init], true)[0]!;
  const fullGrad = full.grad!.map((g) => g.slice());
  const fullMargins = full.margins.slice();
  const fullLog = { loss: full.logLoss, grad: full.gradLogScale };
  let fMax = 0;
  for (const v of full.logits) fMax = Math.max(fMax, Math.abs(v));
  const reduced = spanned.engine.evaluate([coords.start], true)[0]!;
  assert.ok(Math.abs(reduced.logLoss - fullLog.loss) <= 1e-12 * Math.abs(fullLog.loss));
  reduced.margins.forEach((q, i) => assert.ok(Math.abs(q - fullMargins[i]!) <= 1e-12 * fMax, `margin ${i}`));
  // Each engine scales its gradient to max|G| = 1 over its own coordinates; the gradient is e^s · G.
  const rescale = Math.exp(reduced.gradLogScale - fullLog.grad);
  const lifted = coords.gradToFull(reduced.grad!);
  lifted.forEach((g, l) =>
    g.forEach((v, k) => assert.ok(Math.abs(v * rescale - fullGrad[l]![k]!) <= 1e-12, `∂θ layer ${l} entry ${k}: ${v * rescale} vs ${fullGrad[l]![k]}`)),
  );

  // K = K(0) + Δ is W_1 = W_1(0) + Δ Qᵀ: back in K by W_1 Q, and unchanged on the dark pixels.
  const K = coords.start.map((w) => w.slice());
  K[0]!.forEach((_, k, w) => (w[k]! += Math.sin(k)));
  const W1 = coords.toFull(K)[0]!;
  const live = new Set(span.livePixels);
  const { d, r } = span;
  for (let i = 0; i < 50; i++) {
    for (let j = 0; j < d; j++) if (!live.has(j)) assert.equal(W1[i * d + j], init[0]![i * d + j], `dark pixel ${j}`);
    for (let k = 0; k < r; k++) {
      let back = 0;
      for (let j = 0; j < d; j++) back += W1[i * d + j]! * span.QT[k * d + j]!;
      assert.ok(Math.abs(back - K[0]![i * r + k]!) <= 1e-13 * 50, `(W_1 Q)[${i}, ${k}] ${back} vs K ${K[0]![i * r + k]}`);
    }
  }
  assert.throws(() => spanParametrization(span, [{ out: 50, in: 783 }, shapes[1]!], init), /span is of 784 pixels, the first layer takes 783/);
});

test('which runs take the span: a first-layer rule that commutes with W_1 ↦ W_1 Q (ℓ2, polar), on an engine that offers it', () => {
  const engine = new F64Engine(data, shapes, 'relu');
  const spec = (optimizer: OptimizerName): RunSpec => ({ activation: 'relu', optimizer, beta: 0.9, seed: 0 });
  const takes = (muonLayers: number[] | null, depth = 2) => {
    const c = resolveConfig({ model: { depth }, train: { muon_layers: muonLayers } }, 'rules');
    return OPTIMIZER_NAMES.filter((o) => spanRuleApplies(c, spec(o), depth));
  };
  assert.deepEqual(takes(null), ['ngd', 'muon', 'muon_signum', 'muon_adam']);
  // The first layer not a Muon layer: Muon–Signum and Muon–Adam step it by sign / Adam; Muon stays polar on every layer.
  assert.deepEqual(takes([1]), ['ngd', 'muon']);
  assert.deepEqual(takes([0, 2], 3), ['ngd', 'muon', 'muon_signum', 'muon_adam']);
  assert.deepEqual(takes([], 4), ['ngd', 'muon']);
  assert.equal(firstLayerPath(config, spec('muon'), 2, engine), 'span');
  assert.equal(firstLayerPath(config, spec('adam'), 2, engine), 'full');
  // An engine without the span (TF.js), or data whose span would not pay, trains the first layer as it is.
  const noSpan = { name: 'plain', batchLimit: 1, evaluate: engine.evaluate.bind(engine) };
  assert.equal(firstLayerPath(config, spec('muon'), 2, noSpan), 'full');
  const many = loadDataset({ ...config.data, n_per_class: 60 }); // 600 samples, more than the live pixels
  assert.equal(new F64Engine(many, shapesFor(config.model, many), 'relu').inDataSpan(), null);
});

/** Worst difference between two runs' logs, per column, relative to that column's largest magnitude in the first. */
function worstColumns(a: LogRow[], b: LogRow[]): { column: string; error: number; step: number } {
  assert.equal(a.length, b.length);
  let worst = { column: '', error: 0, step: -1 };
  for (const column of LOG_COLUMNS) {
    const scale = Math.max(...a.map((row) => Math.abs(row[column])).filter(Number.isFinite));
    a.forEach((row, i) => {
      const [x, y] = [row[column], b[i]![column]];
      if (Number.isNaN(x) && Number.isNaN(y)) return;
      const error = x === y ? 0 : Math.abs(x - y) / scale;
      assert.ok(Number.isFinite(error), `${column} at step ${row.step}: ${x} vs ${y}`);
      if (error > worst.error) worst = { column, error, step: row.step };
    });
  }
  return worst;
}

for (const [activation, steps, tolerance, optimizers] of [
  ['sqrelu', 500, 1e-10, ['ngd', 'muon', 'muon_adam']],
  ['relu', 200, 1e-8, ['ngd', 'muon', 'muon_signum']],
] as const) {
  test(`${activation}, ${steps} steps: the run in the data's span and the run as it is agree in every logged column to ${tolerance} (of the column's scale)`, async (t) => {
    const c = resolveConfig({ train: { steps }, log: { n_log: 30 } }, 'span vs full');
    const engine = new F64Engine(data, shapes, activation as Activation);
    for (const optimizer of optimizers) {
      const spec: RunSpec = { activation, optimizer, beta: 0.9, seed: 3 };
      const asIs = await trainOne(c, spec, engine, shapes, init, { firstLayer: 'full' });
      const spanned = await trainOne(c, spec, engine, shapes, init);
      assert.equal(asIs.path, 'full');
      assert.equal(spanned.path, 'span');
      assert.equal(spanned.stepsCompleted, steps);
      const worst = worstColumns(asIs.rows, spanned.rows);
      t.diagnostic(`${optimizer}: largest difference ${worst.error.toExponential(1)} (${worst.column} at step ${worst.step})`);
      assert.ok(worst.error <= tolerance, `${optimizer}: ${worst.column} differs by ${worst.error} at step ${worst.step}`);
      // θ_T is returned (and saved) in full: [50, 784], the dark pixels' weights untouched.
      assert.equal(spanned.finalParams[0]!.length, 50 * 784);
      spanned.finalParams[0]!.forEach((v, k) => {
        if (!data.X.some((_, i) => i % 784 === k % 784 && data.X[i] !== 0)) assert.equal(v, init[0]![k]);
      });
    }
  });
}

test('the summary: engine is the engine, engine_path says where the first layer trained, and the two paths are not two settings', async () => {
  const out = mkdtempSync(join(tmpdir(), 'span-summary-'));
  try {
    const c = resolveConfig({ train: { steps: 20 }, log: { n_log: 4 } }, 'summary');
    const ngd = await executeOne(c, { activation: 'relu', optimizer: 'ngd', beta: 0.9, seed: 0 }, data, out, { saveWeights: true, gitCommit: null });
    const signum = await executeOne(c, { activation: 'relu', optimizer: 'signum', beta: 0.9, seed: 0 }, data, out, { gitCommit: null });
    assert.equal(ngd.engine, 'f64-cpu');
    assert.equal(signum.engine, 'f64-cpu');
    assert.equal(ngd.engine_path, 'span');
    assert.equal(signum.engine_path, 'full');
    assert.deepEqual(differingSettings([runSettings(ngd), runSettings(signum)]).map((d) => d.key), []);
    // --save-weights writes θ, W_1 at its full [50, 784].
    const saved = JSON.parse(readFileSync(join(out, ngd.files.final_weights!), 'utf8')).layers;
    assert.deepEqual([saved[0].length, saved[0][0].length], [50, 784]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

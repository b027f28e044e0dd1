import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { optimizerName } from '../../src/config/types.js';
import { ownNormName } from '../../src/metrics/normTable.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { kktAlignments } from '../../src/metrics/alignment.js';
import { allNorms, NORM_NAMES, resolveMuonLayers } from '../../src/metrics/norms.js';
import { initParams, layerShapes } from '../../src/model/mlp.js';

import { LOG_COLUMNS } from '../../src/results/runs.js';
import { assertClose, engineFor, toyData, toyNet, trainOne } from '../helpers.js';

test('CSV columns: the docs/science.md §8 columns first and in order, the alignment columns appended', async () => {
  assert.deepEqual(LOG_COLUMNS.slice(0, 16), [
    'step', 'lr', 'loss', 'log10_loss', 'train_acc', 'qmin', 'margin_l2', 'margin_linf', 'margin_spectral',
    'margin_hybrid', 'cos_m_g', 'cos_to_last', 'norm_l2', 'norm_linf', 'norm_spectral', 'norm_hybrid',
  ]);
  assert.deepEqual(LOG_COLUMNS.slice(16), ['align_l2', 'align_linf', 'align_spectral', 'align_hybrid', 'angle_prev', 'norm_growth']);
});

test('align_*, angle_prev and norm_growth in a run follow their definitions', async () => {
  const data = toyData(16, 12, 4, 7);
  const { shapes, params } = toyNet('sqrelu', 2, 5);
  const config = resolveConfig({ train: { steps: 60 }, log: { n_log: 10 } }, 'test');
  for (const optimizer of ['muon_adam', 'signum'] as const) {
    const engine = engineFor(data, shapes, 'sqrelu');
    const r = await trainOne(config, { activation: 'sqrelu', optimizer, beta: 0.9, seed: 0 }, engine, shapes, params);
    const isMuon = resolveMuonLayers(null, shapes.length);
    // The last row is θ_T = finalParams: recompute from a fresh evaluation.
    const ev = engine.evaluate([r.finalParams], true)[0]!;
    const expected = kktAlignments(ev.grad, r.finalParams, shapes, isMuon, allNorms(r.finalParams, shapes, isMuon));
    const last = r.rows.at(-1)!;
    for (const n of NORM_NAMES) assert.equal(last[`align_${n}`], expected[n], `align_${n} at T`);
    for (const row of r.rows) for (const n of NORM_NAMES) assert.ok(Math.abs(row[`align_${n}`]) <= 1 + 1e-12, `|align_${n}| ≤ 1 (Hölder)`);
    for (let i = 1; i < r.rows.length; i++) {
      assert.equal(r.rows[i]!.norm_growth, r.rows[i]!.norm_l2 / r.rows[i - 1]!.norm_l2);
    }
    // angle_prev at T is the angle between θ_T and the previous logged θ, whose cosine is that row's cos_to_last.
    assertClose(last.angle_prev, Math.acos(r.rows.at(-2)!.cos_to_last), 1e-6, 'angle_prev at T vs acos(cos_to_last)');
  }
});

test('docs/science.md §9 shrunk (5 digits per class, 200 steps): each alignment column is won by its own family (ReLU, seed 0)', async () => {
  // The full check is scripts/alignment-reference.ts (10 digits per class, 4000 steps). The order
  // already holds here, at ~1/40 of the cost. Measured (β 0.9, own family best vs the others' best):
  // l2 0.77 vs 0.63, linf 0.52 vs 0.09, spectral 0.63 vs 0.58, hybrid 0.65 vs 0.28.
  const config = resolveConfig({ data: { n_per_class: 5 }, train: { steps: 200 }, log: { n_log: 1 } }, 'test');
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: data.d, width: 50, outputDim: data.numClasses, depth: 2 });
  const init = initParams(shapes, config.model.init_scale, 0);
  const final = new Map<string, Record<string, number>>();
  for (const optimizer of config.train.optimizers.map(optimizerName)) {
    const r = await trainOne(config, { activation: 'relu', optimizer, beta: 0.9, seed: 0 }, new F64Engine(data, shapes, 'relu'), shapes, init);
    assert.equal(r.failure, null);
    final.set(optimizer, r.rows.at(-1)!);
  }
  for (const n of NORM_NAMES) {
    const col = [...final].map(([opt, row]) => ({ opt, own: ownNormName(opt) === n, v: row[`align_${n}`]! }));
    const own = Math.max(...col.filter((c) => c.own).map((c) => c.v));
    const others = Math.max(...col.filter((c) => !c.own).map((c) => c.v));
    assert.ok(own > others, `align_${n}: own family ${own.toFixed(3)} should beat the others' ${others.toFixed(3)}: ${JSON.stringify(col)}`);
  }
});

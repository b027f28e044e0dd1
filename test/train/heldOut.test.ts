import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/load.js';
import { loadDataset, loadTestSet } from '../../src/data/dataset.js';
import { readWeights } from '../../src/io/weights.js';
import { marginQuantiles, setMetrics } from '../../src/metrics/generalization.js';
import { loggedNorms } from '../../src/metrics/normTable.js';
import { robustAccuracies } from '../../src/metrics/robust.js';
import { denseForward, homogeneityDegree, shapesFor } from '../../src/model/mlp.js';
import { readRunCsv } from '../../src/results/load.js';
import { LOG_COLUMNS, runFiles, runId, type RunSpec } from '../../src/results/runs.js';
import { parseSummary } from '../../src/results/summary.js';
import { executeRuns } from '../../src/sweep/execute.js';
import { heldOutColumns } from '../../src/train/heldOut.js';
import { assertClose } from '../helpers.js';

// A few seconds: three classes of the embedded digits, a width-8 network, 40 steps, an extra logged norm.
const layer = {
  data: { classes: [0, 1, 2], n_per_class: 6, test: { n_per_class: 5, split: 'test' } },
  model: { width: 8, activations: ['sqrelu'] },
  train: { optimizers: ['signum'], betas: [0.9], steps: 40, seeds: [0] },
  log: { n_log: 5, robust: { linf: [0.05, 0.1], l2: [0.5], steps: 5 }, norms: [{ name: 'frob_max', layers: { all: 'frobenius' } }] },
};
const spec: RunSpec = { activation: 'sqrelu', optimizer: 'signum', beta: 0.9, seed: 0 };

async function runOnce(cfgLayer: unknown) {
  const config = resolveConfig(cfgLayer, 'heldout.yaml');
  const data = loadDataset(config.data);
  const testSet = loadTestSet(config.data, data);
  const dir = mkdtempSync(join(tmpdir(), 'mb-heldout-'));
  const [summary] = await executeRuns(config, [spec], data, dir, { saveWeights: true, gitCommit: null, test: testSet });
  const csv = readRunCsv(join(dir, runFiles(runId(spec)).csv));
  const onDisk = parseSummary(readFileSync(join(dir, runFiles(runId(spec)).json), 'utf8'));
  return { config, data, testSet, dir, summary: summary!, csv, onDisk };
}

test('docs/science.md §13.3: the held-out columns, recomputed from the saved final weights; PGD at the end, in the summary', async () => {
  const { config, data, testSet, dir, summary, csv, onDisk } = await runOnce(layer);
  try {
    assert.equal(summary.status, 'ok');
    assert.ok(onDisk.ok);
    const names = loggedNorms(config, config.model.depth).map((n) => n.name);
    assert.deepEqual(names, ['l2', 'linf', 'spectral', 'hybrid', 'frob_max']);
    // The held-out columns come after every other one, for every logged norm (the extra one too).
    const held = heldOutColumns(names);
    assert.deepEqual(csv.columns.slice(-held.length), held);
    assert.ok(held.includes('test_p10_margin_frob_max') && held.includes('p50_margin_frob_max'));

    const shapes = shapesFor(config.model, data);
    const final = readWeights(join(dir, runFiles(runId(spec)).finalWeights), shapes);
    const last = csv.rows.at(-1)!;
    const degree = homogeneityDegree(spec.activation, config.model.depth);
    // Test accuracy, loss and margins from the weights alone, by the dense forward pass.
    const heldOut = setMetrics(denseForward(final, shapes, spec.activation, testSet!.X, testSet!.n).outputs, testSet!.y, testSet!.numClasses);
    assert.equal(last.test_acc, heldOut.accuracy);
    assertClose(last.test_log10_loss!, heldOut.log10Loss, 1e-10, 'test_log10_loss');
    const q = marginQuantiles(heldOut.margins);
    for (const n of names) {
      const scale = last[`norm_${n}`]! ** degree;
      assertClose(last[`test_margin_${n}`]!, q.min / scale, 1e-10, `test_margin_${n}`);
      assertClose(last[`test_p50_margin_${n}`]!, q.p50 / scale, 1e-10, `test_p50_margin_${n}`);
    }
    // Training-set percentiles: the minimum is margin_<norm>; p1 ≤ p10 ≤ p50 above it.
    const train = marginQuantiles(setMetrics(denseForward(final, shapes, spec.activation, data.X, data.n).outputs, data.y, data.numClasses).margins);
    for (const n of names) {
      const scale = last[`norm_${n}`]! ** degree;
      assertClose(last[`margin_${n}`]!, train.min / scale, 1e-9, `margin_${n}`);
      assertClose(last[`p10_margin_${n}`]!, train.p10 / scale, 1e-9, `p10_margin_${n}`);
      assertClose(last[`p50_margin_${n}`]!, train.p50 / scale, 1e-9, `p50_margin_${n}`);
      assert.ok(last[`margin_${n}`]! <= last[`p1_margin_${n}`]! && last[`p1_margin_${n}`]! <= last[`p10_margin_${n}`]! && last[`p10_margin_${n}`]! <= last[`p50_margin_${n}`]!);
    }

    // The attack: one point per (ball, radius), never above the clean accuracy, reproducible from the weights.
    const robust = summary.robust!;
    assert.deepEqual(robust.points.map((p) => [p.ball, p.radius]), [['linf', 0.05], ['linf', 0.1], ['l2', 0.5]]);
    assert.equal(robust.n, testSet!.n);
    for (const p of robust.points) assert.ok(p.accuracy <= last.test_acc!, `${p.ball}@${p.radius}: ${p.accuracy} > clean ${last.test_acc}`);
    assert.ok(robust.points[1]!.accuracy <= robust.points[0]!.accuracy, 'a larger ℓ∞ radius breaks at least as many samples here');
    const again = robustAccuracies({ params: final, shapes, activation: spec.activation }, testSet!, config.log.robust!, spec.seed);
    assert.deepEqual(again, robust.points);
    assert.deepEqual(summary.data.test, { source: testSet!.source, n: testSet!.n, indices: testSet!.indices });
    // Disjoint from the training digits (the embedded source has no split: drawn from the rest).
    assert.ok(testSet!.indices.every((g) => !data.indices.includes(g)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/science.md §13.3: without data.test, no held-out column, no robust or data.test in the summary', async () => {
  const { data: d, log } = layer;
  const { test: _t, ...dataRest } = d;
  const { robust: _r, ...logRest } = log;
  const { dir, summary, csv } = await runOnce({ ...layer, data: dataRest, log: logRest });
  try {
    assert.deepEqual(csv.columns, [...LOG_COLUMNS, 'margin_frob_max', 'norm_frob_max', 'align_frob_max']);
    assert.equal('robust' in summary, false);
    assert.equal('test' in summary.data, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('log.robust with radii but no data.test is a usage error naming log.robust; no radii is fine', () => {
  const { test: _t, ...dataRest } = layer.data;
  assert.throws(() => resolveConfig({ ...layer, data: dataRest }, 'x.yaml'), (err: Error) => err.name === 'UsageError' && /log\.robust/.test(err.message) && /data\.test/.test(err.message));
  assert.doesNotThrow(() => resolveConfig({ ...layer, data: dataRest, log: { robust: { linf: [], l2: [] } } }, 'x.yaml'));
});

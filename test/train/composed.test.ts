// Composed optimizers end to end (docs/science.md §12): a small sweep of composed optimizers beside
// presets writes margin_<name>, norm_<name>, align_<name> for every run; those recompute from the
// saved weights through the norm table; the tables get a column and a verdict row per composed norm;
// results folders with only the four fixed columns still load; a bad composition exits 2.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/helpers.js';
import { FIXTURE } from '../figures/fixtures.js';
import { resolveConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { readWeights } from '../../src/io/weights.js';
import { optimizerName } from '../../src/config/types.js';
import { extraNorms, loggedNorms } from '../../src/metrics/normTable.js';
import { runHash } from '../../src/results/hash.js';
import { onlySets, parseOnly } from '../../src/sweep/grid.js';
import { layerShapes } from '../../src/model/mlp.js';
import { loadResults, readRunCsv, resultNorms } from '../../src/results/load.js';
import { reportTables } from '../../src/figures/tables.js';
import { coverage } from '../../src/figures/coverage.js';
import { figureDefs } from '../../src/figures/figures.js';
import { runSweep } from '../../src/sweep/sweep.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-composed-'));
after(() => rmSync(root, { recursive: true, force: true }));

const config = resolveConfig(
  {
    name: 'composed',
    data: { n_per_class: 2 },
    model: { depth: 3, width: 8, activations: ['relu'] },
    train: {
      optimizers: [
        'muon',
        { name: 'muon_frob', layers: { hidden: 'spectral', output: 'frobenius' }, rates: { output: 0.5 } },
        { name: 'sum_mix', layers: { input: 'row_l2', 1: { schatten: 3 }, output: 'linf' }, aggregate: 'sum' },
        { name: 'lion_l2', layers: { all: 'frobenius' }, aggregate: 'l2', momentum: 'lion' },
      ],
      betas: [0.9],
      steps: 25,
      seeds: [0, 1],
    },
    log: { n_log: 5, norms: [{ name: 'cols', layers: { all: 'col_l2' }, aggregate: 'l2' }] },
  },
  'composed.test',
);

test('composed optimizers: every run logs every composed norm, recomputed exactly from its saved weights; tables verdict each', async () => {
  const out = join(root, 'sweep');
  const r = await runSweep(config, out, { jobs: 1, progress: false, saveWeights: true });
  assert.ok(r.summaries.every((s) => s.status === 'ok'));
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: data.d, width: 8, outputDim: data.numClasses, depth: 3 });
  const norms = loggedNorms(config, 3);
  assert.deepEqual(norms.map((n) => n.name), ['l2', 'linf', 'spectral', 'hybrid', 'cols', 'lion_l2', 'muon_frob', 'sum_mix']);
  for (const s of r.summaries) {
    assert.equal(s.run.family, s.run.optimizer === 'muon' ? 'spectral' : s.run.optimizer);
    assert.deepEqual(s.logged_norms!.map((n) => n.name), ['cols', 'lion_l2', 'muon_frob', 'sum_mix']);
    const { rows } = readRunCsv(join(out, s.files.csv));
    const last = rows.at(-1)!;
    const theta = readWeights(join(out, s.files.final_weights!), shapes);
    for (const n of norms) {
      const value = n.norm(theta, shapes);
      const rel = Math.abs(value - last[`norm_${n.name}`]!) / value;
      assert.ok(rel < 1e-12, `${s.id} ${n.name}: ${value} vs ${last[`norm_${n.name}`]}`);
      const margin = last.qmin! / value ** s.homogeneity_degree;
      assert.ok(Math.abs(margin - last[`margin_${n.name}`]!) <= 1e-12 * Math.abs(margin), `${s.id} margin_${n.name}`);
      assert.ok(Math.abs(last[`align_${n.name}`]!) <= 1 + 1e-12, `${s.id} align_${n.name} in [−1, 1]`);
    }
  }
  const set = loadResults([out]);
  assert.deepEqual(resultNorms(set.runs).slice(4).map((n) => [n.name, n.definition]), [
    ['cols', '√((‖W_0‖_{1→2})² + (‖W_1‖_{1→2})² + (‖W_2‖_{1→2})²)'],
    ['lion_l2', '√((‖W_0‖_F)² + (‖W_1‖_F)² + (‖W_2‖_F)²)'],
    ['muon_frob', 'max(σ_max(W_0), σ_max(W_1), ‖W_2‖_F/0.5)'],
    ['sum_mix', '‖W_0‖_{2→∞} + ‖W_1‖_S3 + ‖W_2‖_∞'],
  ]);
  const [final] = reportTables(set).final;
  assert.deepEqual(final!.table.norms, ['l2', 'linf', 'spectral', 'hybrid', 'cols', 'lion_l2', 'muon_frob', 'sum_mix']);
  assert.equal(final!.table.paired.muon_frob!.weakest, 'muon_frob');
  assert.equal(final!.table.paired.cols!.status, 'no-family');
  assert.equal(final!.table.paired.linf!.status, 'no-family');
  // The composed figure: a panel per composed optimizer's norm (log.norms' `cols` has no optimizer, so none).
  const fig = figureDefs(set, coverage(set)).figures.find((f) => f.name === 'composed');
  assert.ok(fig, 'a composed figure');
  assert.match(fig.caption, /muon_frob: N\(θ\) = max\(σ_max\(W_0\), σ_max\(W_1\), ‖W_2‖_F\/0\.5\)/);
  assert.doesNotMatch(fig.caption, /cols: N/);
});

test('results folders with only the four fixed columns still load, with the four standard norms', () => {
  const set = loadResults([FIXTURE]);
  assert.deepEqual(resultNorms(set.runs).map((n) => n.name), ['l2', 'linf', 'spectral', 'hybrid']);
  assert.deepEqual(reportTables(set).final[0]!.table.norms, ['l2', 'linf', 'spectral', 'hybrid']);
});

test('a bad composition exits 2 with one line naming the key', async () => {
  const file = join(root, 'bad.yaml');
  writeFileSync(file, 'train:\n  optimizers:\n    - name: half\n      layers: { hidden: spectral }\n');
  const r = await runCli(['run', file, '--out', join(root, 'bad-out')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /bad\.yaml: train\.optimizers\[0\]\.layers: layer 1 has no rule/);
});

test('run --only keeps every run\'s logged norms and hash: the composed optimizers left out are logged as log.norms', () => {
  const spec = { activation: 'relu' as const, optimizer: 'sum_mix', beta: 0.9, seed: 0 };
  const sets = onlySets(config, ['muon', 'sum_mix']);
  const only = resolveConfig(JSON.parse(JSON.stringify(config)), 'composed.test', sets);
  assert.deepEqual(only.train.optimizers.map(optimizerName), ['muon', 'sum_mix']);
  assert.deepEqual(extraNorms(only, 3).map((n) => n.name), extraNorms(config, 3).map((n) => n.name));
  assert.equal(runHash(only, spec), runHash(config, spec));
  assert.equal(runHash(only, { ...spec, optimizer: 'muon' }), runHash(config, { ...spec, optimizer: 'muon' }));
  assert.deepEqual(parseOnly('muon, sum_mix'), ['muon', 'sum_mix']);
});

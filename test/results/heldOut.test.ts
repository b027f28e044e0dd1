import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricTables, rankCorrelations } from '../../src/figures/generalization.js';
import { spearman } from '../../src/report/spearman.js';
import { meanCI } from '../../src/report/stats.js';
import { checkMetrics, hasHeldOut, metricValue, parseMetric, parseMetrics, robustMetrics } from '../../src/results/heldOut.js';
import type { LoadedRun, ResultSet } from '../../src/results/load.js';
import type { RunSummary } from '../../src/results/summary.js';

test('metric names: CSV columns and robust_<ball>@<radius>', () => {
  assert.deepEqual(parseMetric('test_acc'), { kind: 'column', name: 'test_acc', column: 'test_acc' });
  assert.deepEqual(parseMetric(' p10_margin_linf '), { kind: 'column', name: 'p10_margin_linf', column: 'p10_margin_linf' });
  assert.deepEqual(parseMetric('robust_linf@0.05'), { kind: 'robust', name: 'robust_linf@0.05', ball: 'linf', radius: 0.05 });
  assert.deepEqual(parseMetric('robust_l2@1'), { kind: 'robust', name: 'robust_l2@1', ball: 'l2', radius: 1 });
  assert.deepEqual(
    parseMetrics(['test_acc,robust_linf@0.05', 'robust_l2@2']).map((m) => m.name),
    ['test_acc', 'robust_linf@0.05', 'robust_l2@2'],
  );
  const usage = (re: RegExp) => (err: Error) => err.name === 'UsageError' && /^--metric/.test(err.message) && re.test(err.message);
  assert.throws(() => parseMetric('robust_l1@0.1'), usage(/unknown ball "l1"/));
  assert.throws(() => parseMetric('robust_linf@-1'), usage(/not a number > 0/));
  assert.throws(() => parseMetric('robust_linf@abc'), usage(/not a number > 0/));
  assert.throws(() => parseMetric('test acc'), usage(/expected a CSV column/));
  assert.throws(() => parseMetrics(['test_acc,']), usage(/\(empty\)/));
  assert.throws(() => parseMetrics(['test_acc', 'test_acc']), usage(/listed twice/));
});

// Hand-made results: 4 optimizers × 3 seeds, one final row each, and two robust radii.
const OPTS = ['ngd', 'signum', 'adam', 'muon'];
const MARGIN: number[][] = [
  [0.4, 0.1, 0.2, 0.3], // seed 0, by optimizer
  [0.1, 0.4, 0.3, 0.2], // seed 1
  [0.3, 0.2, 0.1, 0.4], // seed 2
];
const ACC: number[][] = [
  [0.9, 0.6, 0.7, 0.8],
  [0.6, 0.9, 0.7, 0.8],
  [0.9, 0.8, 0.6, 0.7],
];
function run(o: number, seed: number, robust = true): LoadedRun {
  const row = { step: 10, log10_loss: -3, margin_l2: MARGIN[seed]![o]!, margin_linf: 1, margin_spectral: 1, margin_hybrid: 1, cos_to_last: 1, test_acc: ACC[seed]![o]! };
  const summary = {
    id: `sqrelu_${OPTS[o]}_b0.9_s${seed}`,
    run: { activation: 'sqrelu', optimizer: OPTS[o]!, beta: 0.9, seed, family: 'l2' },
    data: { source: 'x', n: 1, classes: [0, 1], indices: [0], test: { source: 'x', n: 10, indices: [] } },
    ...(robust
      ? { robust: { set: 'test', n: 10, steps: 5, restarts: 1, seed, time_s: 0, points: [{ ball: 'linf', radius: 0.1, accuracy: ACC[seed]![o]! / 2 }, { ball: 'l2', radius: 1, accuracy: 1 - ACC[seed]![o]! }] } }
      : {}),
  } as unknown as RunSummary;
  return { dir: '.', summary, csvPath: 'x.csv', columns: Object.keys(row), rows: [row], variant: '' };
}
const runs = [0, 1, 2, 3].flatMap((o) => [0, 1, 2].map((s) => run(o, s)));
const set = { runs } as unknown as ResultSet;

test('metric values and what a run lacks', () => {
  assert.equal(metricValue(runs[0]!, parseMetric('test_acc')), 0.9);
  assert.equal(metricValue(runs[0]!, parseMetric('robust_linf@0.1')), 0.45);
  assert.equal(metricValue(runs[0]!, parseMetric('robust_linf@0.2')), undefined);
  assert.equal(metricValue(runs[0]!, parseMetric('test_loss')), undefined);
  assert.deepEqual(robustMetrics(runs).map((m) => m.name), ['robust_linf@0.1', 'robust_l2@1']);
  assert.ok(hasHeldOut(runs));
  assert.throws(() => checkMetrics(runs, [parseMetric('robust_linf@0.2')]), /robust_linf@0\.2: run sqrelu_ngd_b0\.9_s0 has no such value; these runs have robust_linf@0\.1, robust_l2@1/);
  assert.throws(() => checkMetrics([run(0, 0, false)], [parseMetric('robust_l2@1')]), /no robust accuracies/);
  assert.doesNotThrow(() => checkMetrics(runs, parseMetrics(['test_acc,robust_l2@1'])));
});

test('table --metric: mean ± 95% interval over seeds per optimizer', () => {
  const [t] = metricTables(set, parseMetrics(['test_acc,robust_l2@1']));
  assert.deepEqual(t!.rows.map((r) => r.label), OPTS);
  const ngd = t!.rows[0]!.cells;
  assert.deepEqual(ngd[0], meanCI([0.9, 0.6, 0.9]));
  assert.deepEqual(ngd[1], meanCI([1 - 0.9, 1 - 0.6, 1 - 0.9]));
});

test('docs/science.md §13.4 rank correlations of a norm margin with held-out accuracy, per seed over optimizers', () => {
  const cells = rankCorrelations(set);
  const cell = (norm: string, target: string) => cells.find((c) => c.norm === norm && c.target === target)!;
  // Seed by seed, by hand (n = 4, ρ = 1 − 6 Σd² / 60): seed 0 has margins and accuracies in the same order (ρ = 1);
  // seed 1 margin ranks 1, 4, 3, 2 and accuracy ranks 1, 4, 2, 3: Σd² = 2, ρ = 0.8; seed 2 margin ranks
  // 3, 2, 1, 4 and accuracy ranks 4, 3, 1, 2: Σd² = 1 + 1 + 0 + 4 = 6, ρ = 0.4. Mean 2.2 / 3.
  const l2 = cell('l2', 'test_acc').correlation;
  assert.deepEqual(l2.bySeed.map((s) => s.rho).map((r) => Number(r.toFixed(12))), [1, 0.8, 0.4]);
  assert.ok(Math.abs(spearman(MARGIN[2]!, ACC[2]!) - 0.4) < 1e-12);
  assert.ok(Math.abs(l2.mean - 2.2 / 3) < 1e-12);
  // ℓ2 robust accuracy here is 1 − accuracy: ρ flips sign; robust ℓ∞ is accuracy / 2: ρ unchanged.
  assert.ok(Math.abs(cell('l2', 'robust_l2@1').correlation.mean + 2.2 / 3) < 1e-12);
  assert.ok(Math.abs(cell('l2', 'robust_linf@0.1').correlation.mean - 2.2 / 3) < 1e-12);
  // A constant margin (margin_linf = 1 for all) ranks nothing: no seed has a ρ.
  assert.equal(cell('linf', 'test_acc').correlation.n, 0);
  assert.equal(cell('l2', 'test_acc').optimizers, 4);
  // No held-out columns: no cells.
  assert.deepEqual(rankCorrelations({ runs: runs.map((r) => ({ ...r, columns: r.columns.filter((c) => c !== 'test_acc') })) } as unknown as ResultSet), []);
});

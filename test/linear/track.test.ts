import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { OPTIMIZER_NAMES } from '../../src/config/types.js';
import type { Dataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { optimumCached } from '../../src/linear/optima.js';
import { linearNorm } from '../../src/linear/norms.js';
import { cosOptColumn, linearBase, optimumColumns, optimumTargets, ratioColumn } from '../../src/linear/track.js';
import { minMargin } from '../../src/metrics/margins.js';
import { stepSignature } from '../../src/metrics/normTable.js';
import { marginTablesFrom } from '../../src/report/finalTable.js';
import { readWeights } from '../../src/io/weights.js';
import { shapesFor } from '../../src/model/mlp.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { assertClose, executeOne, toyData } from '../helpers.js';

// docs/science.md §14.5: a depth-1 run logs, per logged norm with a solver, the fraction of the
// exact optimum reached and the cosine to the optimal direction.

function readCsv(path: string): { header: string[]; rows: Record<string, number>[] } {
  const [head, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const header = head!.split(',');
  return { header, rows: lines.map((l) => Object.fromEntries(l.split(',').map((v, k) => [header[k]!, Number(v)]))) };
}

const toyDataset = (n: number, d: number, classes: number, seed: number): Dataset => {
  const t = toyData(n, d, classes, seed);
  return { ...t, indices: [...Array(n).keys()], digits: Int32Array.from(t.y), classes: [...Array(classes).keys()], source: 'toy' };
};

test('linearBase: each rule of a one-layer network maps to the linear norm it is; one row makes the rotation-invariant ones ℓ2', () => {
  assert.equal(linearBase('frobenius', 4), 'l2');
  assert.equal(linearBase('adam', 4), 'linf');
  assert.equal(linearBase('spectral', 4), 'spectral');
  assert.equal(linearBase('schatten4', 4), 'schatten4');
  assert.equal(linearBase('row_l2', 4), null);
  assert.equal(linearBase('col_l2', 4), null);
  for (const rule of ['spectral', 'schatten3', 'row_l2']) assert.equal(linearBase(rule, 1), 'l2');
  assert.equal(linearBase('col_l2', 1), 'linf');
  // The claims of one row: σ_max, Schatten-p and the largest row norm of a 1 × d matrix are its ℓ2 norm.
  const w = Float64Array.from([3, -4, 0, 12]);
  for (const name of ['spectral', 'schatten3']) assertClose(linearNorm(name).norm(w, 1, 4), 13, 1e-12, name);
});

test('depth 1, multiclass: every optimizer logs ratio_ and cos_opt_ per norm, ≤ 1, recomputed from the final weights; scaled norms share the ratio', async () => {
  const out = mkdtempSync(join(tmpdir(), 'track-'));
  try {
    const data = toyDataset(12, 10, 3, 7);
    const config = resolveConfig(
      {
        model: { depth: 1 },
        train: {
          optimizers: [...OPTIMIZER_NAMES, { name: 'schatten4', layers: { all: { schatten: 4 } } }, { name: 'half_frob', layers: { all: 'frobenius' }, rates: { all: 0.5 } }, { name: 'rows', layers: { all: 'row_l2' } }],
          betas: [0.9],
          steps: 300,
          lr: { rel: 0.1, decay: 0.5, hybrid_ratio: 0.5 },
        },
        log: { n_log: 6 },
      },
      'track',
    );
    const notes: string[] = [];
    const optima = await optimumTargets(config, data, out, (base) => notes.push(base));
    // One solve per linear norm; rows (row_l2 of a 3-row W) has no solver and no columns.
    assert.deepEqual(notes, ['l2', 'linf', 'spectral', 'schatten4']);
    assert.deepEqual(optima.map((t) => [t.name, t.base]), [['l2', 'l2'], ['linf', 'linf'], ['spectral', 'spectral'], ['hybrid', 'spectral'], ['half_frob', 'l2'], ['schatten4', 'schatten4']]);
    for (const t of optima) assert.ok(t.gap >= -1e-12 && t.gap <= 1e-6 && t.converged, `${t.name}: gap ${t.gap}`);
    // γ* scales with the norm: N_hybrid = ρ·σ_max at depth 1 (rate 1/ρ), N_half_frob = ‖W‖_F/0.5.
    const by = Object.fromEntries(optima.map((t) => [t.name, t]));
    assertClose(by.hybrid!.gamma, by.spectral!.gamma / 0.5, 1e-12, 'γ*_hybrid');
    assertClose(by.half_frob!.gamma, 0.5 * by.l2!.gamma, 1e-12, 'γ*_half_frob');
    // Cached: asked again, nothing is solved.
    const again: string[] = [];
    await optimumTargets(config, data, out, (base) => optimumCached(data, base, out) || again.push(base));
    assert.deepEqual(again, []);

    const shapes = shapesFor(config.model, data);
    for (const optimizer of config.train.optimizers.map((o) => (typeof o === 'string' ? o : o.name))) {
      const spec = { optimizer, beta: 0.9, activation: 'relu' as const, seed: 0 };
      const summary = await executeOne(config, spec, data, out, { optima, saveWeights: true });
      assert.equal(summary.status, 'ok', optimizer);
      assert.deepEqual(summary.optima!.map((o) => o.name), optima.map((t) => t.name));
      const { header, rows } = readCsv(join(out, summary.files.csv));
      assert.deepEqual(header.slice(-optimumColumns(optima).length), optimumColumns(optima), optimizer);
      for (const row of rows) {
        for (const t of optima) {
          assert.ok(row[ratioColumn(t.name)]! <= 1 + 1e-9, `${optimizer} ${t.name} ratio ${row[ratioColumn(t.name)]}`);
          assert.ok(Math.abs(row[cosOptColumn(t.name)]!) <= 1 + 1e-12);
        }
        assertClose(row.ratio_hybrid!, row.ratio_spectral!, 1e-9, `${optimizer} hybrid = spectral`);
        assertClose(row.ratio_half_frob!, row.ratio_l2!, 1e-9, `${optimizer} half_frob = l2`);
        assert.equal(row.cos_opt_hybrid, row.cos_opt_spectral);
      }
      // The last row from the saved weights: γ_N(W_T)/γ*_N and cos∠(W_T, W*).
      const [W] = readWeights(join(out, summary.files.final_weights!), shapes);
      const qmin = minMargin(new F64Engine(data, shapes, 'relu').evaluate([[W!]], false)[0]!.margins);
      const last = rows.at(-1)!;
      for (const t of optima.filter((t) => t.name === t.base)) {
        const n = linearNorm(t.base).norm(W!, 3, 10);
        assertClose(last[ratioColumn(t.name)]!, qmin / n / t.gamma, 1e-6, `${optimizer} ${t.name} ratio from weights`);
        let dot = 0, a = 0, b = 0;
        W!.forEach((v, k) => ((dot += v * t.W[k]!), (a += v * v), (b += t.W[k]! ** 2)));
        assertClose(last[cosOptColumn(t.name)]!, dot / Math.sqrt(a * b), 1e-6, `${optimizer} ${t.name} cos from weights`);
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('depth 1, binary, through the sweep: spectral and Schatten-p are ℓ2 for one row, solved by HiGHS once; log.optimum: false and depth 2 log no optimum', async () => {
  const out = mkdtempSync(join(tmpdir(), 'track-sweep-'));
  try {
    const base = { data: { task: 'parity', n_per_class: 2 }, train: { optimizers: ['ngd', 'muon'], betas: [0.9], steps: 80 }, log: { n_log: 5 } };
    const config = resolveConfig({ ...base, model: { depth: 1 } }, 'binary');
    await runSweep(config, join(out, 'a'), { jobs: 1, progress: false });
    assert.equal(readdirSync(join(out, 'a', 'optima')).length, 2, 'l2 and linf only');
    const summary = JSON.parse(readFileSync(join(out, 'a', 'relu_muon_b0.9_s0.json'), 'utf8'));
    assert.deepEqual(summary.optima.map((o: { name: string; base: string; solver: string }) => [o.name, o.base, o.solver]), [['l2', 'l2', 'highs-qp'], ['linf', 'linf', 'highs-lp'], ['spectral', 'l2', 'highs-qp'], ['hybrid', 'l2', 'highs-qp']]);
    const { header, rows } = readCsv(join(out, 'a', 'relu_muon_b0.9_s0.csv'));
    assert.ok(header.includes('ratio_spectral') && header.includes('cos_opt_linf'));
    assert.ok(rows.every((r) => r.ratio_spectral! <= 1 + 1e-9));

    for (const [name, cfg] of [
      ['off', resolveConfig({ ...base, model: { depth: 1 }, log: { ...base.log, optimum: false } }, 'off')],
      ['deep', resolveConfig({ ...base, model: { depth: 2, width: 8 } }, 'deep')],
    ] as const) {
      await runSweep(cfg, join(out, name), { jobs: 1, progress: false });
      assert.ok(!readdirSync(join(out, name)).includes('optima'), name);
      const h = readFileSync(join(out, name, 'relu_ngd_b0.9_s0.csv'), 'utf8').split('\n')[0]!;
      assert.ok(!/ratio_|cos_opt_/.test(h), `${name}: ${h}`);
      assert.equal(JSON.parse(readFileSync(join(out, name, 'relu_ngd_b0.9_s0.json'), 'utf8')).optima, undefined);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('at depth 1 Muon, Muon-Signum and Muon-Adam take the same steps: never each other\'s rivals, and a tie goes to the family (docs/science.md §10.3)', () => {
  const config = resolveConfig(
    { model: { depth: 1 }, train: { optimizers: [...OPTIMIZER_NAMES, { name: 'frob_max', layers: { all: 'frobenius' }, aggregate: 'max' }], lr: { hybrid_ratio: 0.5 } } },
    'twins',
  );
  const sig = (o: string, depth = 1) => stepSignature(config, o, depth);
  assert.equal(sig('muon'), sig('muon_signum'));
  assert.equal(sig('muon'), sig('muon_adam'));
  assert.equal(sig('ngd'), sig('frob_max'), 'one layer: the aggregation does not matter');
  assert.notEqual(sig('muon'), sig('ngd'));
  // One row (the binary task): spectral, Schatten-p and row_l2 take ngd's step w/‖w‖₂, col_l2 takes signum's.
  const binary = resolveConfig(
    { data: { task: 'parity' }, model: { depth: 1 }, train: { optimizers: ['ngd', 'signum', 'muon', { name: 's4', layers: { all: { schatten: 4 } } }, { name: 'cols', layers: { all: 'col_l2' } }] } },
    'binary',
  );
  const bsig = (o: string) => stepSignature(binary, o, 1);
  assert.equal(bsig('muon'), bsig('ngd'));
  assert.equal(bsig('s4'), bsig('ngd'));
  assert.equal(bsig('cols'), bsig('signum'));
  assert.notEqual(sig('muon'), sig('ngd'), 'ten rows: Muon is not normalized GD');
  const deep = resolveConfig({ model: { depth: 2 } }, 'deep');
  assert.notEqual(stepSignature(deep, 'muon', 2), stepSignature(deep, 'muon_signum', 2));
  assert.equal(stepSignature(deep, 'no_such_optimizer', 2), null);

  // Muon and its twins tie on every norm; ngd is the best optimizer that takes other steps.
  const margins = (o: string, s: number) => (o === 'ngd' ? { l2: 2, linf: 1, spectral: 1, hybrid: 1 } : o === 'signum' ? { l2: 0.5, linf: 3, spectral: 0.3, hybrid: 0.3 } : { l2: 1, linf: 0.5, spectral: 2 + 0.01 * s, hybrid: 2 + 0.01 * s });
  const samples = ['ngd', 'signum', 'muon', 'muon_signum', 'muon_adam'].flatMap((o) =>
    [0, 1, 2].map((seed) => ({ activation: 'relu' as const, optimizer: o, beta: 0.9, seed, margins: margins(o, seed), steps: sig(o) })),
  );
  const [t] = marginTablesFrom(samples);
  assert.equal(t!.paired.spectral.rival, 'ngd');
  assert.equal(t!.paired.hybrid.rival, 'ngd');
  assert.equal(t!.paired.spectral.status, 'holds');
  assert.equal(t!.paired.hybrid.status, 'holds');
  assert.deepEqual([t!.winners.hybrid.row, t!.winners.hybrid.ownFamily], ['muon_signum', true]);
  // ℓ2's rival is still the best of the others (Muon, not a twin of ngd).
  assert.equal(t!.paired.l2.rival, 'muon');
  // Without signatures (older folders) nothing changes: the twin is the rival, and the verdict is a tie.
  const [old] = marginTablesFrom(samples.map(({ steps: _, ...s }) => s));
  assert.equal(old!.paired.hybrid.status, 'inconclusive');
});

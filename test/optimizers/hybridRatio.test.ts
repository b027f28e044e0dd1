import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { resolveConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { readWeights } from '../../src/io/weights.js';
import { dualNormOf, normOf } from '../../src/metrics/norms.js';
import { shapesFor, type LayerShape, type Params } from '../../src/model/mlp.js';
import { Optimizer } from '../../src/optimizers/registry.js';
import { runHash } from '../../src/results/hash.js';
import { Rng } from '../../src/rng.js';
import { assertClose, denseForward, executeOne } from '../helpers.js';

// docs/science.md §11.1: muon_signum / muon_adam with base rate ρ·η_0 on the non-Muon layers, and
// the weighted hybrid norm N_ρ(θ) = max{ρ · max_{Muon l} σ_max(W_l), max_{other l} max|W_l|}.

const shapes: LayerShape[] = [
  { out: 6, in: 11 },
  { out: 5, in: 6 },
  { out: 1, in: 5 },
];
const isMuon = [true, true, false];
const dot = (a: Params, b: Params) => a.reduce((s, w, l) => s + w.reduce((t, v, k) => t + v * b[l]![k]!, 0), 0);

/** σ_max by ml-matrix's SVD: an oracle independent of the code's Gram route. */
const sigmaMax = (w: Float64Array, r: number, c: number) => new SingularValueDecomposition(new Matrix(Array.from({ length: r }, (_, i) => Array.from(w.subarray(i * c, (i + 1) * c))))).diagonal[0]!;
/** N_ρ straight from its definition. */
const nRho = (p: Params, sh: LayerShape[], muon: boolean[], rho: number) =>
  Math.max(...p.map((w, l) => (muon[l] ? rho * sigmaMax(w, sh[l]!.out, sh[l]!.in) : Math.max(...w.map(Math.abs)))));

for (const name of ['muon_signum', 'muon_adam'] as const) {
  for (const rho of [0.1, 1, 7]) {
    test(`docs/science.md §11.1: ${name} with ρ = ${rho} steps η on Muon layers, ρη on the others: a unit step of N_ρ along its steepest-descent direction`, () => {
      const rng = new Rng(11);
      for (let trial = 0; trial < 4; trial++) {
        const m = shapes.map((s) => Float64Array.from({ length: s.out * s.in }, () => 10 ** (trial - 2) * rng.normal()));
        const max = Math.max(...m.map((w) => Math.max(...w.map(Math.abs))));
        const G = m.map((w) => w.map((v) => v / max));
        // β = 0 (and β2 = 0): the buffer is m itself, and Adam's m̂/√v̂ is sign(m).
        const D = new Optimizer({ name, beta: 0, beta2: 0, polar: 'exact', isMuon, shapes, hybridRatio: rho }).step(G, Math.log(max)).direction;
        const plain = new Optimizer({ name, beta: 0, beta2: 0, polar: 'exact', isMuon, shapes }).step(G, Math.log(max)).direction;
        D.forEach((w, l) => w.forEach((x, k) => assertClose(x, (isMuon[l] ? 1 : rho) * plain[l]![k]!, 1e-15, `layer ${l}`)));
        // The combined step η·D = ρη · (D/ρ), and D/ρ is N_ρ's unit steepest-descent step.
        const unit = D.map((w) => w.map((x) => x / rho));
        assertClose(normOf('hybrid', unit, shapes, isMuon, undefined, rho), 1, 1e-12, 'N_ρ(D/ρ)');
        assertClose(nRho(unit, shapes, isMuon, rho), 1, 1e-12, 'N_ρ(D/ρ) by definition');
        assertClose(dot(m, unit), dualNormOf('hybrid', m, shapes, isMuon, rho), 1e-10, '⟨m, D/ρ⟩ vs N_ρ*(m)');
      }
    });
  }
}

test('docs/science.md §11.1: other optimizers ignore ρ', () => {
  const rng = new Rng(2);
  const G = shapes.map((s) => Float64Array.from({ length: s.out * s.in }, () => rng.uniform() - 0.5));
  for (const name of ['ngd', 'signum', 'adam', 'muon'] as const) {
    const a = new Optimizer({ name, beta: 0, beta2: 0, polar: 'exact', isMuon, shapes, hybridRatio: 5 }).step(G, 0).direction;
    const b = new Optimizer({ name, beta: 0, beta2: 0, polar: 'exact', isMuon, shapes }).step(G, 0).direction;
    assert.deepEqual(a, b, name);
  }
});

test('docs/science.md §11.1: N_ρ margins and first step recomputed from saved weights (muon_signum, ρ = 2.5, parity)', async () => {
  const rho = 2.5;
  const dir = mkdtempSync(join(tmpdir(), 'mb-rho-'));
  try {
    const file = { data: { task: 'parity', classes: [0, 1, 2, 3], n_per_class: 3 }, model: { width: 7 }, train: { lr: { hybrid_ratio: rho } } };
    const spec = { activation: 'sqrelu' as const, optimizer: 'muon_signum' as const, beta: 0, seed: 4 };
    const data = loadDataset(resolveConfig(file, 'test').data);
    const sh = shapesFor({ width: 7, depth: 2 }, data);
    const muon = [true, false];

    // One update: the Muon layer moves by η_0 U Vᵀ (σ_max of the move = η_0), the output row by ρ η_0 sign(·).
    const one = resolveConfig({ ...file, train: { ...file.train, steps: 1 } }, 'test');
    const s1 = await executeOne(one, spec, data, join(dir, 'one'), { saveWeights: true });
    const [w0, w1] = [readWeights(join(dir, 'one', s1.files.init_weights!), sh), readWeights(join(dir, 'one', s1.files.final_weights!), sh)];
    const eta0 = s1.eta0!;
    assertClose(s1.own_norm_init!, nRho(w0, sh, muon, rho) / rho, 1e-12, 'own norm of θ_0: N_ρ/ρ');
    assertClose(eta0, 0.1 * nRho(w0, sh, muon, rho) / rho, 1e-12, 'η_0 = rel · N_ρ(θ_0)/ρ');
    const move = w1.map((w, l) => w.map((x, k) => x - w0[l]![k]!));
    assertClose(sigmaMax(move[0]!, sh[0]!.out, sh[0]!.in), eta0, 1e-10, 'Muon layer: σ_max of the step');
    // sign(g) per entry: ±ρ η_0, or 0 for a hidden unit no sample activates.
    for (const x of move[1]!) if (x !== 0) assertClose(Math.abs(x), rho * eta0, 1e-10, 'output row: ρ η_0 per entry');
    assert.ok(move[1]!.filter((x) => x !== 0).length >= 3, 'most output entries move');
    assertClose(nRho(move, sh, muon, rho), rho * eta0, 1e-10, 'N_ρ of the step');

    // A longer run: margin_hybrid and norm_hybrid of its last row are N_ρ's, recomputed from θ_T.
    const long = resolveConfig({ ...file, train: { ...file.train, steps: 60 } }, 'test');
    const s = await executeOne(long, spec, data, join(dir, 'long'), { saveWeights: true });
    const wT = readWeights(join(dir, 'long', s.files.final_weights!), sh);
    const out = denseForward(wT, sh, data.X, data.n, 'sqrelu');
    const qmin = Math.min(...out.map((f, i) => data.y[i]! * f[0]!));
    const N = nRho(wT, sh, muon, rho);
    assertClose(s.final!.norm_hybrid!, N, 1e-10, 'norm_hybrid = N_ρ(θ_T)');
    assertClose(s.final!.margin_hybrid!, qmin / N ** 3, 1e-8, 'margin_hybrid = q_min / N_ρ^3');
    assert.ok(Math.abs(N - nRho(wT, sh, muon, 1)) > 1e-3 * N, 'ρ changes the norm here');
    assert.equal(s.config.train.lr.hybrid_ratio, rho, 'the summary records ρ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ρ = 1 leaves the run hash as it was; another ρ changes it', () => {
  const spec = { activation: 'relu' as const, optimizer: 'muon_adam' as const, beta: 0.9, seed: 0 };
  // runHash of the defaults before ρ existed (this commit's parent).
  assert.equal(runHash(resolveConfig({}, 'test'), spec), 'c4ab96c9ddab537ae3afeb2d8e54ff384cee64543ce85e54527a196919625da2');
  assert.equal(runHash(resolveConfig({ train: { lr: { hybrid_ratio: 1 } } }, 'test'), spec), runHash(resolveConfig({}, 'test'), spec));
  assert.notEqual(runHash(resolveConfig({ train: { lr: { hybrid_ratio: 2 } } }, 'test'), spec), runHash(resolveConfig({}, 'test'), spec));
  assert.throws(() => resolveConfig({ train: { lr: { hybrid_ratio: 0 } } }, 'x.yaml'), /x\.yaml: train\.lr\.hybrid_ratio: expected number to be >0/);
});

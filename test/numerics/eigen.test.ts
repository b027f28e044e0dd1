import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { resolveConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { initParams, shapesFor } from '../../src/model/mlp.js';
import { SymmetricEigenSolver } from '../../src/numerics/eigen.js';
import { GramWorkspace } from '../../src/numerics/linalg.js';
import { Optimizer } from '../../src/optimizers/registry.js';

/** A small deterministic generator (LCG), so every case is reproducible. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Q diag(λ) Qᵀ with Q a product of random reflections (orthogonal to rounding). */
function withSpectrum(lambda: number[], seed: number): Float64Array {
  const n = lambda.length;
  const rnd = lcg(seed);
  const Q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Q[i * n + i] = 1;
  for (let r = 0; r < 3; r++) {
    const u = Array.from({ length: n }, rnd);
    const uu = u.reduce((s, v) => s + v * v, 0);
    // Q ← Q (I − 2 u uᵀ / uᵀu)
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += Q[i * n + k]! * u[k]!;
      for (let k = 0; k < n; k++) Q[i * n + k]! -= (2 * dot * u[k]!) / uu;
    }
  }
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Q[i * n + k]! * lambda[k]! * Q[j * n + k]!;
      S[i * n + j] = s;
      S[j * n + i] = s;
    }
  return S;
}

/** A Aᵀ for a random A [k, c]: rank min(k, c), the polar factor's Gram matrices. */
function gram(k: number, c: number, seed: number): Float64Array {
  const rnd = lcg(seed);
  const A = Float64Array.from({ length: k * c }, rnd);
  const G = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let q = 0; q < c; q++) s += A[i * c + q]! * A[j * c + q]!;
      G[i * k + j] = s;
    }
  return G;
}

function library(S: Float64Array, n: number): { values: number[]; V: Matrix } {
  const M = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M.set(i, j, S[i * n + j]!);
  const evd = new EigenvalueDecomposition(M, { assumeSymmetric: true });
  return { values: evd.realEigenvalues, V: evd.eigenvectorMatrix };
}

const CASES: { name: string; n: number; S: Float64Array }[] = [
  { name: '1 × 1', n: 1, S: Float64Array.of(-3.5) },
  { name: '2 × 2', n: 2, S: Float64Array.of(2, 1, 1, 2) },
  { name: 'zero 4 × 4', n: 4, S: new Float64Array(16) },
  { name: 'diagonal', n: 5, S: withSpectrum([5, 1, 4, 2, 3], 0).map((_, k) => (k % 6 === 0 ? 5 - k / 6 : 0)) },
  { name: 'Gram 50 × 50 of 50 × 100 (full rank)', n: 50, S: gram(50, 100, 1) },
  { name: 'Gram 50 × 50 of 50 × 30 (rank 30)', n: 50, S: gram(50, 30, 2) },
  { name: 'Gram 17 × 17 of 17 × 40', n: 17, S: gram(17, 40, 3) },
  { name: 'ill-conditioned (λ from 1 down to 1e-16)', n: 30, S: withSpectrum(Array.from({ length: 30 }, (_, i) => 10 ** (-16 * (i / 29))), 4) },
  { name: 'near-degenerate cluster (gaps 1e-12)', n: 24, S: withSpectrum(Array.from({ length: 24 }, (_, i) => 1 + 1e-12 * i), 5) },
  { name: 'exactly repeated eigenvalues', n: 12, S: withSpectrum([3, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0], 6) },
  { name: 'indefinite', n: 20, S: withSpectrum(Array.from({ length: 20 }, (_, i) => i - 9.5), 7) },
  { name: 'odd size, rank 3 of 9', n: 9, S: gram(9, 3, 8) },
  { name: 'ill-conditioned and clustered (1, 1 + 1e-13, 1e-8, 1e-8 (1 + 1e-12), 1e-15, 0)', n: 6, S: withSpectrum([1, 1 + 1e-13, 1e-8, 1e-8 * (1 + 1e-12), 1e-15, 0], 9) },
];

test('own symmetric eigensolver: the same eigenvalues and eigenvectors as ml-matrix, bit for bit', () => {
  for (const { name, n, S } of CASES) {
    const ref = library(S, n);
    const solver = new SymmetricEigenSolver(n);
    solver.solve(S);
    const V = solver.vectorsAsColumns();
    assert.deepEqual(Array.from(solver.values), ref.values, `${name}: eigenvalues`);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.equal(V[i * n + j], ref.V.get(i, j), `${name}: V[${i}, ${j}]`);
  }
});

test('own symmetric eigensolver: S v = λ v to 1e-13 λ_max, V orthogonal to 1e-13, values ascending', () => {
  for (const { name, n, S } of CASES) {
    const solver = new SymmetricEigenSolver(n);
    solver.solve(S);
    const { values, vectorRows: Z } = solver;
    const scale = Math.max(...Array.from(values, Math.abs)) || 1;
    for (let e = 1; e < n; e++) assert.ok(values[e]! >= values[e - 1]!, `${name}: ascending`);
    for (let e = 0; e < n; e++) {
      for (let i = 0; i < n; i++) {
        let sv = 0;
        for (let k = 0; k < n; k++) sv += S[i * n + k]! * Z[e * n + k]!;
        const residual = Math.abs(sv - values[e]! * Z[e * n + i]!);
        assert.ok(residual <= 1e-13 * scale, `${name}: residual ${residual} of eigenpair ${e}`);
      }
      for (let f = 0; f < n; f++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += Z[e * n + k]! * Z[f * n + k]!;
        assert.ok(Math.abs(dot - (e === f ? 1 : 0)) <= 1e-13, `${name}: v${e}·v${f} = ${dot}`);
      }
    }
  }
});

test('own symmetric eigensolver: reusable, and a second solve does not depend on the first', () => {
  const solver = new SymmetricEigenSolver(50);
  const a = gram(50, 100, 11);
  const b = gram(50, 30, 12);
  solver.solve(a);
  solver.solve(b);
  const afterA = Array.from(solver.values);
  const fresh = new SymmetricEigenSolver(50);
  fresh.solve(b);
  assert.deepEqual(afterA, Array.from(fresh.values));
  assert.throws(() => solver.solve(new Float64Array(10)), /expected 2500 entries, got 10/);
  assert.throws(() => new SymmetricEigenSolver(0), /positive integer/);
});

/**
 * The polar factor's Gram matrices as training meets them (src/optimizers/polar.ts): the momentum of
 * W_1 in a Muon run, its live part scaled to max|entry| = 1, times its transpose. Both paths of
 * the first layer: W_1 itself [50, 784] and its data-span coordinates [50, 100].
 */
function capturedGrams(activation: 'relu' | 'sqrelu', firstLayerInSpan: boolean, steps: number, every: number): Float64Array[] {
  const config = resolveConfig({}, 'captured Gram matrices');
  const data = loadDataset(config.data);
  const fullShapes = shapesFor(config.model, data);
  const init = initParams(fullShapes, config.model.init_scale, 5);
  const full = new F64Engine(data, fullShapes, activation);
  const spanned = firstLayerInSpan ? full.inDataSpan()! : null;
  const engine = spanned?.engine ?? full;
  const shapes = spanned ? [{ out: 50, in: spanned.span.r }, fullShapes[1]!] : fullShapes;
  const params = init.map((w) => w.slice());
  if (spanned) {
    // K(0) = W_1(0) Q
    const { QT, r, d } = spanned.span;
    params[0] = new Float64Array(50 * r);
    for (let i = 0; i < 50; i++) for (let k = 0; k < r; k++) for (let j = 0; j < d; j++) params[0][i * r + k]! += init[0]![i * d + j]! * QT[k * d + j]!;
  }
  const optimizer = new Optimizer({ name: 'muon', beta: 0.9, beta2: 0.95, polar: 'exact', isMuon: [true, false], shapes });
  const workspace = new GramWorkspace([shapes[0]!]);
  const grams: Float64Array[] = [];
  const c = shapes[0]!.in;
  for (let t = 0; t < steps; t++) {
    const ev = engine.evaluate([params], true)[0]!;
    optimizer.step(ev.grad!, ev.gradLogScale);
    if (t % every === 0) {
      const M = optimizer.momentum.values[0]!;
      const cols = Array.from({ length: c }, (_, j) => j).filter((j) => {
        for (let i = 0; i < 50; i++) if (M[i * c + j] !== 0) return true;
        return false;
      });
      const top = M.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const live = new Float64Array(50 * cols.length);
      for (let i = 0; i < 50; i++) cols.forEach((j, b) => (live[i * cols.length + b] = M[i * c + j]! / top));
      grams.push(workspace.gramOfRows(live, 50, cols.length));
    }
    optimizer.descend(params, 0.02 / (t + 1) ** 0.75);
  }
  return grams;
}

/** The polar factor's route from a spectrum (src/optimizers/polar.ts: GRAM_TRUSTED 1e-10, GRAM_NOISE 1e-13 of λ_max). */
const route = (values: ArrayLike<number>) => {
  const top = Math.max(...Array.from(values));
  return Array.from(values).every((v) => v >= 1e-10 * top || v <= 1e-13 * top) ? 'gram' : 'svd';
};

test('own symmetric eigensolver on Gram matrices captured from Muon runs: ml-matrix\'s results bit for bit, so the same polar-factor routes', () => {
  const solver = new SymmetricEigenSolver(50);
  let compared = 0;
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const inSpan of [false, true]) {
      for (const G of capturedGrams(activation, inSpan, 150, 5)) {
        const ref = library(G, 50);
        solver.solve(G);
        const V = solver.vectorsAsColumns();
        assert.deepEqual(Array.from(solver.values), ref.values, `${activation}${inSpan ? ', span' : ''}: eigenvalues`);
        for (let i = 0; i < 50; i++) for (let j = 0; j < 50; j++) assert.equal(V[i * 50 + j], ref.V.get(i, j));
        assert.equal(route(solver.values), route(ref.values));
        compared++;
      }
    }
  }
  assert.equal(compared, 120);
});

test('own symmetric eigensolver: a NaN in the input ends (NaN out), and the solver is whole afterwards', () => {
  const solver = new SymmetricEigenSolver(7);
  const S = gram(7, 9, 21);
  S[1 * 7 + 3] = Number.NaN;
  S[3 * 7 + 1] = Number.NaN;
  solver.solve(S);
  assert.ok(Array.from(solver.values).some(Number.isNaN));
  const clean = gram(7, 9, 22);
  solver.solve(clean);
  assert.deepEqual(Array.from(solver.values), library(clean, 7).values);
});

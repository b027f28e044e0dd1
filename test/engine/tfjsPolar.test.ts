import assert from 'node:assert/strict';
import test from 'node:test';
import { trainOne, withSpectrum } from '../helpers.js';
import { loadBackend } from '../../src/engine/tfjs/backends.js';
import { devicePolarFactor } from '../../src/engine/tfjs/polar.js';
import { polarFactorExact, polarFactorNewtonSchulz } from '../../src/optimizers/polar.js';
import { Rng } from '../../src/rng.js';

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k]!)), 0);

test('docs/science.md §6: the device polar (quintic, cubic, then rounding Newton–Schulz steps, float32) gives U Vᵀ, unlike 5 quintic steps', async () => {
  const { tf } = await loadBackend('wasm');
  const rng = new Rng(3);
  const before = tf.memory().numTensors;
  // Well conditioned (σ in [0.05, 1]), rank deficient with a gap (σ ≥ 1e-3, then exact zeros) at a
  // scale float32 could not hold, and slow directions (σ down to 1e-4 σ_max) that a stop-when-the-
  // change-grows rule leaves half stepped; wide and tall.
  const cases = [
    { r: 60, c: 140, s: Array.from({ length: 60 }, (_, e) => 0.05 + (0.95 * e) / 59), scale: 1, tol: 1e-5 },
    { r: 150, c: 70, s: Array.from({ length: 40 }, (_, e) => 10 ** (-3 * (e / 39))), scale: 1e-60, tol: 1e-4 },
    { r: 40, c: 90, s: Array.from({ length: 30 }, (_, e) => 10 ** (-4 * (e / 29))), scale: 1, tol: 2e-4 },
  ];
  for (const { r, c, s, scale, tol } of cases) {
    const M = withSpectrum(rng, r, c, s).map((v) => v * scale);
    const exact = polarFactorExact(M, r, c).Q;
    const Q = devicePolarFactor(tf, M, r, c);
    // Float32 rounding of M's direction of singular value σ moves U Vᵀ by ~6e-8 · σ_max/σ.
    const quintic = polarFactorNewtonSchulz(M, r, c);
    assert.ok(maxDiff(quintic, exact) > 1e-2, 'Muon\'s 5 quintic steps alone are not U Vᵀ');
    assert.ok(maxDiff(Q, exact) < tol, `${r}x${c}: max|ΔQ| ${maxDiff(Q, exact)}`);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
});

test('the device polar drops what float32 cannot resolve: singular values far below the cut get no step, as the exact route drops its zeros', async () => {
  const { tf } = await loadBackend('wasm');
  const rng = new Rng(5);
  const [r, c] = [30, 80];
  // 20 singular values in [0.1, 1], then 5 at 1e-9 σ_max: the exact route steps those (its cutoff is 1e-10), the device cannot see them.
  const big = Array.from({ length: 20 }, (_, e) => 0.1 + (0.9 * e) / 19);
  const M = withSpectrum(rng, r, c, [...big, 1e-9, 1e-9, 1e-9, 1e-9, 1e-9]);
  const Q = devicePolarFactor(tf, M, r, c);
  const kept = polarFactorExact(withSpectrum(new Rng(5), r, c, [...big, 0, 0, 0, 0, 0]), r, c).Q; // the same directions, the tiny ones 0
  assert.ok(maxDiff(Q, kept) < 1e-5, `max|ΔQ| against the polar factor of the top 20 directions: ${maxDiff(Q, kept)}`);
  // Its singular values are 1 (20 of them) and 0: Q Qᵀ is a projector of rank 20.
  let trace = 0;
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) trace += Q[i * c + j]! ** 2;
  assert.ok(Math.abs(trace - 20) < 1e-4, `‖Q‖_F² = ${trace}, expected 20`);
});

test('tfjs-wasm: a Muon run of width 64 (every layer\'s polar factor on the device) tracks the float64 engine (exact polar)', async () => {
  const { loadEngineFactory, F64_FACTORY } = await import('../../src/engine/create.js');
  const { DEFAULTS } = await import('../../src/config/defaults.js');
  const { loadDataset } = await import('../../src/data/dataset.js');
  const { initParams, layerShapes } = await import('../../src/model/mlp.js');
  const tfjs = await loadEngineFactory({ engine: 'tfjs', backend: 'wasm' });
  const config = { ...DEFAULTS, model: { ...DEFAULTS.model, width: 64 }, train: { ...DEFAULTS.train, steps: 20 }, log: { n_log: 3 } };
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: 784, width: 64, outputDim: 10, depth: 2 });
  const init = initParams(shapes, 0.3, 0);
  const spec = { activation: 'sqrelu' as const, optimizer: 'muon' as const, beta: 0.9, seed: 0 };
  const engine = tfjs.create(data, shapes, 'sqrelu');
  const got = await trainOne(config, spec, engine, shapes, init);
  engine.dispose?.();
  const want = await trainOne(config, spec, F64_FACTORY.create(data, shapes, 'sqrelu'), shapes, init);
  const a = want.rows[want.rows.length - 1]!;
  const b = got.rows[got.rows.length - 1]!;
  for (const key of ['qmin', 'norm_spectral', 'norm_l2', 'log10_loss'] as const) {
    assert.ok(Math.abs(b[key] - a[key]) < 1e-4 * Math.abs(a[key]), `${key}: ${b[key]} vs ${a[key]}`);
  }
});

import assert from 'node:assert/strict';
import test from 'node:test';
import { trainOne } from '../helpers.js';
import { loadBackend } from '../../src/engine/tfjs/backends.js';
import { devicePolarFactor } from '../../src/engine/tfjs/polar.js';
import { polarFactorExact, polarFactorNewtonSchulz } from '../../src/optimizers/polar.js';
import { Rng } from '../../src/rng.js';

/** M = U diag(s) Vᵀ with random orthonormal U [r, k], V [c, k] (Gram–Schmidt in float64). */
function withSpectrum(rng: Rng, r: number, c: number, s: number[]): Float64Array {
  const orthonormal = (n: number) => {
    const cols: Float64Array[] = [];
    for (let e = 0; e < s.length; e++) {
      const v = Float64Array.from({ length: n }, () => rng.normal());
      for (let pass = 0; pass < 2; pass++) {
        for (const u of cols) {
          const dot = v.reduce((acc, x, i) => acc + x * u[i]!, 0);
          for (let i = 0; i < n; i++) v[i]! -= dot * u[i]!;
        }
      }
      const norm = Math.hypot(...v);
      cols.push(v.map((x) => x / norm));
    }
    return cols;
  };
  const U = orthonormal(r);
  const V = orthonormal(c);
  const M = new Float64Array(r * c);
  s.forEach((sigma, e) => {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) M[i * c + j]! += sigma * U[e]![i]! * V[e]![j]!;
  });
  return M;
}

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k]!)), 0);

test('docs/science.md §6: the device polar (quintic then cubic Newton–Schulz, float32) converges to U Vᵀ, unlike 5 quintic steps', async () => {
  const { tf } = await loadBackend('wasm');
  const rng = new Rng(3);
  const before = tf.memory().numTensors;
  // Well conditioned (σ in [0.05, 1]) and rank deficient with a gap (σ ≥ 1e-3, then exact zeros),
  // wide and tall, at a scale float32 could not hold.
  const cases = [
    { r: 60, c: 140, s: Array.from({ length: 60 }, (_, e) => 0.05 + (0.95 * e) / 59), scale: 1, tol: 1e-5 },
    { r: 150, c: 70, s: Array.from({ length: 40 }, (_, e) => 10 ** (-3 * (e / 39))), scale: 1e-60, tol: 1e-4 },
  ];
  for (const { r, c, s, scale, tol } of cases) {
    const M = withSpectrum(rng, r, c, s).map((v) => v * scale);
    const exact = polarFactorExact(M, r, c).Q;
    const { Q, cubicSteps } = devicePolarFactor(tf, M, r, c);
    // Float32 rounding of M's direction of singular value σ moves U Vᵀ by ~6e-8 · σ_max/σ: ~1e-6
    // for the first case, up to ~6e-5 along σ = 1e-3 σ_max in the second (measured: see below).
    const quintic = polarFactorNewtonSchulz(M, r, c);
    assert.ok(maxDiff(quintic, exact) > 1e-2, 'Muon\'s 5 quintic steps alone are not U Vᵀ');
    assert.ok(maxDiff(Q, exact) < tol, `${r}x${c}: max|ΔQ| ${maxDiff(Q, exact)} after ${cubicSteps} cubic steps`);
    assert.ok(cubicSteps >= 1);
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
});

test('the TF.js engine hands a large layer to the device polar only when built with devicePolar (not on the cpu backend)', async () => {
  const runtime = await loadBackend('wasm');
  const { TfjsEngine } = await import('../../src/engine/tfjs/engine.js');
  const data = { X: new Float64Array(4 * 300).fill(0.5), y: Int32Array.from([0, 1, 0, 1]), n: 4, d: 300, numClasses: 2 };
  const shapes = [{ out: 256, in: 300 }, { out: 2, in: 256 }];
  const M = Float64Array.from({ length: 256 * 300 }, (_, k) => Math.sin(k * 12.9898) * 43758.5453 % 1);
  const cpuSide = new TfjsEngine(runtime, data, shapes, 'relu');
  assert.equal(cpuSide.polarFactor(M, 256, 300), null);
  cpuSide.dispose();
  const before = runtime.tf.memory().numTensors;
  const gpuSide = new TfjsEngine(runtime, data, shapes, 'relu', { devicePolar: true });
  assert.equal(gpuSide.polarFactor(M.subarray(0, 50 * 300), 50, 300), null, 'a small layer stays on the host');
  const Q = gpuSide.polarFactor(M, 256, 300)!;
  assert.ok(maxDiff(Q, polarFactorExact(M, 256, 300).Q) < 1e-4);
  gpuSide.dispose();
  assert.equal(runtime.tf.memory().numTensors, before);
});

test('tfjs-wasm: a Muon run whose W_1 [256, 784] takes the device polar tracks the float64 engine (exact polar)', async () => {
  const { loadEngineFactory, F64_FACTORY } = await import('../../src/engine/create.js');
  const { DEFAULTS } = await import('../../src/config/defaults.js');
  const { loadDataset } = await import('../../src/data/dataset.js');
  const { initParams, layerShapes } = await import('../../src/model/mlp.js');
    const tfjs = await loadEngineFactory({ engine: 'tfjs', backend: 'wasm' });
  const config = { ...DEFAULTS, model: { ...DEFAULTS.model, width: 256 }, train: { ...DEFAULTS.train, steps: 6 }, log: { n_log: 3 } };
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: 784, width: 256, outputDim: 10, depth: 2 });
  const init = initParams(shapes, 0.3, 0);
  const spec = { activation: 'relu' as const, optimizer: 'muon' as const, beta: 0.9, seed: 0 };
  const engine = tfjs.create(data, shapes, 'relu');
  let deviceCalls = 0;
  const polar = engine.polarFactor!.bind(engine);
  engine.polarFactor = (M, r, c) => {
    const Q = polar(M, r, c);
    if (Q) deviceCalls++;
    return Q;
  };
  const got = await trainOne(config, spec, engine, shapes, init);
  engine.dispose?.();
  const want = await trainOne(config, spec, F64_FACTORY.create(data, shapes, 'relu'), shapes, init);
  assert.equal(deviceCalls, 7, 'W_1 on the device at every step (6 updates + the last buffer)');
  const a = want.rows[want.rows.length - 1]!;
  const b = got.rows[got.rows.length - 1]!;
  for (const key of ['qmin', 'norm_spectral', 'log10_loss'] as const) {
    assert.ok(Math.abs(b[key] - a[key]) < 1e-4 * Math.abs(a[key]), `${key}: ${b[key]} vs ${a[key]}`);
  }
});

#!/usr/bin/env node
// Accuracy and speed of the TF.js device polar factor (src/engine/tfjs/polar.ts: quintic then cubic
// Newton–Schulz in float32) against the exact host route (polarFactorExact, float64), on Gaussian
// matrices and on the real momentum of W_1 along a Muon run (docs/science.md §9 data, width 300). Asserts nothing.
//
//   node --import tsx scripts/tfjs-polar-accuracy.ts [--backend wasm]
import { DEFAULTS } from '../src/config/defaults.js';
import { loadDataset } from '../src/data/dataset.js';
import { loadBackend } from '../src/engine/tfjs/backends.js';
import { devicePolarFactor } from '../src/engine/tfjs/polar.js';
import { initParams, layerShapes } from '../src/model/mlp.js';
import { thinSvd } from '../src/numerics/linalg.js';
import { polarFactorExact, polarFactorNewtonSchulz } from '../src/optimizers/polar.js';
import { Optimizer } from '../src/optimizers/registry.js';
import { Rng } from '../src/rng.js';
import type { ConcreteBackend } from '../src/engine/tfjs/backends.js';
import { F64Engine } from '../src/engine/f64.js';
import { withSpectrum } from '../test/helpers.js';
import { flag } from './flags.js';

const backend = flag('--backend', 'wasm') as ConcreteBackend;
const { tf } = await loadBackend(backend);
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k]!)), 0);
const fro = (a: Float64Array) => Math.sqrt(a.reduce((m, v) => m + v * v, 0));
const relF = (a: Float64Array, b: Float64Array) => fro(a.map((v, k) => v - b[k]!)) / fro(b);

console.log(`device polar on tfjs-${backend} against the exact host polar`);
const rng = new Rng(3);
for (const [r, c] of [[60, 140], [300, 784], [784, 2048]] as const) {
  const M = Float64Array.from({ length: r * c }, () => rng.normal());
  let t = performance.now();
  const exact = polarFactorExact(M, r, c).Q;
  const host = performance.now() - t;
  t = performance.now();
  const Q = devicePolarFactor(tf, M, r, c);
  const device = performance.now() - t;
  const ns = r <= 300 ? maxDiff(polarFactorNewtonSchulz(M, r, c), exact).toExponential(2) : '-';
  console.log(`Gaussian ${r}×${c}: max|ΔQ| ${maxDiff(Q, exact).toExponential(2)}, rel. Frobenius ${relF(Q, exact).toExponential(2)}; ` +
    `host ${host.toFixed(0)} ms, device ${device.toFixed(0)} ms; 5 quintic steps alone: max|ΔQ| ${ns}`);
}

// Prescribed spectra: M = U diag(s) Vᵀ, singular values from 1 down to `low` (log-spaced), then exact zeros.
for (const [low, live] of [[1e-3, 40], [1e-4, 40], [1e-5, 40], [1e-6, 40]] as const) {
  const [r, c] = [60, 140];
  const M = withSpectrum(rng, r, c, Array.from({ length: live }, (_, e) => low ** (e / (live - 1))));
  const exact = polarFactorExact(M, r, c).Q;
  const Q = devicePolarFactor(tf, M, r, c);
  console.log(`${r}×${c}, rank ${live}, singular values 1 … ${low.toExponential(0)} (then exact zeros): max|ΔQ| ${maxDiff(Q, exact).toExponential(2)}, rel. Frobenius ${relF(Q, exact).toExponential(2)}`);
}

const width = Number(flag('--width', 300));
const data = loadDataset(DEFAULTS.data);
const shapes = layerShapes({ inputDim: 784, width, outputDim: 10, depth: 2 });
const params = initParams(shapes, 0.3, 0);
const engine = new F64Engine(data, shapes, 'relu');
const opt = new Optimizer({ name: 'muon', beta: 0.9, beta2: 0.95, polar: 'exact', isMuon: [true, false], shapes });
for (let t = 0; t < 200; t++) {
  const ev = engine.evaluate([params], true)[0]!;
  const { direction } = opt.step(ev.grad!, ev.gradLogScale);
  if ([1, 10, 50, 200].includes(t + 1)) {
    const M = opt.momentum.values[0]!;
    const exact = polarFactorExact(M, width, 784).Q;
    const Q = devicePolarFactor(tf, M, width, 784);
    const s = thinSvd(M, width, 784).s;
    const smax = Math.max(...s);
    const counts = [1e-3, 1e-5, 1e-7, 1e-10].map((f) => s.filter((v) => v >= f * smax).length);
    console.log(`Muon step ${t + 1}, W_1 momentum ${width}×784 (#σ ≥ 1e-3/1e-5/1e-7/1e-10 σ_max: ${counts.join('/')}): ` +
      `max|ΔQ| ${maxDiff(Q, exact).toExponential(2)}, rel. Frobenius ${relF(Q, exact).toExponential(2)}`);
  }
  const eta = (0.1 * 3) / (t + 1) ** 0.75;
  params.forEach((w, l) => {
    for (let k = 0; k < w.length; k++) w[k]! -= eta * direction[l]![k]!;
  });
}

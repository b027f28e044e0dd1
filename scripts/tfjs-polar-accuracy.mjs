#!/usr/bin/env node
// Accuracy and speed of the TF.js device polar factor (src/engine/tfjs/polar.ts: quintic then cubic
// Newton–Schulz in float32) against the exact host route (polarFactorExact, float64), on Gaussian
// matrices and on the real momentum of W_1 along a Muon run (SPEC §9 data, width 300). Asserts nothing.
//
//   npx tsc -p tsconfig.json && node scripts/tfjs-polar-accuracy.mjs [--backend wasm]
import { DEFAULTS } from '../dist/config/defaults.js';
import { loadDataset } from '../dist/data/dataset.js';
import { F64_FACTORY } from '../dist/engine/create.js';
import { loadBackend } from '../dist/engine/tfjs/backends.js';
import { devicePolarFactor } from '../dist/engine/tfjs/polar.js';
import { initParams, layerShapes } from '../dist/model/mlp.js';
import { thinSvd } from '../dist/numerics/linalg.js';
import { polarFactorExact, polarFactorNewtonSchulz } from '../dist/optimizers/polar.js';
import { Optimizer } from '../dist/optimizers/registry.js';
import { Rng } from '../dist/rng.js';

const args = process.argv.slice(2);
const backend = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : 'wasm';
const { tf } = await loadBackend(backend);
const maxDiff = (a, b) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
const fro = (a) => Math.sqrt(a.reduce((m, v) => m + v * v, 0));
const relF = (a, b) => fro(a.map((v, k) => v - b[k])) / fro(b);

console.log(`device polar on tfjs-${backend} against the exact host polar`);
const rng = new Rng(3);
for (const [r, c] of [[60, 140], [300, 784], [784, 2048]]) {
  const M = Float64Array.from({ length: r * c }, () => rng.normal());
  let t = performance.now();
  const exact = polarFactorExact(M, r, c).Q;
  const host = performance.now() - t;
  t = performance.now();
  const d = devicePolarFactor(tf, M, r, c);
  const device = performance.now() - t;
  const ns = r <= 300 ? maxDiff(polarFactorNewtonSchulz(M, r, c), exact).toExponential(2) : '-';
  console.log(`Gaussian ${r}×${c}: max|ΔQ| ${maxDiff(d.Q, exact).toExponential(2)}, rel. Frobenius ${relF(d.Q, exact).toExponential(2)}, ` +
    `${d.cubicSteps} cubic steps; host ${host.toFixed(0)} ms, device ${device.toFixed(0)} ms; 5 quintic steps alone: max|ΔQ| ${ns}`);
}

const width = 300;
const data = loadDataset(DEFAULTS.data);
const shapes = layerShapes({ inputDim: 784, width, outputDim: 10, depth: 2 });
const params = initParams(shapes, 0.3, 0);
const engine = F64_FACTORY.create(data, shapes, 'relu');
const opt = new Optimizer({ name: 'muon', beta: 0.9, beta2: 0.95, polar: 'exact', isMuon: [true, false], shapes });
for (let t = 0; t < 200; t++) {
  const ev = engine.evaluate(params, true);
  const { direction } = opt.step(ev.grad, ev.gradLogScale);
  if ([1, 10, 50, 200].includes(t + 1)) {
    const M = opt.momentum.values[0];
    const exact = polarFactorExact(M, width, 784).Q;
    const d = devicePolarFactor(tf, M, width, 784);
    const s = thinSvd(M, width, 784).s;
    const smax = Math.max(...s);
    const counts = [1e-3, 1e-5, 1e-7, 1e-10].map((f) => s.filter((v) => v >= f * smax).length);
    console.log(`Muon step ${t + 1}, W_1 momentum ${width}×784 (#σ ≥ 1e-3/1e-5/1e-7/1e-10 σ_max: ${counts.join('/')}): ` +
      `max|ΔQ| ${maxDiff(d.Q, exact).toExponential(2)}, rel. Frobenius ${relF(d.Q, exact).toExponential(2)}, ${d.cubicSteps} cubic steps`);
  }
  const eta = (0.1 * 3) / (t + 1) ** 0.75;
  params.forEach((w, l) => {
    for (let k = 0; k < w.length; k++) w[k] -= eta * direction[l][k];
  });
}

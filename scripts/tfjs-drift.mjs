#!/usr/bin/env node
// How far the TF.js engine (float32 on the device, log-scales in float64 on the host) drifts from
// the float64 engine on the SPEC §9 setup: one seed, 4000 steps, the same initial weights, for a
// few optimizers. Prints the final log10 loss and normalized margins of both and their relative
// difference, and the largest relative margin difference at any log point. Asserts nothing.
//
//   npx tsc -p tsconfig.json && node scripts/tfjs-drift.mjs [--backend wasm] [--steps 4000]
import { resolveConfig } from '../dist/config/load.js';
import { loadDataset } from '../dist/data/dataset.js';
import { F64_FACTORY, loadEngineFactory } from '../dist/engine/create.js';
import { initParams } from '../dist/model/mlp.js';
import { shapesFor } from '../dist/model/mlp.js';
import { trainRun } from '../dist/train/train.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const backend = flag('--backend', 'wasm');
const steps = Number(flag('--steps', 4000));
const tfjs = await loadEngineFactory({ engine: 'tfjs', backend });
const runs = [
  ['relu', 'ngd'],
  ['relu', 'signum'],
  ['relu', 'muon'],
  ['sqrelu', 'adam'],
  ['sqrelu', 'signum'],
];
const NORMS = ['l2', 'linf', 'spectral', 'hybrid'];
const rel = (a, b) => Math.abs(a - b) / Math.abs(b);
console.log(`SPEC §9 (100 digits, 784-50-10, β 0.9, seed 0, ${steps} steps): ${tfjs.name} against f64-cpu`);
console.log('run               log10 L f64   log10 L tfjs   |Δ| rel   margin rel. diff at T (l2 linf spectral hybrid)   max over log points   tfjs s');
for (const [activation, optimizer] of runs) {
  const config = resolveConfig({ train: { steps, optimizers: [optimizer], betas: [0.9] }, log: { n_log: 40 } }, 'drift');
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 0);
  const spec = { activation, optimizer, beta: 0.9, seed: 0 };
  const a = trainRun(config, spec, F64_FACTORY.create(data, shapes, activation), shapes, init);
  const engine = tfjs.create(data, shapes, activation);
  const b = trainRun(config, spec, engine, shapes, init);
  engine.dispose?.();
  const fa = a.rows.at(-1);
  const fb = b.rows.at(-1);
  const atT = NORMS.map((n) => rel(fb[`margin_${n}`], fa[`margin_${n}`]).toExponential(1));
  let worst = 0;
  a.rows.forEach((ra, k) => {
    const rb = b.rows[k];
    if (!rb || ra.qmin <= 0) return; // before the data is separated the margins cross 0
    for (const n of NORMS) worst = Math.max(worst, rel(rb[`margin_${n}`], ra[`margin_${n}`]));
  });
  console.log(
    `${`${activation} ${optimizer}`.padEnd(16)}  ${fa.log10_loss.toFixed(3).padStart(11)}  ${fb.log10_loss.toFixed(3).padStart(13)}   ${rel(fb.log10_loss, fa.log10_loss).toExponential(1)}   ${atT.join(' ').padEnd(46)}   ${worst.toExponential(1).padStart(19)}   ${b.wallTimeS.toFixed(0).padStart(6)}` +
      (b.failure ? `  (tfjs failed: ${b.failure.reason})` : ''),
  );
}

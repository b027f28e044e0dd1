#!/usr/bin/env node
// How far the TF.js engine (float32 on the device, log-scales in float64 on the host) drifts from
// the float64 engine on the docs/science.md §9 setup: one seed, 4000 steps, the same initial weights, for a
// few optimizers. Prints the final log10 loss and normalized margins of both and their relative
// difference, and the largest relative margin difference at any log point. Asserts nothing.
//
//   node --import tsx scripts/tfjs-drift.ts [--backend wasm] [--steps 4000]
import { resolveConfig } from '../src/config/load.js';
import { loadDataset } from '../src/data/dataset.js';
import { F64_FACTORY, loadEngineFactory } from '../src/engine/create.js';
import { initParams } from '../src/model/mlp.js';
import { shapesFor } from '../src/model/mlp.js';
import type { Activation, BackendName, OptimizerName } from '../src/config/types.js';
import { NORM_NAMES } from '../src/optimizers/families.js';
import { trainRuns } from '../src/train/train.js';
import { flag } from './flags.js';

const backend = flag('--backend', 'wasm') as BackendName;
const steps = Number(flag('--steps', 4000));
const tfjs = await loadEngineFactory({ engine: 'tfjs', backend });
const runs: [Activation, OptimizerName][] = [
  ['relu', 'ngd'],
  ['relu', 'signum'],
  ['relu', 'muon'],
  ['sqrelu', 'adam'],
  ['sqrelu', 'signum'],
];
const NORMS = NORM_NAMES;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
console.log(`docs/science.md §9 (100 digits, 784-50-10, β 0.9, seed 0, ${steps} steps): ${tfjs.name} against f64-cpu`);
console.log('run               log10 L f64   log10 L tfjs   |Δ| rel   margin rel. diff at T (l2 linf spectral hybrid)   max over log points   tfjs s');
for (const [activation, optimizer] of runs) {
  const config = resolveConfig({ train: { steps, optimizers: [optimizer], betas: [0.9] }, log: { n_log: 40 } }, 'drift');
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 0);
  const spec = { activation, optimizer, beta: 0.9, seed: 0 };
  const [a] = await trainRuns(config, [spec], F64_FACTORY.create(data, shapes, activation), shapes, [init]);
  const engine = tfjs.create(data, shapes, activation);
  const [b] = await trainRuns(config, [spec], engine, shapes, [init]);
  engine.dispose?.();
  if (!a || !b) throw new Error('no result');
  const fa = a.rows.at(-1)!;
  const fb = b.rows.at(-1)!;
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

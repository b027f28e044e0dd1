import assert from 'node:assert/strict';
import { test } from 'node:test';
import { homogeneityDegree, initParams, layerShapes } from '../../src/model/mlp.js';
import { assertClose, denseForward, engineFor, scaleParams, toyData, toyNet } from '../helpers.js';

for (const activation of ['relu', 'sqrelu'] as const) {
  for (const depth of [2, 3]) {
    test(`docs/science.md §3: f(cθ) = c^D f(θ) for ${activation}, depth ${depth}`, () => {
      const D = homogeneityDegree(activation, depth);
      // by hand: ReLU adds one per layer (D = L); squared ReLU doubles then adds one (2^L − 1)
      assert.equal(D, activation === 'relu' ? depth : 2 ** depth - 1);
      const data = toyData(9, 12, 4, 3);
      const { shapes, params } = toyNet(activation, depth);
      const engine = engineFor(data, shapes, activation);
      const base = engine.evaluate([params], false)[0]!.logits.slice();
      for (const c of [0.5, 1.7, 3]) {
        const scaled = engine.evaluate([scaleParams(params, c)], false)[0]!.logits;
        base.forEach((f, k) => assertClose(scaled[k]!, c ** D * f, 1e-12, `logit ${k} at c=${c}`));
      }
    });
  }
}

test('the engine computes the same logits as a textbook dense forward pass', () => {
  for (const activation of ['relu', 'sqrelu'] as const) {
    const data = toyData(7, 12, 4, 5);
    const { shapes, params } = toyNet(activation, 3, 2);
    const logits = engineFor(data, shapes, activation).evaluate([params], false)[0]!.logits;
    denseForward(params, shapes, data.X, data.n, activation).forEach((row, i) =>
      row.forEach((f, k) => assertClose(logits[i * 4 + k]!, f, 1e-12, `logit [${i}, ${k}]`)),
    );
  }
});

test('docs/science.md §3 init: W_l ~ N(0, s²/fan_in), seeded, shapes [out, in]', () => {
  const shapes = layerShapes({ inputDim: 784, width: 50, outputDim: 10, depth: 2 });
  assert.deepEqual(shapes, [{ out: 50, in: 784 }, { out: 10, in: 50 }]);
  const a = initParams(shapes, 0.3, 7);
  const b = initParams(shapes, 0.3, 7);
  const c = initParams(shapes, 0.3, 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  const w = a[0]!;
  const mean = w.reduce((s, v) => s + v, 0) / w.length;
  const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
  // 39,200 draws: the sample variance is within a few percent of 0.09/784.
  assertClose(variance, 0.09 / 784, 0.03, 'variance of W_1');
  assert.ok(Math.abs(mean) < 4 * Math.sqrt(0.09 / 784 / w.length));
});

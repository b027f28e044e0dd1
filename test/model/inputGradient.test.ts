import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denseForward, initParams, inputGradient, layerShapes } from '../../src/model/mlp.js';
import { Rng } from '../../src/rng.js';

// The input gradient of Σ_ij c_ij f_j(x_i), checked against central differences in x.
for (const activation of ['relu', 'sqrelu'] as const) {
  test(`inputGradient (${activation}, depth 3) matches central differences`, () => {
    const shapes = layerShapes({ inputDim: 7, width: 5, outputDim: 3, depth: 3 });
    const params = initParams(shapes, 1, 11);
    const rng = new Rng(4);
    const n = 4;
    const X = Float64Array.from({ length: n * 7 }, () => rng.uniform());
    const c = Float64Array.from({ length: n * 3 }, () => rng.normal());
    const objective = (x: Float64Array): number => denseForward(params, shapes, activation, x, n).outputs.reduce((s, f, k) => s + c[k]! * f, 0);
    const grad = inputGradient(params, shapes, denseForward(params, shapes, activation, X, n), c);
    assert.equal(grad.length, X.length);
    const h = 1e-6;
    for (let k = 0; k < X.length; k++) {
      const plus = X.slice();
      const minus = X.slice();
      plus[k]! += h;
      minus[k]! -= h;
      const fd = (objective(plus) - objective(minus)) / (2 * h);
      assert.ok(Math.abs(fd - grad[k]!) <= 1e-6 * (1 + Math.abs(fd)), `entry ${k}: ${grad[k]} vs finite difference ${fd}`);
    }
    // The outputs are those of the definition f = W_3 σ(W_2 σ(W_1 x)).
    const sigma = (z: number): number => (z > 0 ? (activation === 'relu' ? z : z * z) : 0);
    const layer = (W: Float64Array, a: number[], out: number): number[] =>
      Array.from({ length: out }, (_, o) => a.reduce((s, v, k) => s + W[o * a.length + k]! * v, 0));
    const x0 = [...X.slice(0, 7)];
    const f0 = layer(params[2]!, layer(params[1]!, layer(params[0]!, x0, 5).map(sigma), 5).map(sigma), 3);
    const outputs = denseForward(params, shapes, activation, X, n).outputs;
    f0.forEach((f, j) => assert.ok(Math.abs(f - outputs[j]!) < 1e-12));
  });
}

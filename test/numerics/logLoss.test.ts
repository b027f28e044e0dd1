import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Activation } from '../../src/config/types.js';
import type { LayerShape, Params } from '../../src/model/mlp.js';
import { crossEntropyLogDomain, toLog10 } from '../../src/numerics/logLoss.js';
import { assertClose, centralDifferences, denseForward, engineFor, scaleParams, toyData, toyNet } from '../helpers.js';

/** Textbook softmax cross-entropy gradient, p − onehot, backpropagated by hand (the oracle). */
function textbookGradient(params: Params, shapes: LayerShape[], X: Float64Array, y: Int32Array, n: number, act: Activation): Params {
  const grad = shapes.map((s) => new Float64Array(s.out * s.in));
  for (let i = 0; i < n; i++) {
    const hs: number[][] = [Array.from(X.subarray(i * shapes[0]!.in, (i + 1) * shapes[0]!.in))];
    const zs: number[][] = [];
    shapes.forEach((s, l) => {
      const h = hs[l]!;
      const z = Array.from({ length: s.out }, (_, k) => h.reduce((acc, v, j) => acc + params[l]![k * s.in + j]! * v, 0));
      zs.push(z);
      if (l < shapes.length - 1) hs.push(z.map((v) => (v > 0 ? (act === 'relu' ? v : v * v) : 0)));
    });
    const f = zs[zs.length - 1]!;
    const max = Math.max(...f);
    const e = f.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    let delta = e.map((v, j) => (v / sum - (j === y[i] ? 1 : 0)) / n);
    for (let l = shapes.length - 1; l >= 0; l--) {
      const s = shapes[l]!;
      const h = hs[l]!;
      for (let k = 0; k < s.out; k++) for (let j = 0; j < s.in; j++) grad[l]![k * s.in + j]! += delta[k]! * h[j]!;
      if (l === 0) break;
      const z = zs[l - 1]!;
      delta = Array.from({ length: s.in }, (_, j) => {
        let acc = 0;
        for (let k = 0; k < s.out; k++) acc += delta[k]! * params[l]![k * s.in + j]!;
        const dz = z[j]! > 0 ? (act === 'relu' ? 1 : 2 * z[j]!) : 0;
        return acc * dz;
      });
    }
  }
  return grad;
}

const flat = (p: Params) => p.flatMap((w) => Array.from(w));
/** Cosine that survives vectors of size 1e-300 (their squares underflow): rescale first. */
const cosine = (a0: number[], b0: number[]) => {
  const ma = Math.max(...a0.map(Math.abs));
  const mb = Math.max(...b0.map(Math.abs));
  if (ma === 0 || mb === 0) return NaN;
  const a = a0.map((v) => v / ma);
  const b = b0.map((v) => v / mb);
  const dot = a.reduce((s, v, k) => s + v * b[k]!, 0);
  return dot / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
};

for (const activation of ['relu', 'sqrelu'] as const) {
  test(`docs/science.md §4: at moderate loss the log-domain gradient equals the textbook one and finite differences (${activation})`, () => {
    const data = toyData(10, 12, 4, 11);
    const { shapes, params } = toyNet(activation, 3, 4);
    const engine = engineFor(data, shapes, activation);
    const ev = engine.evaluate([params], true)[0]!;
    const ours = flat(ev.grad!).map((g) => Math.exp(ev.gradLogScale) * g);
    const textbook = flat(textbookGradient(params, shapes, data.X, data.y, data.n, activation));
    ours.forEach((g, k) => assert.ok(Math.abs(g - textbook[k]!) <= 1e-12 * Math.max(...textbook.map(Math.abs)), `coordinate ${k}`));

    // Central differences of the loss itself, coordinate by coordinate.
    const loss = (p: Params) => Math.exp(engine.evaluate([p], false)[0]!.logLoss);
    centralDifferences(params, loss, 1e-6).forEach((fd, k) =>
      assert.ok(Math.abs(fd - ours[k]!) <= 1e-7 + 1e-5 * Math.abs(fd), `coordinate ${k}: fd ${fd} vs ${ours[k]}`),
    );
  });

  test(`docs/science.md §4: at loss ~1e-300 the direction is exact and the textbook gradient is wrong (${activation})`, () => {
    // Label every sample by the network's own prediction: all margins > 0, so scaling θ up drives
    // the loss to 0 along a fixed family of networks.
    const base = toyData(10, 12, 4, 12);
    const { shapes, params } = toyNet(activation, 2, 5);
    const logits = denseForward(params, shapes, base.X, base.n, activation);
    const y = Int32Array.from(logits.map((f) => f.indexOf(Math.max(...f))));
    const data = { ...base, y };
    const engine = engineFor(data, shapes, activation);
    const D = activation === 'relu' ? 2 : 3;
    const q = Math.min(...logits.map((f, i) => f[y[i]!]! - Math.max(...f.filter((_, j) => j !== y[i]))));
    const c = (690 / q) ** (1 / D); // smallest margin at cθ ≈ 690: loss ≈ e^-690 ≈ 1e-300
    const theta = scaleParams(params, c);
    const ev = engine.evaluate([theta], true)[0]!;
    const log10Loss = toLog10(ev.logLoss);
    assert.ok(log10Loss < -295 && log10Loss > -310, `log10 loss ${log10Loss}`);

    // Oracle: finite differences of the exact log-loss give ∇L / L = e^(s − log L) G.
    const logLoss = (p: Params) => engine.evaluate([p], false)[0]!.logLoss;
    const rel = Math.exp(ev.gradLogScale - ev.logLoss);
    const ours = flat(ev.grad!).map((g) => rel * g);
    const fd = centralDifferences(theta, logLoss, 1e-6 * Math.max(...flat(theta).map(Math.abs)));
    const scale = Math.max(...fd.map(Math.abs));
    ours.forEach((g, k) => assert.ok(Math.abs(g - fd[k]!) <= 1e-5 * scale, `coordinate ${k}: ${g} vs fd ${fd[k]}`));
    assert.ok(cosine(ours, fd) > 1 - 1e-9);

    // The textbook gradient has lost the p_y − 1 term (p_y rounds to 1): it points elsewhere.
    const textbook = flat(textbookGradient(theta, shapes, data.X, data.y, data.n, activation));
    const cosTextbook = cosine(textbook, fd);
    assert.ok(!(cosTextbook > 0.9), `textbook gradient should be wrong here, cos = ${cosTextbook}`);
    // …while at the same θ scaled back to moderate loss the two agree (the oracle itself is sound).
    const moderate = scaleParams(theta, 1 / c);
    const evm = engine.evaluate([moderate], true)[0]!;
    const tb = flat(textbookGradient(moderate, shapes, data.X, data.y, data.n, activation));
    assert.ok(cosine(flat(evm.grad!), tb) > 1 - 1e-12);
  });
}

test('docs/science.md §4: log10_loss is exact where the loss underflows', () => {
  // by hand: one sample, logits [1000, 0, 0], label 0 → loss = log(1 + 2e^-1000) = 2e^-1000 (1 − e^-1000 …)
  const r = crossEntropyLogDomain(Float64Array.from([1000, 0, 0]), Int32Array.from([0]), 3, null);
  assertClose(r.logLoss, -1000 + Math.log(2), 1e-15, 'log loss');
  assert.equal(Math.exp(r.logLoss), 0); // the plain float loss has underflowed; its log has not
  // two samples, margins 800 and 900: mean loss = (e^-800 + e^-900)/2
  const two = crossEntropyLogDomain(Float64Array.from([800, 0, 0, 900]), Int32Array.from([0, 1]), 2, new Float64Array(4));
  assertClose(two.logLoss, -800 + Math.log1p(Math.exp(-100)) - Math.log(2), 1e-15, 'mean of two');
  assert.deepEqual(Array.from(two.margins), [800, 900]);
  // G = e^-s ∂L/∂f with max|G| = 1: sample 0 dominates, its two entries are ∓1
  const g = new Float64Array(4);
  const withGrad = crossEntropyLogDomain(Float64Array.from([800, 0, 0, 900]), Int32Array.from([0, 1]), 2, g);
  assert.deepEqual(Array.from(g.subarray(0, 2)), [-1, 1]);
  assertClose(g[3]!, -Math.exp(-100), 1e-12, 'sample 1 relative weight');
  assertClose(withGrad.gradLogScale, -800 - Math.log(2), 1e-14, 'log-scale');
});

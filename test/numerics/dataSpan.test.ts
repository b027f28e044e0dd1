import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/config/defaults.js';
import { loadDataset } from '../../src/data/dataset.js';
import { dataSpan } from '../../src/numerics/dataSpan.js';
import { toyData } from '../helpers.js';

/** The properties the span reparametrization relies on (src/numerics/dataSpan.ts), for X [n, d]. */
function checkSpan(X: Float64Array, n: number, d: number, what: string): void {
  const span = dataSpan(X, n, d);
  assert.ok(span, `${what}: a span`);
  const { r, QT, XQ, livePixels } = span;
  assert.equal(r, n);
  const live = new Set(livePixels);
  for (let j = 0; j < d; j++) {
    let lit = false;
    for (let i = 0; i < n; i++) lit ||= X[i * d + j] !== 0;
    assert.equal(live.has(j), lit, `${what}: pixel ${j} live`);
    // Dead pixels: exactly 0 in every basis vector, so W_1's columns there never move.
    if (!lit) for (let k = 0; k < r; k++) assert.equal(QT[k * d + j], 0, `${what}: Qᵀ[${k}, ${j}]`);
  }
  // Q has orthonormal columns: Qᵀ Q = I to 1e-13.
  for (let a = 0; a < r; a++) {
    for (let b = a; b < r; b++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += QT[a * d + j]! * QT[b * d + j]!;
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) <= 1e-13, `${what}: q${a}·q${b} = ${dot}`);
    }
  }
  // X Q = Rᵀ (lower triangular, exact zeros above the diagonal) and X = Rᵀ Qᵀ, both to 1e-13 of max|X|.
  let xMax = 0;
  for (const v of X) xMax = Math.max(xMax, Math.abs(v));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++) {
      if (k > i) assert.equal(XQ[i * r + k], 0, `${what}: Rᵀ[${i}, ${k}] above the diagonal`);
      let xq = 0;
      for (let j = 0; j < d; j++) xq += X[i * d + j]! * QT[k * d + j]!;
      assert.ok(Math.abs(xq - XQ[i * r + k]!) <= 1e-13 * xMax * Math.sqrt(d), `${what}: (X Q)[${i}, ${k}] ${xq} vs ${XQ[i * r + k]}`);
    }
    for (let j = 0; j < d; j++) {
      let back = 0;
      for (let k = 0; k <= i; k++) back += XQ[i * r + k]! * QT[k * d + j]!;
      assert.ok(Math.abs(back - X[i * d + j]!) <= 1e-13 * xMax * Math.sqrt(n), `${what}: (Rᵀ Qᵀ)[${i}, ${j}] ${back} vs X ${X[i * d + j]}`);
    }
  }
}

test('the data span of 100 digits: Q orthonormal, zero on the dark pixels, X Q lower triangular and X = (X Q) Qᵀ', () => {
  const data = loadDataset(DEFAULTS.data);
  checkSpan(data.X, data.n, data.d, '100 digits');
});

test('the data span of dependent samples (a digit twice, a blank image) is still an orthonormal basis that reproduces X', () => {
  const data = loadDataset({ ...DEFAULTS.data, classes: [3, 7], n_per_class: 6 });
  const { n, d } = data;
  const X = new Float64Array((n + 2) * d);
  X.set(data.X);
  X.set(data.X.subarray(0, d), n * d); // sample 0 again; the last sample stays blank
  checkSpan(X, n + 2, d, 'dependent rows');
});

test('no span where it would not pay: as many samples as live pixels, or a triangle larger than X', () => {
  // 30 samples of 12 features: at most 12 live pixels, fewer than the samples.
  const wide = toyData(30, 12, 3, 1);
  assert.equal(dataSpan(wide.X, wide.n, wide.d), null);
  // 40 samples, 200 features, each sample one lit pixel: the triangle's 820 entries against X's 40.
  const n = 40;
  const d = 200;
  const sparse = new Float64Array(n * d);
  for (let i = 0; i < n; i++) sparse[i * d + 3 * i] = 1;
  assert.equal(dataSpan(sparse, n, d), null);
  // The same with two lit pixels per sample and fewer samples pays: 3 samples, 6 non-zeros, 6 entries.
  const few = new Float64Array(3 * d);
  for (let i = 0; i < 3; i++) {
    few[i * d + 5 * i] = 0.5;
    few[i * d + 5 * i + 1] = 1;
  }
  checkSpan(few, 3, d, 'three samples');
  assert.throws(() => dataSpan(new Float64Array(5), 2, 3), /X holds 5 entries, expected 2 × 3/);
});

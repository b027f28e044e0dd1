import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F64Engine } from '../../src/engine/f64.js';
import { minMargin, normalizedMargin } from '../../src/metrics/margins.js';
import { allNorms, dualNormOf, resolveMuonLayers } from '../../src/metrics/norms.js';
import { assertClose } from '../helpers.js';

// W_1 = [[1, 1], [1, 1]]: rank 1, σ = 2, max|·| = 1, ℓ1 = 4, nuclear = 2
// W_2 = [[3, −4]]:        σ = 5,      max|·| = 4, ℓ1 = 7, nuclear = 5
const shapes = [
  { out: 2, in: 2 },
  { out: 1, in: 2 },
];
const params = [Float64Array.from([1, 1, 1, 1]), Float64Array.from([3, -4])];

test('docs/science.md §5: the four norms on hand-built weights', () => {
  const isMuon = resolveMuonLayers(null, 2); // default: all but the output layer
  assert.deepEqual(isMuon, [true, false]);
  const n = allNorms(params, shapes, isMuon);
  assertClose(n.l2, Math.sqrt(29), 1e-15, 'l2'); // by hand: 1+1+1+1+9+16
  assert.equal(n.linf, 4);
  assertClose(n.spectral, 5, 1e-14, 'spectral'); // max(2, 5)
  assertClose(n.hybrid, 4, 1e-14, 'hybrid'); // max(σ(W_1) = 2, max|W_2| = 4)
  assertClose(allNorms(params, shapes, [false, true]).hybrid, 5, 1e-14, 'hybrid, other muon layers');
});

test('docs/science.md §5: dual norms on hand-built weights', () => {
  const isMuon = [true, false];
  assertClose(dualNormOf('l2', params, shapes, isMuon), Math.sqrt(29), 1e-15, 'l2*');
  assert.equal(dualNormOf('linf', params, shapes, isMuon), 11); // ℓ1: 4 + 7
  assertClose(dualNormOf('spectral', params, shapes, isMuon), 7, 1e-12, 'nuclear'); // 2 + 5
  assertClose(dualNormOf('hybrid', params, shapes, isMuon), 9, 1e-12, 'hybrid*'); // nuclear(W_1) + ℓ1(W_2)
});

test('docs/science.md §5: sample margins and normalized margins on a hand-built network', () => {
  // W_1 = diag(2, 1), W_2 = I; x_1 = (1, 0) label 0, x_2 = (0, 3) label 1.
  const W = [Float64Array.from([2, 0, 0, 1]), Float64Array.from([1, 0, 0, 1])];
  const s = [
    { out: 2, in: 2 },
    { out: 2, in: 2 },
  ];
  const data = { X: Float64Array.from([1, 0, 0, 3]), y: Int32Array.from([0, 1]), n: 2, d: 2, numClasses: 2 };
  // ReLU: f(x_1) = (2, 0), f(x_2) = (0, 3) → q = (2, 3), D = 2
  const relu = new F64Engine(data, s, 'relu').evaluate([W], false)[0]!;
  assert.deepEqual(Array.from(relu.margins), [2, 3]);
  const n = allNorms(W, s, [true, false]);
  assertClose(normalizedMargin(minMargin(relu.margins), n.l2, 2), 2 / 7, 1e-15, 'γ_l2'); // ‖θ‖² = 4+1+1+1
  assertClose(normalizedMargin(2, n.linf, 2), 0.5, 1e-15, 'γ_linf');
  // squared ReLU: f(x_1) = (4, 0), f(x_2) = (0, 9) → q_min = 4, D = 3
  const sq = new F64Engine(data, s, 'sqrelu').evaluate([W], false)[0]!;
  assert.equal(minMargin(sq.margins), 4);
  assertClose(normalizedMargin(4, n.l2, 3), 4 / 7 ** 1.5, 1e-15, 'γ_l2 sqrelu');
  // invariance: γ(cθ) = γ(θ)
  const c = 3.7;
  const scaled = W.map((w) => w.map((v) => v * c));
  const q = minMargin(new F64Engine(data, s, 'sqrelu').evaluate([scaled], false)[0]!.margins);
  assertClose(normalizedMargin(q, allNorms(scaled, s, [true, false]).spectral, 3), normalizedMargin(4, n.spectral, 3), 1e-14, 'scale invariance');
});

test('docs/science.md §5: the spectral norm is exact for weights of any size (no overflow when squared)', () => {
  for (const c of [1e-200, 1, 1e80, 1e200]) {
    const scaled = params.map((w) => w.map((v) => v * c));
    assertClose(allNorms(scaled, shapes, [true, false]).spectral, 5 * c, 1e-14, `spectral at scale ${c}`);
  }
});

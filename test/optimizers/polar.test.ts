import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { GramWorkspace } from '../../src/numerics/linalg.js';
import { POLAR_RANK_CUTOFF, polarFactorExact, polarFactorNewtonSchulz, PolarWorkspace } from '../../src/optimizers/polar.js';
import { Rng } from '../../src/rng.js';
import { captureStderr } from '../helpers.js';

function randomMatrix(rng: Rng, r: number, c: number): Float64Array {
  return Float64Array.from({ length: r * c }, () => rng.normal());
}

/** U Vᵀ straight from ml-matrix's SVD (the oracle), keeping σ > cutoff · σ_max. */
function oraclePolar(M: Float64Array, r: number, c: number): Float64Array {
  const A = new Matrix(Array.from({ length: r }, (_, i) => Array.from(M.subarray(i * c, (i + 1) * c))));
  const svd = new SingularValueDecomposition(A, { autoTranspose: true });
  const s = svd.diagonal;
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const out = new Float64Array(r * c);
  s.forEach((sigma, e) => {
    if (!(sigma > POLAR_RANK_CUTOFF * s[0]!)) return;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j]! += U.get(i, e) * V.get(j, e);
  });
  return out;
}

const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k]!)), 0);

/** Orthonormal [n, k] from the QR of a random matrix. */
function orthonormal(rng: Rng, n: number, k: number): Matrix {
  const A = new Matrix(Array.from({ length: n }, () => Array.from({ length: k }, () => rng.normal())));
  return new QrDecomposition(A).orthogonalMatrix.subMatrix(0, n - 1, 0, k - 1);
}

test('docs/science.md §6: polar factor of a wide matrix has orthonormal rows and matches the SVD', () => {
  const rng = new Rng(1);
  for (const [r, c] of [[7, 20], [10, 50], [20, 7], [9, 9]] as const) {
    const M = randomMatrix(rng, r, c);
    const { Q, route } = polarFactorExact(M, r, c);
    assert.equal(route, 'gram');
    assert.ok(maxDiff(Q, oraclePolar(M, r, c)) < 1e-12, `${r}x${c} vs SVD`);
    // Q Qᵀ = I for wide, Qᵀ Q = I for tall
    const k = Math.min(r, c);
    const gram = new GramWorkspace([{ out: r, in: c }]);
    const G = r <= c ? gram.gramOfRows(Q, r, c) : gram.gramOfRows(transposeOf(Q, r, c), c, r);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) assert.ok(Math.abs(G[a * k + b]! - (a === b ? 1 : 0)) < 1e-12);
  }
});

function transposeOf(A: Float64Array, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

test('docs/science.md §6: an ill-conditioned matrix takes the SVD route, keeps σ = 1e-9 and drops σ = 1e-12', () => {
  const rng = new Rng(2);
  const r = 5;
  const c = 12;
  const U = orthonormal(rng, r, r);
  const V = orthonormal(rng, c, r);
  const sigma = [1, 1e-3, 1e-6, 1e-9, 1e-12];
  const M = new Float64Array(r * c);
  const expected = new Float64Array(r * c);
  sigma.forEach((s, e) => {
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        M[i * c + j]! += s * U.get(i, e) * V.get(j, e);
        if (s > POLAR_RANK_CUTOFF) expected[i * c + j]! += U.get(i, e) * V.get(j, e);
      }
    }
  });
  const { Q, route } = polarFactorExact(M, r, c);
  assert.equal(route, 'svd');
  // σ = 1e-9 is resolved to ~1e-16/1e-9 relative by a backward-stable SVD: 1e-6 is a safe bound.
  assert.ok(maxDiff(Q, expected) < 1e-6, `max diff ${maxDiff(Q, expected)}`);
  // The Gram route alone would have squared the condition number (1e24) and lost σ = 1e-9.
});

test('docs/science.md §6: exactly-zero rows and columns stay zero; a zero matrix gives a zero step', () => {
  const rng = new Rng(4);
  const r = 6;
  const c = 15;
  const M = randomMatrix(rng, r, c);
  for (let j = 0; j < c; j++) M[2 * c + j] = 0; // a dead hidden unit
  for (let i = 0; i < r; i++) M[i * c + 5] = 0; // a pixel that is black in every image
  const { Q } = polarFactorExact(M, r, c);
  assert.ok(maxDiff(Q, oraclePolar(M, r, c)) < 1e-12);
  for (let j = 0; j < c; j++) assert.equal(Q[2 * c + j], 0);
  for (let i = 0; i < r; i++) assert.equal(Q[i * c + 5], 0);
  assert.equal(polarFactorExact(new Float64Array(12), 3, 4).route, 'zero');
});

test('docs/science.md §6: Newton–Schulz is an approximation — singular values near, not at, 1', () => {
  const rng = new Rng(6);
  const r = 10;
  const c = 40;
  const M = randomMatrix(rng, r, c);
  const X = polarFactorNewtonSchulz(M, r, c);
  const s = new SingularValueDecomposition(
    new Matrix(Array.from({ length: r }, (_, i) => Array.from(X.subarray(i * c, (i + 1) * c)))),
    { autoTranspose: true },
  ).diagonal;
  assert.ok(s.every((v) => v > 0.6 && v < 1.25), `singular values ${s}`);
  assert.ok(s.some((v) => Math.abs(v - 1) > 1e-2), 'quintic NS is not expected to land exactly on 1');
});

test('docs/science.md §6: the polar factor ignores the scale of M, even at 1e-200 and 1e200', () => {
  const rng = new Rng(8);
  const M = randomMatrix(rng, 6, 15);
  const base = polarFactorExact(M, 6, 15).Q;
  for (const c of [1e-200, 1e200]) {
    for (const method of ['gram', 'svd'] as const) {
      const { Q } = polarFactorExact(M.map((v) => v * c), 6, 15, method);
      assert.ok(maxDiff(Q, base) < 1e-12, `scale ${c}, ${method}`);
    }
  }
});

/** M [r, c] random, with the listed rows and columns zeroed. */
function withDeadLines(rng: Rng, r: number, c: number, deadRows: number[], deadCols: number[]): Float64Array {
  const M = randomMatrix(rng, r, c);
  for (const i of deadRows) for (let j = 0; j < c; j++) M[i * c + j] = 0;
  for (const j of deadCols) for (let i = 0; i < r; i++) M[i * c + j] = 0;
  return M;
}

test('docs/science.md §6: more live rows than live columns (dead columns leave the live part tall): both routes match the SVD, silently', async () => {
  // The live part is [k, n] with k > n: 6 × 4, 12 × 10 and 20 × 3 (width 512 on 50 digits is the
  // same shape: more hidden units than pixels lit in any of them).
  const rng = new Rng(11);
  const cases = [
    { r: 6, c: 15, deadRows: [], deadCols: [0, 1, 2, 3, 5, 7, 8, 9, 11, 13, 14] },
    { r: 12, c: 30, deadRows: [], deadCols: Array.from({ length: 20 }, (_, j) => j + 10) },
    { r: 21, c: 21, deadRows: [4], deadCols: Array.from({ length: 18 }, (_, j) => j + 3) },
  ];
  for (const { r, c, deadRows, deadCols } of cases) {
    const M = withDeadLines(rng, r, c, deadRows, deadCols);
    for (const method of ['gram', 'svd'] as const) {
      const { result, stderr } = await captureStderr(() => polarFactorExact(M, r, c, method));
      assert.equal(stderr, '', `${r}x${c} ${method}: nothing on stderr`);
      assert.equal(result.route, method, `${r}x${c}`);
      assert.ok(maxDiff(result.Q, oraclePolar(M, r, c)) < 1e-12, `${r}x${c} ${method} vs SVD: ${maxDiff(result.Q, oraclePolar(M, r, c))}`);
      for (const j of deadCols) for (let i = 0; i < r; i++) assert.equal(result.Q[i * c + j], 0);
    }
  }
});

test('one PolarWorkspace serves every shape it was sized for, bit for bit as a one-off one, and refuses a larger one', () => {
  const rng = new Rng(12);
  const shapes = [
    { out: 9, in: 20 },
    { out: 14, in: 9 },
    { out: 3, in: 14 },
  ];
  const workspace = new PolarWorkspace(shapes);
  assert.deepEqual(workspace.bounds, { short: 9, long: 20, area: 180 });
  for (const { out: r, in: c } of [...shapes, ...shapes]) {
    const M = withDeadLines(rng, r, c, [1], [2]);
    for (const method of ['gram', 'svd'] as const) {
      assert.deepEqual(polarFactorExact(M, r, c, method, undefined, workspace), polarFactorExact(M, r, c, method), `${r}x${c} ${method}`);
    }
    assert.deepEqual(polarFactorNewtonSchulz(M, r, c, workspace), polarFactorNewtonSchulz(M, r, c), `${r}x${c} Newton–Schulz`);
  }
  assert.throws(() => polarFactorExact(randomMatrix(rng, 10, 20), 10, 20, 'gram', undefined, workspace), /polar workspace for shapes up to 9 × 20 \(180 entries\) cannot take a 10 × 20 matrix/);
  assert.throws(() => polarFactorNewtonSchulz(randomMatrix(rng, 4, 21), 4, 21, workspace), /cannot take a 4 × 21 matrix/);
  assert.throws(() => polarFactorExact(new Float64Array(5), 2, 3), /polar factor of a 2 × 3 matrix handed 5 entries/);
});

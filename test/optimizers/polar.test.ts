import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { gramOfRows } from '../../src/numerics/linalg.js';
import { POLAR_RANK_CUTOFF, polarFactorExact, polarFactorNewtonSchulz } from '../../src/optimizers/polar.js';
import { Rng } from '../../src/rng.js';

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

test('SPEC §6: polar factor of a wide matrix has orthonormal rows and matches the SVD', () => {
  const rng = new Rng(1);
  for (const [r, c] of [[7, 20], [10, 50], [20, 7], [9, 9]] as const) {
    const M = randomMatrix(rng, r, c);
    const { Q, route } = polarFactorExact(M, r, c);
    assert.equal(route, 'gram');
    assert.ok(maxDiff(Q, oraclePolar(M, r, c)) < 1e-12, `${r}x${c} vs SVD`);
    // Q Qᵀ = I for wide, Qᵀ Q = I for tall
    const k = Math.min(r, c);
    const G = r <= c ? gramOfRows(Q, r, c) : gramOfRows(transposeOf(Q, r, c), c, r);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) assert.ok(Math.abs(G[a * k + b]! - (a === b ? 1 : 0)) < 1e-12);
  }
});

function transposeOf(A: Float64Array, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

test('SPEC §6: an ill-conditioned matrix takes the SVD route, keeps σ = 1e-9 and drops σ = 1e-12', () => {
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

test('SPEC §6: exactly-zero rows and columns stay zero; a zero matrix gives a zero step', () => {
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

test('SPEC §6: Newton–Schulz is an approximation — singular values near, not at, 1', () => {
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

test('SPEC §6: the polar factor ignores the scale of M, even at 1e-200 and 1e200', () => {
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

import { marginCount, marginRows, type MarginOperator } from './problem.js';

/**
 * An orthonormal basis [C, C'] of the vectors orthogonal to 1 (the Helmert basis), C' = C − 1; for
 * the binary task (C = 1) the single row [1].
 */
export function leftBasis(C: number): Float64Array {
  if (C === 1) return Float64Array.of(1);
  const Cp = C - 1;
  const P = new Float64Array(C * Cp);
  for (let a = 0; a < Cp; a++) {
    // Column a: (1, …, 1, −(a+1), 0, …) / √((a+1)(a+2)) over the first a + 2 entries.
    const scale = 1 / Math.sqrt((a + 1) * (a + 2));
    for (let row = 0; row <= a; row++) P[row * Cp + a] = scale;
    P[(a + 1) * Cp + a] = -(a + 1) * scale;
  }
  return P;
}

/**
 * Each margin in the class basis: ⟨A_j, W⟩ = u_jᵀ W̃ x_i with W = L W̃ (L = leftBasis), u_j [C'] the
 * margin's ±1 row coefficients times L, for margin j of sample i = sampleOf[j].
 */
export function marginsInClassBasis(op: MarginOperator): { Cp: number; left: Float64Array; u: Float64Array; sampleOf: Int32Array } {
  const m = marginCount(op);
  const Cp = op.C === 1 ? 1 : op.C - 1;
  const left = leftBasis(op.C); // [C, C']
  const u = new Float64Array(m * Cp); // [m, C']
  const sampleOf = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    const { sample, rows } = marginRows(op, j);
    sampleOf[j] = sample;
    for (const [row, coef] of rows) for (let a = 0; a < Cp; a++) u[j * Cp + a]! += coef * left[row * Cp + a]!;
  }
  return { Cp, left, u, sampleOf };
}

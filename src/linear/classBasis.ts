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

import { polarFactorExact, polarFactorNewtonSchulz } from './polar.js';

/**
 * SPEC §6: the update directions D(m), one pure function per rule. Each is the steepest-descent
 * direction of its norm and a unit step in it. They are invariant to a positive rescaling of m,
 * so they take the normalized buffer values directly.
 */

/** ℓ2 rule (normalized GD): D = m / ‖m‖₂ over every tensor passed in jointly. */
export function l2Direction(m: Float64Array[], out: Float64Array[]): void {
  let sq = 0;
  for (const t of m) for (let k = 0; k < t.length; k++) sq += t[k]! * t[k]!;
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  m.forEach((t, l) => {
    const o = out[l]!;
    for (let k = 0; k < t.length; k++) o[k] = t[k]! * inv;
  });
}

/** ℓ∞ rule (signGD / Signum): D = sign(m), with sign(0) = 0. */
export function signDirection(m: Float64Array, out: Float64Array): void {
  for (let k = 0; k < m.length; k++) out[k] = Math.sign(m[k]!);
}

/**
 * Adam without ε: D = m̂ / √v̂ with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t), t counting from 1.
 * m = e^mLog · mHat, √v = e^rLog · rHat (see scaled.ts). A coordinate whose gradient has been
 * exactly 0 so far has r = 0 (and m = 0): ε-free Adam's 0/0, defined as 0 (SPEC §6).
 */
export function adamDirection(
  mHat: Float64Array,
  mLog: number,
  rHat: Float64Array,
  rLog: number,
  biasCorrection1: number,
  biasCorrection2: number,
  out: Float64Array,
): void {
  if (mLog === -Infinity) {
    out.fill(0);
    return;
  }
  const factor = Math.exp(mLog - rLog) * (Math.sqrt(biasCorrection2) / biasCorrection1);
  for (let k = 0; k < mHat.length; k++) {
    const r = rHat[k]!;
    out[k] = r > 0 ? (mHat[k]! / r) * factor : 0;
  }
}

export type PolarMethod = 'exact' | 'svd' | 'newton_schulz';

/** Spectral rule (spectral descent / Muon): D = U Vᵀ of the layer's m [r, c]. */
export function polarDirection(m: Float64Array, r: number, c: number, method: PolarMethod, out: Float64Array): void {
  out.set(
    method === 'newton_schulz' ? polarFactorNewtonSchulz(m, r, c) : polarFactorExact(m, r, c, method === 'svd' ? 'svd' : 'gram').Q,
  );
}

import type * as TF from '@tensorflow/tfjs-core';
import { deviceConstants, disposeConstants, type DeviceConstants } from './device.js';

/**
 * docs/science.md §6 on a TF.js device, where there is no SVD: the polar factor U Vᵀ of each
 * momentum matrix of a batch [P, r, c], by Newton–Schulz-type iterations in float32, all P at once,
 * with a fixed number of steps (no read-back, so a step never waits on the host):
 *
 * 1. X_0 = M / ‖M‖_F per matrix, so every singular value lies in (0, 1].
 * 2. QUINTIC_STEPS steps of Muon's quintic X ← a X + (b A + c A²) X, A = X Xᵀ
 *    (a, b, c = 3.4445, −4.7750, 2.0315): it multiplies small singular values by a ≈ 3.4 per step
 *    and leaves the rest in roughly [0.7, 1.2]. On its own it is NOT U Vᵀ (docs/science.md §6); it
 *    is what `polar: newton_schulz` asks for.
 * 3. (`converged`) CUBIC_STEPS steps of the cubic Newton–Schulz X ← 1.5 X − 0.5 (X Xᵀ) X, which
 *    multiplies a small singular value by 1.5 and converges quadratically to 1 from (0, √3): every
 *    singular value above ~5e-6 ‖M‖_F ends at 1 to float32 precision.
 * 4. CLEANUP_STEPS steps of X ← (2.5 A − 1.5 A²) X, i.e. σ ← 2.5 σ³ − 1.5 σ⁵, which keeps 1 (a
 *    superattracting fixed point) and sends anything below √(2/3) ≈ 0.82 to 0 (σ ↦ 2.5 σ³ near 0).
 *
 * Why the last step: float32 cannot tell a true zero singular value from rounding noise (~1e-7 of
 * ‖M‖_F, e.g. the output layer's momentum, whose rows sum to zero), and steps 2–3 amplify both
 * alike (×3.4⁵ × 1.5^k, up to ~1e5). A rule that stops when the change ‖ΔX‖ stops shrinking ends
 * before a slow, true direction (σ ~ 1e-4) has reached 1; a fixed number of steps brings every
 * direction above the cut to 1 and leaves the noise below ~0.1, and step 4 then rounds each
 * singular value to 0 or 1, as the exact route does with its cutoff.
 *
 * What it does NOT do, unlike the exact host route (src/optimizers/polar.ts), which keeps every
 * singular value down to 1e-10 σ_max: singular values below ~1e-6 ‖M‖_F are dropped (their
 * directions get no step), and those between ~1e-6 and ~5e-6 ‖M‖_F may land on either side.
 * Float32 holds M's direction of singular value σ only to ~6e-8 σ_max/σ, so no float32 route can
 * resolve them much better. Measured against polarFactorExact (scripts/tfjs-polar-accuracy.ts,
 * docs/engines.md): max |ΔQ| ≈ 5–9e-7 on Gaussian matrices up to 784×2048 and on W_1's momentum of
 * a Muon run (width 300), 2e-6 / 2e-5 / 2e-4 with singular values spread from 1 down to
 * 1e-3 / 1e-4 / 1e-5 σ_max, 0.09 down to 1e-6 σ_max (those directions dropped).
 */

const QUINTIC_STEPS = 5;
const CUBIC_STEPS = 18;
const CLEANUP_STEPS = 4;

// X Xᵀ is written matMul(X, transpose(X)), not matMul(X, X, false, true): the wasm backend's
// transposed matMul is several times slower than a transpose plus a plain one.

export type DevicePolarMode = 'converged' | 'quintic';

/** docs/science.md §6: U Vᵀ of every matrix of M [P, r, c] on the device (see above), [P, r, c]; M is not consumed. */
export function devicePolarBatch(tf: typeof TF, k: DeviceConstants, M: TF.Tensor3D, mode: DevicePolarMode): TF.Tensor3D {
  const r = M.shape[1];
  const c = M.shape[2];
  const tall = r > c; // worked on as its transpose [P, c, r]: the Gram matrices then have the smaller side
  const T = (X: TF.Tensor3D) => tf.transpose(X, [0, 2, 1]);
  let X = tf.tidy(() => {
    const A = tall ? T(M) : M;
    return tf.div(A, tf.maximum(tf.sqrt(tf.sum(tf.square(A), [1, 2], true)), k.tiny)) as TF.Tensor3D;
  });
  const step = (f: (X: TF.Tensor3D) => TF.Tensor3D) => {
    const next = tf.tidy(() => f(X));
    X.dispose();
    X = next;
  };
  // X ← (p A + q A²) X + s X with A = X Xᵀ [P, r, r].
  const poly = (s: TF.Scalar | null, p: TF.Scalar, q: TF.Scalar | null) => (X: TF.Tensor3D) => {
    const A = tf.matMul(X, T(X));
    const B = q ? tf.add(tf.mul(A, p), tf.mul(tf.matMul(A, A), q)) : tf.mul(A, p);
    const BX = tf.matMul(B, X);
    return (s ? tf.add(tf.mul(X, s), BX) : BX) as TF.Tensor3D;
  };
  for (let i = 0; i < QUINTIC_STEPS; i++) step(poly(k.nsA, k.nsB, k.nsC));
  if (mode === 'converged') {
    for (let i = 0; i < CUBIC_STEPS; i++) step(poly(k.oneHalf3, k.minusHalf, null));
    for (let i = 0; i < CLEANUP_STEPS; i++) step(poly(null, k.cleanA, k.cleanB));
  }
  if (tall) step(T);
  return X;
}

/**
 * The converged device polar factor of one host matrix M [r, c] as float64 values of the float32
 * result (tests and scripts/tfjs-polar-accuracy.ts; the engine runs devicePolarBatch on its own
 * tensors). M is scaled by its Frobenius norm in float64 first: its entries may be far outside the
 * float32 range.
 */
export function devicePolarFactor(tf: typeof TF, M: Float64Array, r: number, c: number): Float64Array {
  let fro = 0;
  for (let j = 0; j < M.length; j++) fro += M[j]! * M[j]!;
  fro = Math.sqrt(fro);
  if (!(fro > 0)) return new Float64Array(r * c);
  const inv = 1 / fro;
  const k = deviceConstants(tf);
  const input = tf.tensor3d(Float32Array.from(M, (v) => v * inv), [1, r, c]);
  const Q = devicePolarBatch(tf, k, input, 'converged');
  try {
    return Float64Array.from(Q.dataSync());
  } finally {
    tf.dispose([input, Q]);
    disposeConstants(k);
  }
}

/** The exact host route for a batch read back from the device: U Vᵀ of each [r, c] matrix (`polar: svd`). */
export function hostPolarOfBatch(values: ArrayLike<number>, P: number, r: number, c: number, polar: (M: Float64Array, r: number, c: number) => Float64Array): Float32Array {
  const out = new Float32Array(P * r * c);
  for (let p = 0; p < P; p++) out.set(polar(Float64Array.from({ length: r * c }, (_, j) => values[p * r * c + j]!), r, c), p * r * c);
  return out;
}

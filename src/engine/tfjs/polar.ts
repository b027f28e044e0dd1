import type * as TF from '@tensorflow/tfjs-core';
import { transpose } from '../../numerics/linalg.js';

/**
 * docs/science.md §6 on a TF.js device, where there is no SVD: the polar factor U Vᵀ of a large layer's
 * momentum by Newton–Schulz iteration in float32.
 *
 * 1. X_0 = M / ‖M‖_F, so every singular value lies in (0, 1].
 * 2. QUINTIC_STEPS steps of Muon's quintic X ← a X + (b A + c A²) X, A = X Xᵀ
 *    (a, b, c = 3.4445, −4.7750, 2.0315): it multiplies small singular values by up to a ≈ 3.4 per
 *    step and leaves the rest in roughly [0.7, 1.2]. On its own it is NOT U Vᵀ (docs/science.md §6).
 * 3. The cubic Newton–Schulz step X ← 1.5 X − 0.5 (X Xᵀ) X, which converges quadratically to U Vᵀ
 *    for singular values in (0, √3), repeated while its change ‖ΔX‖_F keeps shrinking. ΔX is
 *    0.5 (I − X Xᵀ) X, whose size is the distance of X from a partial isometry on its live
 *    subspace, so the loop stops where float32 stops improving it (or after MAX_CUBIC_STEPS).
 *
 * What it does NOT do, unlike the exact host route (src/optimizers/polar.ts): resolve singular
 * values down to 1e-10 σ_max. Float32 rounds M's direction of singular value σ by ~6e-8 σ_max/σ, and
 * a small σ needs many steps (×3.4 per quintic, ×1.5 per cubic step) while rounding noise in
 * M's null space grows at the same rate, so the loop stops before either reaches 1. Measured against
 * polarFactorExact (docs/engines.md, test/engine/tfjsPolar.test.ts): max |ΔQ| ≈ 4–6e-7 on
 * Gaussian 60×140 and 300×784, 3e-5 with singular values spread down to 1e-3 σ_max, but 0.15
 * (relative Frobenius 0.5) when they reach down to 1e-5 σ_max: those directions are left partly
 * stepped. The momentum of W_1 in a real run (docs/science.md §9 data, width 300, Muon β 0.9, steps 1–200:
 * rank 100, every singular value ≥ 1e-3 σ_max) comes out within 1–3e-5 (relative Frobenius 4–7e-5).
 * The usual Newton–Schulz (5 quintic steps) is off by 2–8e-2 on the Gaussian matrices.
 */

/**
 * Layers whose smaller side is at least this go to the device (on backends with
 * BACKEND_INFO[…].devicePolar); smaller ones take the exact host route, where the r × r
 * eigendecomposition is cheap and exact. Where the device starts to win is measured in
 * docs/engines.md.
 */
export const DEVICE_POLAR_MIN_DIM = 256;

const NS5_A = 3.4445;
const NS5_B = -4.775;
const NS5_C = 2.0315;
const QUINTIC_STEPS = 5;
const MAX_CUBIC_STEPS = 40;

// X Xᵀ is written matMul(X, transpose(X)), not matMul(X, X, false, true): the wasm backend's
// transposed matMul is several times slower than a transpose plus a plain one (src/engine/tfjs/engine.ts).

export interface DevicePolar {
  /** ≈ U Vᵀ of M, [r, c] row-major, float64 values of the float32 result. */
  Q: Float64Array;
  /** Cubic steps taken after the quintic ones. */
  cubicSteps: number;
  /** ‖ΔX‖_F of the last cubic step taken. */
  lastChange: number;
}

/** docs/science.md §6: U Vᵀ of M [r, c] by quintic-then-cubic Newton–Schulz on the TF.js device (see above). */
export function devicePolarFactor(tf: typeof TF, M: Float64Array, r: number, c: number): DevicePolar {
  if (r > c) {
    const t = devicePolarFactor(tf, transpose(M, r, c), c, r);
    return { ...t, Q: transpose(t.Q, c, r) };
  }
  let fro = 0;
  for (let k = 0; k < M.length; k++) fro += M[k]! * M[k]!;
  fro = Math.sqrt(fro);
  if (!(fro > 0)) return { Q: new Float64Array(r * c), cubicSteps: 0, lastChange: 0 };
  // Frobenius in float64 on the host: M's entries may be far outside the float32 range.
  const inv = 1 / fro;
  let X = tf.tensor2d(Float32Array.from(M, (v) => v * inv), [r, c]); // [r, c], r ≤ c
  for (let step = 0; step < QUINTIC_STEPS; step++) {
    const next = tf.tidy(() => {
      const A = tf.matMul(X, tf.transpose(X)); // [r, r]; an explicit transpose (see above)
      const B = tf.add(tf.mul(A, NS5_B), tf.mul(tf.matMul(A, A), NS5_C));
      return tf.add(tf.mul(X, NS5_A), tf.matMul(B, X)) as TF.Tensor2D;
    });
    X.dispose();
    X = next;
  }
  let previous = Infinity;
  let cubicSteps = 0;
  let lastChange = NaN;
  for (; cubicSteps < MAX_CUBIC_STEPS; cubicSteps++) {
    const [delta, size] = tf.tidy(() => {
      const P = tf.matMul(X, tf.transpose(X)); // [r, r]
      const d = tf.mul(tf.sub(X, tf.matMul(P, X)), 0.5) as TF.Tensor2D;
      return [d, tf.norm(d)] as const;
    });
    const change = size.dataSync()[0]!;
    size.dispose();
    if (!(change < previous)) {
      delta.dispose();
      break;
    }
    const next = tf.add(X, delta) as TF.Tensor2D;
    delta.dispose();
    X.dispose();
    X = next;
    previous = change;
    lastChange = change;
  }
  const Q = Float64Array.from(X.dataSync());
  X.dispose();
  return { Q, cubicSteps, lastChange };
}

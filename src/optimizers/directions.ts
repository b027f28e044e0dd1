import type { F64Block, KernelArena } from '../numerics/wasm/kernels.js';
import { polarFactorExact, polarFactorNewtonSchulz, type PolarWorkspace } from './polar.js';

/**
 * docs/science.md §6: the update directions D(m), one pure function per rule. Each is the steepest-descent
 * direction of its norm and a unit step in it. They are invariant to a positive rescaling of m,
 * so they take the normalized buffer values directly. The elementwise rules run in the kernels
 * of the arena that holds their blocks (src/numerics/wasm/kernels.wat).
 */

/** ℓ2 rule (normalized GD): D = m / ‖m‖₂ over every tensor passed in jointly. */
export function l2Direction(arena: KernelArena, m: F64Block[], out: F64Block[]): void {
  const sq = m.reduce((sum, t) => sum + arena.sumSquares(t), 0);
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  m.forEach((t, l) => arena.scaleInto(out[l]!, t, inv));
}

/** ℓ∞ rule (signGD / Signum): D = sign(m), with sign(0) = 0. */
export function signDirection(arena: KernelArena, m: F64Block, out: F64Block): void {
  arena.sign(out, m);
}

/**
 * Adam: D = m̂ / (√v̂ + ε) with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t), t counting from 1.
 * m = e^mLog · mHat, √v = e^rLog · rHat (see scaled.ts). ε = 0 is ε-free Adam (docs/science.md §6):
 * a coordinate whose gradient has been exactly 0 so far has r = 0 (and m = 0), whose 0/0 is
 * defined as 0.
 *
 * ε is absolute, in the units of the true gradient (docs/science.md §11.2): it is compared with
 * √v̂ = e^{rLog}·rHat/√(1 − β2^t), never with the normalized rHat. Both terms of the denominator
 * are brought to the larger of their two log-scales c, D = e^{log m̂ − c} mHat / (a·rHat + b) with
 * a, b ≤ 1, so the result is what m̂/(√v̂ + ε) is in exact arithmetic, rounded, at any loss:
 * where ε dwarfs √v̂ the step is the tiny m̂/ε, not 0/0 or ∞/∞.
 */
export function adamDirection(
  arena: KernelArena,
  mHat: F64Block,
  mLog: number,
  rHat: F64Block,
  rLog: number,
  biasCorrection1: number,
  biasCorrection2: number,
  out: F64Block,
  eps = 0,
): void {
  if (mLog === -Infinity) {
    out.view.fill(0);
    return;
  }
  if (eps === 0) {
    const factor = Math.exp(mLog - rLog) * (Math.sqrt(biasCorrection2) / biasCorrection1);
    arena.adamDiv(out, mHat, rHat, factor);
    return;
  }
  const logM = mLog - Math.log(biasCorrection1); // m̂ = e^logM · mHat
  const logR = rLog - 0.5 * Math.log(biasCorrection2); // √v̂ = e^logR · rHat
  const logE = Math.log(eps);
  const c = Math.max(logR, logE);
  const a = Math.exp(logR - c);
  const b = Math.exp(logE - c);
  const f = Math.exp(logM - c);
  const m = mHat.view;
  const r = rHat.view;
  const d = out.view;
  for (let k = 0; k < d.length; k++) d[k] = (f * m[k]!) / (a * r[k]! + b);
}

export type PolarMethod = 'exact' | 'svd' | 'newton_schulz';

/** Spectral rule (spectral descent / Muon): D = U Vᵀ of the layer's m [r, c], worked out in `workspace`. */
export function polarDirection(m: Float64Array, r: number, c: number, method: PolarMethod, out: Float64Array, workspace: PolarWorkspace): void {
  if (method === 'newton_schulz') out.set(polarFactorNewtonSchulz(m, r, c, workspace));
  else polarFactorExact(m, r, c, method === 'svd' ? 'svd' : 'gram', out, workspace);
}

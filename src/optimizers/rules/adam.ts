import type { F64Block, KernelArena } from '../../numerics/wasm/kernels.js';
import { linf } from './linf.js';
import type { RuleModule } from './rule.js';

/**
 * docs/science.md §12.1 `adam`: the per-coordinate rule m̂/(√v̂ + ε) (ε = `train.adam_eps`, 0 =
 * ε-free Adam), whose implicit-bias norm is ℓ∞ (docs/science.md §1): its norm, dual and lmo (the
 * norm table's) are `linf`'s; its step is not an lmo, so it composes with `aggregate: max` and the
 * `ema` or `none` momentum only. TF.js: the device's `adam` step.
 */
export const adam: RuleModule = {
  name: 'adam',
  summary: 'Adam m̂/(√v̂ + ε), ε = train.adam_eps; norm ℓ∞ (its implicit bias); aggregate max, momentum ema/none',
  build: () => ({ ...linf.build(), id: 'adam', lmoBlock: undefined, adam: true, device: 'adam' }),
};

/**
 * Adam: D = m̂ / (√v̂ + ε) with m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t), t counting from 1.
 * m = e^mLog · mHat, √v = e^rLog · rHat (see ../scaled.ts). ε = 0 is ε-free Adam (docs/science.md §6):
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

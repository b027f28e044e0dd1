import { maxAbsOf, sumAbsOf, type RuleModule } from './rule.js';

/**
 * docs/science.md §12.1 `l1`: N(W) = Σ |W_ij|, dual max |G_ij|, lmo(m) = the largest-|m| coordinate(s)
 * with m's sign, shared equally among ties (the ℓ1 ball's extreme points are ±e_k; a tie's average is
 * still on the face where ⟨m, d⟩ = max|m|). Coordinate descent on one entry per step. TF.js: refused.
 */
export const l1: RuleModule = {
  name: 'l1',
  summary: 'entrywise ℓ1 norm Σ|W_ij|; step on the largest-|m| entry (ties share it)',
  build: () => ({
    id: 'l1',
    text: '‖W‖_1',
    latex: '\\|W\\|_1',
    norm: (w) => sumAbsOf(w),
    dual: (g) => maxAbsOf(g),
    lmo(m, _shape, out) {
      const top = maxAbsOf(m);
      out.fill(0);
      if (top === 0) return;
      let ties = 0;
      for (let k = 0; k < m.length; k++) if (Math.abs(m[k]!) === top) ties++;
      for (let k = 0; k < m.length; k++) if (Math.abs(m[k]!) === top) out[k] = Math.sign(m[k]!) / ties;
    },
    rightRotationInvariant: false,
    device: null,
  }),
};

import { maxAbsOf, sumAbsOf, type RuleModule } from './rule.js';

/**
 * docs/science.md §12.1 `linf`: N(W) = max |W_ij|, dual Σ |G_ij|, lmo(m) = sign(m) (each coordinate
 * at its bound, with the sign of m; sign(0) = 0 changes neither ⟨m, d⟩ nor the bound). signGD and
 * Signum everywhere. TF.js: the device's `sign` step.
 */
export const linf: RuleModule = {
  name: 'linf',
  summary: 'entrywise ℓ∞ norm max|W_ij|; step sign(m) (signGD / Signum)',
  build: () => ({
    id: 'linf',
    text: '‖W‖_∞',
    latex: '\\|W\\|_\\infty',
    norm: (w) => maxAbsOf(w),
    dual: (g) => sumAbsOf(g),
    lmo(m, _shape, out) {
      for (let k = 0; k < m.length; k++) out[k] = Math.sign(m[k]!);
    },
    lmoBlock: (arena, m, out) => arena.sign(out, m),
    rightRotationInvariant: false,
    device: 'sign',
  }),
};

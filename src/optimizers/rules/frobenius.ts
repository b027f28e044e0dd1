import type { F64Block, KernelArena } from '../../numerics/wasm/kernels.js';
import { frobeniusOf, type RuleModule } from './rule.js';

/**
 * docs/science.md §12.1 `frobenius`: N(W) = ‖W‖_F, self-dual, lmo(m) = m/‖m‖_F (Cauchy–Schwarz is
 * tight exactly along m). With ℓ2 aggregation over every layer this is normalized GD (`ngd`).
 * TF.js: the device's `l2` step.
 */
export const frobenius: RuleModule = {
  name: 'frobenius',
  summary: 'Frobenius norm ‖W‖_F; step m/‖m‖_F (normalized GD per layer)',
  build: () => ({
    id: 'frobenius',
    text: '‖W‖_F',
    latex: '\\|W\\|_F',
    norm: (w) => frobeniusOf(w),
    dual: (g) => frobeniusOf(g),
    lmo(m, _shape, out) {
      const n = frobeniusOf(m);
      const inv = n > 0 ? 1 / n : 0;
      for (let k = 0; k < m.length; k++) out[k] = m[k]! * inv;
    },
    lmoBlock: (arena, m, out) => l2Direction(arena, [m], [out]),
    rightRotationInvariant: true,
    riesz: true,
    device: 'l2',
  }),
};

/** ℓ2 over every tensor passed in jointly: D = m / ‖m‖₂ (normalized GD; the kernel's sum of squares). */
export function l2Direction(arena: KernelArena, m: F64Block[], out: F64Block[]): void {
  const sq = m.reduce((sum, t) => sum + arena.sumSquares(t), 0);
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  m.forEach((t, l) => arena.scaleInto(out[l]!, t, inv));
}

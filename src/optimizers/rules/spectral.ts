import { nuclearNormOf, spectralNormOf } from '../../numerics/linalg.js';
import { polarFactorExact, polarFactorNewtonSchulz, PolarWorkspace } from '../polar.js';
import type { PolarMethod, RuleModule, RuleWork } from './rule.js';

/**
 * docs/science.md §12.1 `spectral`: N(W) = σ_max(W), dual the nuclear norm Σ σ_i, lmo(m) = U Vᵀ of
 * m = U Σ Vᵀ (von Neumann's trace inequality is tight at the polar factor). Spectral descent /
 * Muon; `train.polar` picks how U Vᵀ is computed. TF.js: the device's `polar` step.
 */
export const spectral: RuleModule = {
  name: 'spectral',
  summary: 'spectral norm σ_max(W); step U Vᵀ, the polar factor of m (Muon); train.polar applies',
  build: () => ({
    id: 'spectral',
    text: 'σ_max(W)',
    latex: '\\sigma_{\\max}(W)',
    norm: (w, s, gram) => spectralNormOf(w, s.out, s.in, gram),
    dual: (g, s, gram) => nuclearNormOf(g, s.out, s.in, gram),
    lmo: (m, s, out, work) => polarDirection(m, s.out, s.in, work.polar, out, polarWork(work, s)),
    rightRotationInvariant: true,
    device: 'polar',
  }),
};

/** The workspace of `work`, made for this shape when there is none or it is too small. */
export function polarWork(work: RuleWork, shape: { out: number; in: number }): PolarWorkspace {
  const b = work.polarWorkspace?.bounds;
  const fits = b && Math.min(shape.out, shape.in) <= b.short && Math.max(shape.out, shape.in) <= b.long && shape.out * shape.in <= b.area;
  if (!fits) work.polarWorkspace = new PolarWorkspace([shape]);
  return work.polarWorkspace!;
}

/** Spectral rule (spectral descent / Muon): D = U Vᵀ of the layer's m [r, c], worked out in `workspace`. */
export function polarDirection(m: Float64Array, r: number, c: number, method: PolarMethod, out: Float64Array, workspace: PolarWorkspace): void {
  if (method === 'newton_schulz') out.set(polarFactorNewtonSchulz(m, r, c, workspace));
  else polarFactorExact(m, r, c, method === 'svd' ? 'svd' : 'gram', out, workspace);
}

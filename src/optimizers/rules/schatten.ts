import { thinSvd } from '../../numerics/linalg.js';
import type { RuleModule } from './rule.js';

/** ‖σ‖_p of a vector of singular values. */
function pNorm(s: Float64Array, p: number): number {
  const top = Math.max(0, ...s);
  if (top === 0) return 0;
  let sum = 0;
  for (const v of s) sum += (v / top) ** p;
  return top * sum ** (1 / p);
}

/**
 * docs/science.md §12.1 `{ schatten: p }`, 1 < p < ∞: N(W) = ‖σ(W)‖_p, dual ‖σ‖_q with 1/p + 1/q = 1,
 * lmo(m) = U diag(σ^{q−1}) Vᵀ / ‖σ‖_q^{q−1} (von Neumann reduces it to Hölder on the singular values,
 * tight at σ_i^{q−1}). p = 2 is Frobenius, p → ∞ spectral. One SVD per step. TF.js: refused.
 */
export const schatten: RuleModule = {
  name: 'schatten',
  summary: 'Schatten-p norm ‖σ(W)‖_p, 1 < p < ∞; step U diag(σ^{q−1}) Vᵀ/‖σ‖_q^{q−1}, 1/p + 1/q = 1',
  param: {
    meaning: 'p, with 1 < p < ∞',
    check: (v) => (typeof v === 'number' && Number.isFinite(v) && v > 1 ? null : `expected p > 1 (finite; use spectral for p = ∞), found ${JSON.stringify(v)}`),
  },
  build(p = 2) {
    const q = p / (p - 1);
    return {
      id: `schatten${p}`,
      text: `‖W‖_S${p}`,
      latex: `\\|W\\|_{S_{${p}}}`,
      norm: (w, s) => pNorm(thinSvd(w, s.out, s.in).s, p),
      dual: (g, s) => pNorm(thinSvd(g, s.out, s.in).s, q),
      lmo(m, s, out) {
        const { U, s: sig, V, k } = thinSvd(m, s.out, s.in);
        const top = Math.max(0, ...sig);
        out.fill(0);
        if (top === 0) return;
        // Scale-free: σ/σ_max keeps σ^{q−1} in range.
        const w = sig.map((v) => (v / top) ** (q - 1));
        const norm = pNorm(sig.map((v) => v / top), q) ** (q - 1);
        const c = s.in;
        for (let j = 0; j < k; j++) {
          const f = w[j]! / norm;
          if (f === 0) continue;
          for (let i = 0; i < s.out; i++) {
            const u = U[i * k + j]! * f;
            for (let t = 0; t < c; t++) out[i * c + t]! += u * V[t * k + j]!;
          }
        }
      },
      rightRotationInvariant: true,
      device: null,
    };
  },
};

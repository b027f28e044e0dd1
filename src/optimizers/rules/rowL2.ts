import type { LayerShape } from '../../model/mlp.js';
import type { RuleModule } from './rule.js';

/** ‖row i‖₂ (byRow) or ‖column j‖₂ of a row-major [out, in] matrix, one per line. */
export function lineNorms(w: Float64Array, shape: LayerShape, byRow: boolean): Float64Array {
  const { out: r, in: c } = shape;
  const sq = new Float64Array(byRow ? r : c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) sq[byRow ? i : j]! += w[i * c + j]! ** 2;
  return sq.map(Math.sqrt);
}

/**
 * The ℓ2→ℓ∞ (rows) or ℓ1→ℓ2 (columns) operator norm: N(W) = max over lines of the line's ℓ2 norm
 * (‖Wx‖_∞ over ‖x‖₂ ≤ 1 is the largest row norm; ‖Wx‖₂ over ‖x‖₁ ≤ 1 the largest column norm, at a
 * vertex ±e_j), dual Σ over lines of the ℓ2 norm (a max of ℓ2 norms of disjoint blocks), lmo = each
 * line of m normalized (each block's own Cauchy–Schwarz), a zero line left 0.
 */
export function lineRule(byRow: boolean): RuleModule {
  const name = byRow ? 'row_l2' : 'col_l2';
  return {
    name,
    summary: byRow
      ? 'ℓ2→ℓ∞ operator norm max_i ‖W_i,:‖₂; step normalizes each row of m'
      : 'ℓ1→ℓ2 operator norm max_j ‖W_:,j‖₂; step normalizes each column of m',
    build: () => ({
      id: name,
      text: byRow ? '‖W‖_{2→∞}' : '‖W‖_{1→2}',
      latex: byRow ? '\\|W\\|_{2\\to\\infty}' : '\\|W\\|_{1\\to 2}',
      norm: (w, shape) => Math.max(0, ...lineNorms(w, shape, byRow)),
      dual: (g, shape) => lineNorms(g, shape, byRow).reduce((s, v) => s + v, 0),
      lmo(m, shape, out) {
        const norms = lineNorms(m, shape, byRow);
        const c = shape.in;
        for (let k = 0; k < m.length; k++) {
          const n = norms[byRow ? Math.floor(k / c) : k % c]!;
          out[k] = n > 0 ? m[k]! / n : 0;
        }
      },
      // Rows keep their norms under W ↦ W Q (orthonormal columns of Q); columns do not.
      rightRotationInvariant: byRow,
      device: null,
    }),
  };
}

/** docs/science.md §12.1 `row_l2`: the ℓ2→ℓ∞ operator norm. TF.js: refused. */
export const rowL2 = lineRule(true);

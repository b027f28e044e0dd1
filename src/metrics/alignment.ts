import type { LayerShape, Params } from '../model/mlp.js';
import type { GramWorkspace } from '../numerics/linalg.js';
import { dualNormOf, l2Norm, NORM_NAMES, type NormName } from './norms.js';

/**
 * The theorem's own test (docs/science.md §8.2): is θ at a KKT point of min N(θ) s.t. q_i(θ) ≥ 1?
 *
 * At a KKT point some non-negative combination v = Σ λ_i ∇q_i lies in the subdifferential of N at
 * θ, i.e. ⟨v, θ⟩ = N*(v) · N(θ) (Hölder with equality). The negative loss gradient g = −∇L is such a
 * combination whose weights concentrate on the minimum-margin samples as the loss falls, so
 *
 *   align_N(θ) = ⟨g, θ⟩ / (N*(g) · N(θ)) ∈ [−1, 1]
 *
 * is 1 exactly when g is in the normal cone of N's ball at θ, and tends to 1 along a run whose
 * direction converges to a KKT point for N (N* the dual norm, docs/science.md §5). By Euler's identity
 * ⟨g, θ⟩ = (D/n) Σ_i Σ_{j≠y_i} p_ij (f_{y_i} − f_j), positive once every sample is classified.
 *
 * It is invariant to rescaling g and θ, so the engine's scale-free direction G (gradient e^s · G,
 * max|G| = 1, docs/science.md §4) gives it exactly at any loss: align_N = ⟨−G, θ⟩ / (N*(G) · N(θ)).
 */

/**
 * docs/science.md §5 dual norms of one gradient for all four norms at once. The dual of a max over layers is
 * the sum of the layer duals, so each layer's nuclear norm (one SVD: the expensive part, tens of
 * ms for W_1 [50, 784]) is computed once and shared by `spectral` and `hybrid`. Each layer's dual
 * comes from `dualNormOf` on that layer alone; a test checks the sums against `dualNormOf` on θ.
 * `gram`: a workspace sized for the layers, for the SVDs' QRs (a one-off one per SVD without it).
 */
export function allDualNorms(g: Params, shapes: LayerShape[], isMuon: boolean[], ratio = 1, gram?: GramWorkspace): Record<NormName, number> {
  let linf = 0;
  let spectral = 0;
  let hybrid = 0;
  for (let l = 0; l < g.length; l++) {
    const layer = [g[l]!];
    const shape = [shapes[l]!];
    const l1 = dualNormOf('linf', layer, shape, [false]); // Σ |entries|
    const nuclear = dualNormOf('spectral', layer, shape, [true], 1, gram); // Σ σ_i
    linf += l1;
    spectral += nuclear;
    hybrid += isMuon[l] ? nuclear / ratio : l1; // N_ρ's dual (docs/science.md §11.1)
  }
  return { l2: l2Norm(g), linf, spectral, hybrid };
}

/** ⟨a, b⟩ over all layers. */
export function innerProduct(a: Params, b: Params): number {
  let dot = 0;
  for (let l = 0; l < a.length; l++) {
    const x = a[l]!;
    const y = b[l]!;
    for (let k = 0; k < x.length; k++) dot += x[k]! * y[k]!;
  }
  return dot;
}

/** align_N = ⟨g, θ⟩ / (N*(g) · N(θ)); NaN where g or θ is 0 (no direction to compare). */
export function kktAlignment(dot: number, dualOfG: number, normOfTheta: number): number {
  const denom = dualOfG * normOfTheta;
  return denom > 0 ? dot / denom : NaN;
}

/**
 * align_N for the four norms at θ (`hybrid`: N_ρ with ρ = `ratio`, docs/science.md §11.1), given the gradient direction G (∇L ∝ G, any positive scale) and
 * the norms of θ already computed for the margins. g = −G, so ⟨g, θ⟩ = −⟨G, θ⟩ and N*(g) = N*(G).
 * `grad` null (not evaluated) or a zero gradient gives NaN for every norm.
 */
export function kktAlignments(
  grad: Params | null,
  params: Params,
  shapes: LayerShape[],
  isMuon: boolean[],
  norms: Readonly<Record<NormName, number>>,
  ratio = 1,
  gram?: GramWorkspace,
): Record<NormName, number> {
  const out = { l2: NaN, linf: NaN, spectral: NaN, hybrid: NaN };
  if (grad === null) return out;
  const dual = allDualNorms(grad, shapes, isMuon, ratio, gram);
  const dot = -innerProduct(grad, params);
  for (const name of NORM_NAMES) out[name] = kktAlignment(dot, dual[name], norms[name]);
  return out;
}

/**
 * Angle in radians between two unit vectors, as 2·asin(‖u − v‖/2): accurate for the tiny angles
 * of a settled direction, where acos(⟨u, v⟩) loses everything below ~1e-8 rad to rounding.
 */
export function angleBetweenUnit(u: Float64Array, v: Float64Array): number {
  let sq = 0;
  for (let k = 0; k < u.length; k++) {
    const d = u[k]! - v[k]!;
    sq += d * d;
  }
  return 2 * Math.asin(Math.min(1, Math.sqrt(sq) / 2));
}

import type { LayerShape, Params } from '../model/mlp.js';
import { GramWorkspace, nuclearNormOf, spectralNormOf } from '../numerics/linalg.js';

import type { NormName } from '../optimizers/families.js';

export { NORM_NAMES, type NormName } from '../optimizers/families.js';

/**
 * docs/science.md §5: Muon layers default to every layer but the output layer; a one-layer model's
 * single layer is its input layer too, and is the Muon layer by default (docs/science.md §3.1).
 */
export function resolveMuonLayers(muonLayers: readonly number[] | null, depth: number): boolean[] {
  const isMuon = new Array<boolean>(depth).fill(false);
  if (muonLayers === null) for (let l = 0; l < Math.max(1, depth - 1); l++) isMuon[l] = true;
  else for (const l of muonLayers) isMuon[l] = true;
  return isMuon;
}

function maxAbs(w: Float64Array): number {
  let m = 0;
  for (let k = 0; k < w.length; k++) {
    const a = Math.abs(w[k]!);
    if (a > m) m = a;
  }
  return m;
}

function sumAbs(w: Float64Array): number {
  let s = 0;
  for (let k = 0; k < w.length; k++) s += Math.abs(w[k]!);
  return s;
}

/** docs/science.md §5 `l2`: Euclidean norm of all parameters flattened together. */
export function l2Norm(params: Params): number {
  let sq = 0;
  for (const w of params) for (let k = 0; k < w.length; k++) sq += w[k]! * w[k]!;
  return Math.sqrt(sq);
}

/** docs/science.md §5 `linf`: largest |entry| of any layer. */
export function linfNorm(params: Params): number {
  return Math.max(...params.map(maxAbs));
}

// σ_max needs a Gram matrix in a kernel arena: `gram` is one sized for the layers (a caller that
// asks often, like the training loop, holds one); without it, each call sets one up.

/** docs/science.md §5 `spectral`: max over layers of σ_max(W_l). */
export function spectralNorm(params: Params, shapes: LayerShape[], gram = new GramWorkspace(shapes)): number {
  return Math.max(...params.map((w, l) => spectralNormOf(w, shapes[l]!.out, shapes[l]!.in, gram)));
}

/**
 * docs/science.md §5 `hybrid`: max(max over Muon layers of σ_max, max over the others of max|W_l|);
 * with ρ = `ratio` ≠ 1 the weighted N_ρ = max(ρ · max over Muon layers of σ_max, max over the others
 * of max|W_l|) of docs/science.md §11.1.
 */
export function hybridNorm(params: Params, shapes: LayerShape[], isMuon: boolean[], gram = new GramWorkspace(shapes), ratio = 1): number {
  return Math.max(
    ...params.map((w, l) => (isMuon[l] ? ratio * spectralNormOf(w, shapes[l]!.out, shapes[l]!.in, gram) : maxAbs(w))),
  );
}

/** docs/science.md §5: all four norms of θ; `hybrid` is N_ρ with ρ = `ratio` (docs/science.md §11.1). */
export function allNorms(params: Params, shapes: LayerShape[], isMuon: boolean[], gram = new GramWorkspace(shapes), ratio = 1): Record<NormName, number> {
  const sigma = params.map((w, l) => spectralNormOf(w, shapes[l]!.out, shapes[l]!.in, gram));
  const linf = params.map(maxAbs);
  return {
    l2: l2Norm(params),
    linf: Math.max(...linf),
    spectral: Math.max(...sigma),
    hybrid: Math.max(...params.map((_, l) => (isMuon[l] ? ratio * sigma[l]! : linf[l]!))),
  };
}

/** docs/science.md §5: the norm N(θ) by name (`hybrid`: N_ρ, ρ = `ratio`, docs/science.md §11.1). */
export function normOf(name: NormName, params: Params, shapes: LayerShape[], isMuon: boolean[], gram?: GramWorkspace, ratio = 1): number {
  switch (name) {
    case 'l2':
      return l2Norm(params);
    case 'linf':
      return linfNorm(params);
    case 'spectral':
      return spectralNorm(params, shapes, gram);
    case 'hybrid':
      return hybridNorm(params, shapes, isMuon, gram, ratio);
  }
}

/**
 * docs/science.md §5 dual norms: ℓ2 → ℓ2; ℓ∞ → ℓ1; spectral → Σ_l ‖W_l‖_* (nuclear); hybrid → Σ nuclear over
 * Muon layers + Σ ℓ1 over the others. The dual of a max over layers is the sum of the layer duals.
 * N_ρ's dual (docs/science.md §11.1, ρ = `ratio`): Σ nuclear over Muon layers / ρ + Σ ℓ1 over the others.
 */
export function dualNormOf(name: NormName, params: Params, shapes: LayerShape[], isMuon: boolean[], ratio = 1, gram?: GramWorkspace): number {
  const nuclear = (l: number) => nuclearNormOf(params[l]!, shapes[l]!.out, shapes[l]!.in, gram);
  let total = 0;
  switch (name) {
    case 'l2':
      return l2Norm(params);
    case 'linf':
      for (const w of params) total += sumAbs(w);
      return total;
    case 'spectral':
      for (let l = 0; l < params.length; l++) total += nuclear(l);
      return total;
    case 'hybrid':
      for (let l = 0; l < params.length; l++) total += isMuon[l] ? nuclear(l) / ratio : sumAbs(params[l]!);
      return total;
  }
}

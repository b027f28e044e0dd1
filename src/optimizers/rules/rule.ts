import type { LayerShape } from '../../model/mlp.js';
import type { GramWorkspace } from '../../numerics/linalg.js';
import type { F64Block, KernelArena } from '../../numerics/wasm/kernels.js';
import type { PolarWorkspace } from '../polar.js';

/**
 * What a per-layer rule is (docs/science.md §12): a norm N_l on one weight matrix, its dual N_l*,
 * and the steepest unit step lmo_l(m) = argmax { ⟨m, d⟩ : N_l(d) ≤ 1 }, so that
 * ⟨m, lmo_l(m)⟩ = N_l*(m) and N_l(lmo_l(m)) = 1 (m ≠ 0). Each rule lives in one file of this folder,
 * its float64 implementation beside what the TF.js engine does for it, and is registered by one
 * line of the table in ./index.ts.
 */

export type PolarMethod = 'exact' | 'svd' | 'newton_schulz';

/** What a rule's lmo may use: the polar method and a workspace sized for the layers (made on demand). */
export interface RuleWork {
  polar: PolarMethod;
  /** The polar layers' shared workspace (sized for the largest); null until a rule asks (`polarWork`). */
  polarWorkspace: PolarWorkspace | null;
  gram?: GramWorkspace;
}

/** How the TF.js engine runs a rule on its device: one of the device's step kinds (src/engine/tfjs/deviceRuns.ts), or null: refused. */
export type DeviceRule = 'l2' | 'sign' | 'adam' | 'polar' | null;

export interface LayerRule {
  /** The rule as a config writes it, canonical: `spectral`, `{ schatten: 4 }` → `schatten4`. */
  readonly id: string;
  /** Its norm in words and in LaTeX, e.g. `‖W‖_S4`, `\|W\|_{S_4}`. */
  readonly text: string;
  readonly latex: string;
  /** N_l(W) of a row-major [out, in] matrix. */
  norm(w: Float64Array, shape: LayerShape, gram?: GramWorkspace): number;
  /** N_l*(G). */
  dual(g: Float64Array, shape: LayerShape, gram?: GramWorkspace): number;
  /** lmo_l(m) into `out` (0 where m = 0); invariant to rescaling m by c > 0. */
  lmo(m: Float64Array, shape: LayerShape, out: Float64Array, work: RuleWork): void;
  /** The same step on blocks of a kernel arena, where a rule has a kernel for it (the training loop's path). */
  lmoBlock?(arena: KernelArena, m: F64Block, out: F64Block, shape: LayerShape, work: RuleWork): void;
  /**
   * lmo(M Qᵀ) = lmo(M) Qᵀ and N*(M Qᵀ) = N*(M) for every Q with orthonormal columns: the first
   * layer may train in the data's span (docs/science.md §6.4).
   */
  readonly rightRotationInvariant: boolean;
  /** N*(m) · lmo(m) = m (Frobenius only): an ℓ2 aggregation then scales m itself (docs/science.md §12.2). */
  readonly riesz?: boolean;
  /** Adam: the step is m̂/(√v̂ + ε), not lmo(m); the norm and dual are ℓ∞'s (docs/science.md §12.1). */
  readonly adam?: boolean;
  /** The TF.js engine's step kind for this rule. */
  readonly device: DeviceRule;
}

/** One file's export: a rule's name as configs write it, a one-line description, and how to build it from its parameter. */
export interface RuleModule {
  readonly name: string;
  readonly summary: string;
  /** A parameter (`{ schatten: 4 }`): its meaning, and the check that gives an error message or null. */
  readonly param?: { readonly meaning: string; check(value: unknown): string | null };
  build(param?: number): LayerRule;
}

/** max |w_k|. */
export function maxAbsOf(w: Float64Array): number {
  let m = 0;
  for (let k = 0; k < w.length; k++) m = Math.max(m, Math.abs(w[k]!));
  return m;
}

/** Σ |w_k|. */
export function sumAbsOf(w: Float64Array): number {
  let s = 0;
  for (let k = 0; k < w.length; k++) s += Math.abs(w[k]!);
  return s;
}

/** √Σ w_k². */
export function frobeniusOf(w: Float64Array): number {
  let s = 0;
  for (let k = 0; k < w.length; k++) s += w[k]! * w[k]!;
  return Math.sqrt(s);
}

import type { Config } from '../config/types.js';
import type { Engine } from '../engine/types.js';
import type { LayerShape, Params } from '../model/mlp.js';
import type { DataSpan } from '../numerics/dataSpan.js';
import { f64s, i32s, KernelArena } from '../numerics/wasm/kernels.js';
import { runComposition } from '../metrics/normTable.js';
import type { RunSpec } from '../results/runs.js';

/**
 * Where a run's first layer trains: `full`, W_1 [m, d] itself; `span`, the coordinates K = W_1 Q
 * [m, r] in the data's row space (src/numerics/dataSpan.ts), which the engine then evaluates on
 * X Q. The two are the same run in exact arithmetic; only rounding differs.
 */
export type FirstLayerPath = 'full' | 'span';

/**
 * The coordinates one run trains in, and the way back to θ. The engine and the optimizer see
 * `shapes` and the parameters that start at `start`; margins, norms, alignments, cos_to_last and
 * the saved weights are of θ = toFull(params), and the alignments of the gradient gradToFull(G).
 * Inner products and ℓ2 norms are the same in both coordinates (Q has orthonormal columns), so
 * the optimizer's cos_m_g and the ⟨G, D⟩ of the loss-based schedule need no mapping.
 */
export interface Parametrization {
  readonly path: FirstLayerPath;
  readonly shapes: LayerShape[];
  /** θ_0 in these coordinates (a fresh copy). */
  readonly start: Params;
  /** θ from the trained coordinates; layers after the first are `params`' own arrays, the first is overwritten by the next call. */
  toFull(params: Params): Params;
  /** The gradient of θ from the coordinates' gradient, under the same sharing rules. */
  gradToFull(grad: Params): Params;
}

/** θ itself: the identity both ways. */
export function fullParametrization(shapes: LayerShape[], init: Params): Parametrization {
  return { path: 'full', shapes, start: init.map((w) => w.slice()), toFull: (p) => p, gradToFull: (g) => g };
}

/**
 * docs/science.md §6.4: whether a run's first-layer step commutes with W_1 ↦ W_1 Q, so that it may train in the data's
 * span: a rule whose lmo and dual norm are invariant under a right rotation (LayerRule.rightRotationInvariant):
 * Frobenius (ngd: a linear function of the momentum, normalized by a norm Q preserves), the polar
 * rule (U Vᵀ of M Qᵀ is U Vᵀ of M, times Qᵀ, for the exact factor and for Newton–Schulz alike),
 * Schatten-p and row_l2. Element-wise rules (sign, Adam, ℓ1) and col_l2 do not commute with a rotation.
 */
export function spanRuleApplies(config: Readonly<Config>, spec: RunSpec, depth: number): boolean {
  return runComposition(config, spec.optimizer, depth).rules[0]!.rightRotationInvariant;
}

/** The path a run takes: `span` where its first-layer rule allows it and the engine offers the data's span (it pays there), else `full`. */
export function firstLayerPath(config: Readonly<Config>, spec: RunSpec, depth: number, engine: Engine): FirstLayerPath {
  return spanRuleApplies(config, spec, depth) && engine.inDataSpan?.() ? 'span' : 'full';
}

/**
 * The first layer as K = W_1 Q [m, r]: start K(0) = W_1(0) Q, and back W_1 = W_1(0) + (K − K(0)) Qᵀ
 * (which is W_1(0) exactly at the start, and on the pixels dark in every image for ever), ∂W_1 = ∂K Qᵀ.
 * The products run over the live pixels only, in a kernel arena of the parametrization's own.
 */
export function spanParametrization(span: DataSpan, shapes: LayerShape[], init: Params): Parametrization {
  const { r, d, livePixels } = span;
  const m = shapes[0]!.out;
  if (shapes[0]!.in !== d) throw new Error(`the data's span is of ${d} pixels, the first layer takes ${shapes[0]!.in}`);
  const p = livePixels.length;
  const { arena, blocks: b } = KernelArena.create({
    QT: f64s(r * p), // Qᵀ over the live pixels [r, p]
    Q: f64s(p * r), // Q over the live pixels [p, r]
    W0: f64s(m * p), // W_1(0) over the live pixels [m, p]
    K0: f64s(m * r), // K(0) = W_1(0) Q [m, r]
    C: f64s(m * r), // K − K(0), or ∂K [m, r]
    prod: f64s(m * p), // C Qᵀ over the live pixels [m, p]
    iota: i32s(Math.max(r, p)),
  });
  b.iota.view.forEach((_, j, iota) => (iota[j] = j));
  const W0 = init[0]!.slice();
  for (let k = 0; k < r; k++) {
    for (let a = 0; a < p; a++) {
      const q = span.QT[k * d + livePixels[a]!]!;
      b.QT.view[k * p + a] = q;
      b.Q.view[a * r + k] = q;
    }
  }
  for (let i = 0; i < m; i++) for (let a = 0; a < p; a++) b.W0.view[i * p + a] = W0[i * d + livePixels[a]!]!;
  // K(0) = W_1(0) Q: row i is Σ_a W_1(0)[i, a] Q[a, :]
  arena.rowCombine(b.K0, r, b.Q, b.W0, b.iota, m, p);
  const K0 = b.K0.view.slice();
  const theta = new Float64Array(m * d); // W_1 handed out
  const gradient = new Float64Array(m * d); // ∂W_1 handed out

  /** into = base + C Qᵀ over the live pixels (base elsewhere; 0 without one), C already in b.C. */
  const lift = (into: Float64Array, base: Float64Array | null): Float64Array => {
    arena.rowCombine(b.prod, p, b.QT, b.C, b.iota, m, r);
    if (base) into.set(base);
    else into.fill(0);
    const prod = b.prod.view;
    for (let i = 0; i < m; i++) for (let a = 0; a < p; a++) into[i * d + livePixels[a]!]! += prod[i * p + a]!;
    return into;
  };

  return {
    path: 'span',
    shapes: [{ out: m, in: r }, ...shapes.slice(1)],
    start: [K0.slice(), ...init.slice(1).map((w) => w.slice())],
    toFull(params) {
      const K = params[0]!;
      const C = b.C.view;
      for (let k = 0; k < m * r; k++) C[k] = K[k]! - K0[k]!;
      return [lift(theta, W0), ...params.slice(1)];
    },
    gradToFull(grad) {
      b.C.view.set(grad[0]!);
      return [lift(gradient, null), ...grad.slice(1)];
    },
  };
}

import { AGGREGATES, MOMENTA, OPTIMIZER_NAMES } from '../config/schema.js';
import type { OptimizerName } from '../config/types.js';
import type { LayerShape, Params } from '../model/mlp.js';
import type { GramWorkspace } from '../numerics/linalg.js';
import { parseRule, RULES, type LayerRule, type PolarMethod, type RuleWork } from './rules/index.js';

/**
 * docs/science.md §12: an optimizer as a composition — a rule N_l per layer, a rate ρ_l per layer, an
 * aggregation over layers and a momentum rule — and the composite norm it implies, with that norm's
 * dual and lmo. The six named optimizers are presets of it (`presetComposition`).
 */

export { AGGREGATES, MOMENTA };
export type Aggregate = (typeof AGGREGATES)[number];
export type Momentum = (typeof MOMENTA)[number];
/** The four norms every run logs (docs/science.md §5); a composed name may not be one of them. */
export const STANDARD_NORM_NAMES = ['l2', 'linf', 'spectral', 'hybrid'] as const;

/** A composition as a config writes it (an entry of `train.optimizers` or `log.norms`). */
export interface CompositionSpec {
  name: string;
  layers: Record<string, unknown>;
  aggregate?: Aggregate;
  rates?: Record<string, unknown>;
  momentum?: Momentum;
  lion_beta2?: number;
}

/** A composition resolved for a network of `rules.length` layers. */
export interface Composition {
  name: string;
  rules: LayerRule[];
  /** ρ_l > 0: layer l's step is ρ_l times its rule's unit step; its norm counts N_l/ρ_l. */
  rates: number[];
  aggregate: Aggregate;
  momentum: Momentum;
  /** Lion's buffer decay β2 (momentum `lion` only). */
  lionBeta2: number;
  /** The preset it is, or null for a composed optimizer. */
  preset: OptimizerName | null;
}

/** A bad composition: the key under the entry (`layers.hidden`) and what is wrong. */
export class CompositionError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * docs/science.md §12.3 layer selectors for a network of `depth` layers (0-based): `all`, `hidden`
 * (every layer but the output, the default Muon layers), `input` (layer 0), `output` (the last),
 * or a layer index. null for anything else.
 */
export function selectLayers(selector: string, depth: number): number[] | null {
  const every = Array.from({ length: depth }, (_, l) => l);
  switch (selector) {
    case 'all':
      return every;
    case 'hidden':
      return every.slice(0, -1);
    case 'input':
      return [0];
    case 'output':
      return [depth - 1];
  }
  if (!/^\d+$/.test(selector)) return null;
  const l = Number(selector);
  return l < depth ? [l] : null;
}

const SELECTORS = 'all, hidden, output, input or a 0-based layer index';

/** Each selector of `map` to its layers; a layer named twice is an error (`what`: layers/rates). */
function assign<T>(map: Record<string, T>, depth: number, what: string): Map<number, { key: string; value: T }> {
  const out = new Map<number, { key: string; value: T }>();
  for (const [key, value] of Object.entries(map)) {
    const layers = selectLayers(key, depth);
    if (!layers) throw new CompositionError(`${what}.${key}`, `unknown layer selector "${key}", expected ${SELECTORS} (below depth ${depth})`);
    for (const l of layers) {
      const prior = out.get(l);
      if (prior) throw new CompositionError(`${what}.${key}`, `layer ${l} is also given by ${what}.${prior.key}; cover each layer exactly once`);
      out.set(l, { key, value });
    }
  }
  return out;
}

/** docs/science.md §12: a config's composition resolved for `depth` layers; throws CompositionError naming the key. */
export function resolveComposition(spec: CompositionSpec, depth: number): Composition {
  if ((OPTIMIZER_NAMES as readonly string[]).includes(spec.name) || (STANDARD_NORM_NAMES as readonly string[]).includes(spec.name)) {
    throw new CompositionError('name', `"${spec.name}" is a preset or standard norm name; give the composition its own name`);
  }
  const byLayer = assign(spec.layers, depth, 'layers');
  const rules: LayerRule[] = [];
  for (let l = 0; l < depth; l++) {
    const entry = byLayer.get(l);
    if (!entry) throw new CompositionError('layers', `layer ${l} has no rule; cover each of the ${depth} layers exactly once (${SELECTORS})`);
    const rule = parseRule(entry.value);
    if (typeof rule === 'string') throw new CompositionError(`layers.${entry.key}`, rule);
    rules.push(rule);
  }
  const rates = new Array<number>(depth).fill(1);
  for (const [l, { key, value }] of assign(spec.rates ?? {}, depth, 'rates')) {
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new CompositionError(`rates.${key}`, `expected a rate > 0, found ${JSON.stringify(value)}`);
    rates[l] = value;
  }
  const aggregate = spec.aggregate ?? 'max';
  const momentum = spec.momentum ?? 'ema';
  const adamAt = rules.findIndex((r) => r.adam);
  if (adamAt >= 0 && aggregate !== 'max') throw new CompositionError('aggregate', `the adam rule (layer ${adamAt}) is not an lmo and composes with aggregate max only, found ${aggregate}`);
  if (adamAt >= 0 && momentum !== 'ema' && momentum !== 'none') throw new CompositionError('momentum', `the adam rule (layer ${adamAt}) keeps its own moments: momentum ema or none, found ${momentum}`);
  if (spec.lion_beta2 !== undefined && momentum !== 'lion') throw new CompositionError('lion_beta2', 'only with momentum lion');
  return { name: spec.name, rules, rates, aggregate, momentum, lionBeta2: spec.lion_beta2 ?? 0.99, preset: null };
}

/**
 * docs/science.md §12.4: the six named optimizers as compositions, for `depth` layers with Muon
 * layers `isMuon` and the hybrids' ratio ρ (`train.lr.hybrid_ratio`, on the non-Muon layers).
 */
export function presetComposition(name: OptimizerName, isMuon: readonly boolean[], rho = 1): Composition {
  const rule = (n: string) => RULES[n]!.build();
  const all = (n: string) => isMuon.map(() => rule(n));
  const hybrid = (other: string) => isMuon.map((m) => rule(m ? 'spectral' : other));
  const hybridRates = isMuon.map((m) => (m ? 1 : rho));
  const ones = isMuon.map(() => 1);
  const make = (rules: LayerRule[], aggregate: Aggregate, rates = ones): Composition => ({ name, rules, rates, aggregate, momentum: 'ema', lionBeta2: 0.99, preset: name });
  switch (name) {
    case 'ngd':
      return make(all('frobenius'), 'l2');
    case 'signum':
      return make(all('linf'), 'max');
    case 'adam':
      return make(all('adam'), 'max');
    case 'muon':
      return make(all('spectral'), 'max');
    case 'muon_signum':
      return make(hybrid('linf'), 'max', hybridRates);
    case 'muon_adam':
      return make(hybrid('adam'), 'max', hybridRates);
  }
}

/** Each layer's N_l(W_l)/ρ_l. */
function scaledLayerNorms(c: Composition, params: Params, shapes: readonly LayerShape[], gram?: GramWorkspace): number[] {
  return params.map((w, l) => c.rules[l]!.norm(w, shapes[l]!, gram) / c.rates[l]!);
}

/** Each layer's ρ_l N_l*(G_l). */
function scaledLayerDuals(c: Composition, g: Params, shapes: readonly LayerShape[], gram?: GramWorkspace): number[] {
  return g.map((x, l) => c.rates[l]! * c.rules[l]!.dual(x, shapes[l]!, gram));
}

/** docs/science.md §12.2: N(θ) = max_l, √Σ_l (·)² or Σ_l of N_l(W_l)/ρ_l. */
export function compositeNorm(c: Composition, params: Params, shapes: readonly LayerShape[], gram?: GramWorkspace): number {
  return aggregateOf(c.aggregate, scaledLayerNorms(c, params, shapes, gram));
}

/** docs/science.md §12.2: N*(G) = Σ_l, √Σ_l (·)² or max_l of ρ_l N_l*(G_l) (the dual aggregation of max, ℓ2, sum). */
export function compositeDual(c: Composition, g: Params, shapes: readonly LayerShape[], gram?: GramWorkspace): number {
  return aggregateOf(dualAggregate(c.aggregate), scaledLayerDuals(c, g, shapes, gram));
}

/** The aggregation of the dual norm: max ↔ sum, ℓ2 ↔ ℓ2. */
export function dualAggregate(a: Aggregate): Aggregate {
  return a === 'max' ? 'sum' : a === 'sum' ? 'max' : 'l2';
}

export function aggregateOf(a: Aggregate, xs: readonly number[]): number {
  if (a === 'max') return Math.max(...xs);
  if (a === 'sum') return xs.reduce((s, x) => s + x, 0);
  // √Σ x², scaled by the largest so that squares neither overflow nor underflow
  const top = Math.max(...xs.map(Math.abs));
  if (top === 0 || !Number.isFinite(top)) return top;
  return top * Math.sqrt(xs.reduce((s, x) => s + (x / top) ** 2, 0));
}

/**
 * docs/science.md §12.2: the weight w_l of each layer's unit step in the composite lmo,
 * D_l = ρ_l · w_l · lmo_l(m_l), from d_l = ρ_l N_l*(m_l): max, w_l = 1 (every layer independently);
 * ℓ2, w_l = d_l/√Σ_k d_k²; sum, w_l = 1/k on the k layers with the largest d_l, 0 elsewhere.
 */
export function aggregateWeights(a: Aggregate, d: readonly number[]): number[] {
  if (a === 'max') return d.map(() => 1);
  if (a === 'l2') {
    const total = aggregateOf('l2', d);
    return d.map((x) => (total > 0 ? x / total : 0));
  }
  const top = Math.max(...d);
  const ties = d.filter((x) => x === top).length;
  return d.map((x) => (top > 0 && x === top ? 1 / ties : 0));
}

/** docs/science.md §12.2: the composite lmo of m (fresh arrays): ⟨m, D⟩ = N*(m), N(D) = 1 for m ≠ 0. */
export function compositeLmo(c: Composition, m: Params, shapes: readonly LayerShape[], polar: PolarMethod = 'exact'): Params {
  const work: RuleWork = { polar, polarWorkspace: null };
  const units = m.map((x, l) => {
    const out = new Float64Array(x.length);
    c.rules[l]!.lmo(x, shapes[l]!, out, work);
    return out;
  });
  // d_l = ρ_l ⟨m_l, lmo_l(m_l)⟩ = ρ_l N_l*(m_l), from the step just taken
  const d = units.map((u, l) => c.rates[l]! * dot(m[l]!, u));
  const w = aggregateWeights(c.aggregate, d);
  return units.map((u, l) => u.map((v) => v * c.rates[l]! * w[l]!));
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

/** The composite norm written out, e.g. `max(σ_max(W_0), ‖W_1‖_F/0.5)`; `latex` for LaTeX. */
export function describeComposition(c: Composition, latex = false): string {
  const terms = c.rules.map((r, l) => {
    const base = (latex ? r.latex : r.text).replace(/W/g, latex ? `W_{${l}}` : `W_${l}`);
    const rate = c.rates[l]!;
    const scaled = rate === 1 ? base : latex ? `${base}/${rate}` : `${base}/${rate}`;
    return c.aggregate === 'l2' ? (latex ? `(${scaled})^2` : `(${scaled})²`) : scaled;
  });
  if (c.aggregate === 'max') return latex ? `\\max(${terms.join(', ')})` : `max(${terms.join(', ')})`;
  if (c.aggregate === 'sum') return terms.join(' + ');
  return latex ? `\\sqrt{${terms.join(' + ')}}` : `√(${terms.join(' + ')})`;
}

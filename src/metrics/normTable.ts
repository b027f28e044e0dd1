import { OPTIMIZER_NAMES, type Config, type OptimizerName } from '../config/types.js';
import type { LayerShape, Params } from '../model/mlp.js';
import type { GramWorkspace } from '../numerics/linalg.js';
import {
  compositeDual,
  compositeLmo,
  compositeNorm,
  describeComposition,
  presetComposition,
  resolveComposition,
  STANDARD_NORM_NAMES,
  type Composition,
  type CompositionSpec,
} from '../optimizers/compose.js';
import { NORM_TEXT, OPTIMIZERS } from '../optimizers/families.js';
import { RULES, type PolarMethod } from '../optimizers/rules/index.js';
import { dualNormOf, normOf, resolveMuonLayers, type NormName } from './norms.js';

/**
 * The norm table (docs/science.md §12.6): every norm a run logs, as data. Each entry gives its
 * column names, its labels, N(θ), the dual N*(G) and the steepest unit step lmo(m), so that the CSV
 * columns, the summaries, the tables, the figures, the recomputation from saved weights and the
 * KKT alignment all come from one list: the four standard norms (docs/science.md §5), then the
 * implied norm of each composed optimizer of `train.optimizers` and the `log.norms` extras, in
 * name order.
 */
export interface LoggedNorm {
  /** `l2`, `linf`, `spectral`, `hybrid`, or a composed optimizer's / log.norms entry's name. */
  readonly name: string;
  /** One of the four every run logs (and every results folder has). */
  readonly standard: boolean;
  /** Short labels: `ℓ2`, `spectral`, a composed norm's name; LaTeX for the .tex tables. */
  readonly text: string;
  readonly latex: string;
  /** The norm written out, e.g. `max(σ_max(W_0), ‖W_1‖_F/0.5)` (and in LaTeX). */
  readonly definition: string;
  readonly definitionLatex: string;
  /** The norm as a composition (rules, rates, aggregation) for the network's depth. */
  readonly composition: Composition;
  /** N(θ). `gram`: a workspace sized for the layers, for σ_max (a one-off one without it). */
  norm(params: Params, shapes: readonly LayerShape[], gram?: GramWorkspace): number;
  /** N*(G), the dual norm. */
  dual(grad: Params, shapes: readonly LayerShape[], gram?: GramWorkspace): number;
  /** lmo(m) = argmax { ⟨m, D⟩ : N(D) ≤ 1 } (fresh arrays): ⟨m, lmo(m)⟩ = N*(m), N(lmo(m)) = 1. */
  lmo(m: Params, shapes: readonly LayerShape[], polar?: PolarMethod): Params;
}

/** The CSV columns of a logged norm: γ_N, N(θ) and align_N (docs/science.md §8). */
export const marginColumn = (name: string): string => `margin_${name}`;
export const normColumn = (name: string): string => `norm_${name}`;
export const alignColumn = (name: string): string => `align_${name}`;
/** A depth-1 run's columns per norm with an exact optimum: γ_N(θ)/γ*_N and cos∠(θ, W*_N) (docs/science.md §14.5). */
export const ratioColumn = (name: string): string => `ratio_${name}`;
export const cosOptColumn = (name: string): string => `cos_opt_${name}`;


const isPreset = (name: string): name is OptimizerName => (OPTIMIZER_NAMES as readonly string[]).includes(name);

/** The standard norm `name` as a composition: ℓ2 = Frobenius with ℓ2 aggregation; ℓ∞, spectral; hybrid N_ρ = the Muon layers' σ_max at rate 1/ρ, ℓ∞ elsewhere (docs/science.md §11.1). */
function standardComposition(name: NormName, isMuon: readonly boolean[], rho: number): Composition {
  const rule = (n: string) => RULES[n]!.build();
  const base = { name, momentum: 'ema' as const, lionBeta2: 0.99, preset: null };
  switch (name) {
    case 'l2':
      return { ...base, rules: isMuon.map(() => rule('frobenius')), rates: isMuon.map(() => 1), aggregate: 'l2' };
    case 'linf':
      return { ...base, rules: isMuon.map(() => rule('linf')), rates: isMuon.map(() => 1), aggregate: 'max' };
    case 'spectral':
      return { ...base, rules: isMuon.map(() => rule('spectral')), rates: isMuon.map(() => 1), aggregate: 'max' };
    case 'hybrid':
      return { ...base, rules: isMuon.map((m) => rule(m ? 'spectral' : 'linf')), rates: isMuon.map((m) => (m ? 1 / rho : 1)), aggregate: 'max' };
  }
}

function entry(c: Composition, standard: boolean, text: string, latex: string, norm: LoggedNorm['norm'], dual: LoggedNorm['dual']): LoggedNorm {
  return {
    name: c.name,
    standard,
    text,
    latex,
    definition: describeComposition(c),
    definitionLatex: describeComposition(c, true),
    composition: c,
    norm,
    dual,
    lmo: (m, shapes, polar) => compositeLmo(c, m, shapes, polar),
  };
}

/** A composition's entry: N, N* and the lmo from its rules (docs/science.md §12.2). */
export function compositionNorm(c: Composition): LoggedNorm {
  return entry(
    c,
    false,
    c.name,
    `\\texttt{${c.name.replace(/_/g, '\\_')}}`,
    (p, s, g) => compositeNorm(c, p, s, g),
    (p, s, g) => compositeDual(c, p, s, g),
  );
}

/** The four standard norms for `depth` layers (docs/science.md §5); `hybrid` is N_ρ with ρ = train.lr.hybrid_ratio. */
export function standardNorms(config: Readonly<Config>, depth: number): LoggedNorm[] {
  const isMuon = resolveMuonLayers(config.train.muon_layers, depth);
  const rho = config.train.lr.hybrid_ratio;
  return STANDARD_NORM_NAMES.map((name) => {
    const { text, latex } = NORM_TEXT[name];
    return entry(
      standardComposition(name, isMuon, rho),
      true,
      text,
      latex,
      // The same functions as the standard columns of every CSV (src/metrics/norms.ts).
      (p, s, g) => normOf(name, p, [...s], isMuon, g, rho),
      (p, s, g) => dualNormOf(name, p, [...s], isMuon, rho, g),
    );
  });
}

/** The compositions of `train.optimizers` (as written). */
const composedEntries = (config: Readonly<Config>): CompositionSpec[] => config.train.optimizers.filter((e): e is CompositionSpec & (typeof config.train.optimizers)[number] => typeof e !== 'string');

/**
 * The norms a run logs beyond the standard four: each composed optimizer's implied norm and each
 * `log.norms` entry, in name order (so that a run's columns do not depend on which list names a
 * norm: `run --only` moves the composed optimizers it leaves out to log.norms); [] for a config of
 * presets only.
 */
export function extraNorms(config: Readonly<Config>, depth: number): LoggedNorm[] {
  const specs: CompositionSpec[] = [...composedEntries(config), ...(config.log.norms ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return specs.map((spec) => compositionNorm(resolveComposition(spec, depth)));
}

/** docs/science.md §12.6: every norm a run of `config` logs, in column order. */
export function loggedNorms(config: Readonly<Config>, depth: number): LoggedNorm[] {
  return [...standardNorms(config, depth), ...extraNorms(config, depth)];
}

/** What optimizer `name` of `config` does, for `depth` layers: a preset's composition, or the composed entry's. */
export function runComposition(config: Readonly<Config>, name: string, depth: number): Composition {
  if (isPreset(name)) return presetComposition(name, resolveMuonLayers(config.train.muon_layers, depth), config.train.lr.hybrid_ratio);
  const spec = composedEntries(config).find((e) => e.name === name);
  if (!spec) throw new Error(`optimizer "${name}" is not in train.optimizers`);
  return resolveComposition(spec, depth);
}

/**
 * The rule a rule is on a layer with one row (one singular value): Frobenius for spectral,
 * Schatten-p and row_l2 (each norm is ‖w‖₂, each step w/‖w‖₂), ℓ∞ for col_l2 (each column a
 * scalar: max |w_j|, step sign(w)); any other rule itself.
 */
export function oneRowRule(id: string): string {
  if (/^(spectral|schatten.*|row_l2)$/.test(id)) return 'frobenius';
  return id === 'col_l2' ? 'linf' : id;
}

/**
 * What makes two optimizers of `config` take the same steps on a network of `depth` layers: the
 * per-layer rules, rates and momentum rule, and the aggregation where there is more than one layer
 * (every aggregation of a single layer is that layer, docs/science.md §12.2). A layer with one row
 * (the binary task's output) has one singular value, so there Frobenius, spectral, Schatten-p and
 * row_l2 all take w/‖w‖₂, and col_l2 takes sign(w) as ℓ∞ does. At depth 1, Muon, Muon-Signum and
 * Muon-Adam are one optimizer (docs/science.md §3.1). null where the config no longer resolves the
 * name (an old results folder).
 */
export function stepSignature(config: Readonly<Config>, name: string, depth: number): string | null {
  try {
    const c = runComposition(config, name, depth);
    const outputs = config.data.task === 'parity' ? 1 : config.data.classes.length;
    const oneRow = (l: number) => (l === depth - 1 ? outputs : config.model.width) === 1;
    const rule = (id: string, l: number) => (oneRow(l) ? oneRowRule(id) : id);
    return JSON.stringify([c.rules.map((r, l) => rule(r.id, l)), c.rates, c.rules.length > 1 ? c.aggregate : null, c.momentum, c.momentum === 'lion' ? c.lionBeta2 : null]);
  } catch {
    return null;
  }
}

/**
 * The norm whose max-margin problem optimizer `name` solves (docs/science.md §1, §12): a preset's
 * family (`l2`, `linf`, `spectral`, `hybrid`), a composed optimizer's own implied norm (its name).
 */
export function ownNormName(name: string): string {
  return isPreset(name) ? OPTIMIZERS[name].family : name;
}

/** The extra CSV columns of `norms` (after the fixed ones): margin_, norm_, align_ per extra norm. */
export function extraColumns(norms: readonly LoggedNorm[]): string[] {
  return norms.filter((n) => !n.standard).flatMap((n) => [marginColumn(n.name), normColumn(n.name), alignColumn(n.name)]);
}

/** What a summary records of a run's extra logged norms (absent for presets-only configs). */
export interface LoggedNormRecord extends Record<string, unknown> {
  name: string;
  text: string;
  latex: string;
  definition: string;
  definition_latex: string;
}

export const normRecord = (n: LoggedNorm): LoggedNormRecord => ({
  name: n.name,
  text: n.text,
  latex: n.latex,
  definition: n.definition,
  definition_latex: n.definitionLatex,
});

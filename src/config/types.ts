import type { z } from 'zod';
import type { ACTIVATIONS, BACKENDS, ConfigSchema, ENGINES, LR_SCHEDULES, OPTIMIZER_NAMES, POLAR_METHODS } from './schema.js';

/**
 * The resolved run configuration's types, inferred from the schema (src/config/schema.ts declares
 * every key once; src/config/defaults.ts gives each its default and unit). The enums' values are
 * exported from the schema module and re-exported here, so importers need only this file.
 */
export { ACTIVATIONS, BACKENDS, ENGINES, LR_SCHEDULES, OPTIMIZER_NAMES, POLAR_METHODS } from './schema.js';

export type Config = z.infer<typeof ConfigSchema>;
export type DataConfig = Config['data'];
export type ModelConfig = Config['model'];
export type TrainConfig = Config['train'];
export type LrConfig = TrainConfig['lr'];
export type LogConfig = Config['log'];
export type DataSource = DataConfig['source'];
export type TestConfig = NonNullable<DataConfig['test']>;
export type RobustConfig = NonNullable<LogConfig['robust']>;

export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];
export type { Aggregate, Composition, CompositionSpec, Momentum } from '../optimizers/compose.js';
export type Activation = (typeof ACTIVATIONS)[number];
export type EngineName = (typeof ENGINES)[number];
export type BackendName = (typeof BACKENDS)[number];
export type LrSchedule = (typeof LR_SCHEDULES)[number];
export type PolarMethod = (typeof POLAR_METHODS)[number];
export type OptimizerEntry = TrainConfig['optimizers'][number];

/** An entry of `train.optimizers` by name: a preset's, or a composed optimizer's own. */
export const optimizerName = (e: OptimizerEntry): string => (typeof e === 'string' ? e : e.name);

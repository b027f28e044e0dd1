import { configHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import { createHash } from 'node:crypto';
import type { RunSpec } from './runs.js';

/**
 * The identity of one run: sha256 (hex) of its spec plus every part of the resolved config that
 * can change its files. Left out: `name` (only picks the folder) and the grid lists
 * (`model.activations`, `train.optimizers`, `train.betas`, `train.seeds`), which say which other
 * runs exist, not how this one trains; the spec already holds this run's entry of each. So
 * `--seeds 0-2` then `--seeds 0-9` into one folder redoes nothing, while `--set train.steps=500`
 * redoes everything.
 *
 * Paths (`train.init_from`, an IDX `data.source`) enter as written: a file changed in place under
 * the same name is not noticed (`--force` redoes all). The margin-bench version is not part of it
 * either: a new version reuses complete runs of an old one.
 */
export function runHash(config: Readonly<Config>, spec: RunSpec): string {
  const run = { activation: spec.activation, optimizer: spec.optimizer, beta: spec.beta, seed: spec.seed };
  // docs/science.md §12: a composed optimizer's definition is part of its run; the extra norms every
  // run logs (the composed optimizers' and log.norms) are part of every run's CSV. Both absent for a
  // config of presets only, whose hashes stay what they were.
  const own = config.train.optimizers.find((e) => typeof e !== 'string' && e.name === spec.optimizer);
  const logged = [...config.train.optimizers.filter((e) => typeof e !== 'string'), ...(config.log.norms ?? [])].map(normDefinition)
    .sort((a, b) => (a.name < b.name ? -1 : 1)); // the column order (src/metrics/normTable.ts extraNorms)
  return configHash({ run, config: sharedSettings(config), ...(own ? { composition: own } : {}), ...(logged.length > 0 ? { logged_norms: logged } : {}) });
}

/** What of a composition decides its norm (the momentum does not): the CSV columns it adds. */
function normDefinition(e: Exclude<Config['train']['optimizers'][number], string> | NonNullable<Config['log']['norms']>[number]): { name: string; [key: string]: unknown } {
  return { name: e.name, layers: e.layers, aggregate: e.aggregate ?? 'max', rates: e.rates ?? {} };
}

/**
 * The config less `name` and the grid lists: what every run of a grid shares (see runHash).
 * `train.engine` and `train.backend` enter only when the engine is not the default f64 (whose
 * results do not depend on the backend): runs made before those keys existed keep their hashes,
 * and a tfjs run never passes for an f64 one or for another backend's. `backend: auto` enters as
 * written, like a path: the summary's `engine` field says which backend it resolved to. The same
 * holds for `train.adam_eps`, `train.target_log10_loss`, `train.lr.hybrid_ratio`,
 * `log.at_log10_loss`, `data.test` and `log.robust` (no radius: no attack): at their defaults they
 * are left out.
 */
export function sharedSettings(config: Readonly<Config>): unknown {
  const { name: _name, data, model, train, log, ...rest } = config;
  const { test = null, ...dataRest } = data;
  const { activations: _a, ...modelRest } = model;
  const { optimizers: _o, betas: _b, seeds: _s, engine, backend, batch_runs, adam_eps, target_log10_loss, lr, ...trainRest } = train;
  const engineKeys = { ...(engine === 'f64' ? {} : { engine, backend }), ...(batch_runs > 1 ? { batch_runs } : {}) };
  // Keys added later enter only when set away from their default, which is the old behaviour:
  // runs made before they existed keep their hashes.
  const { hybrid_ratio, ...lrRest } = lr;
  const { at_log10_loss = [], norms: _norms, robust, ...logRest } = log;
  const attacks = robust !== undefined && robust.linf.length + robust.l2.length > 0;
  const added = {
    ...(adam_eps !== 0 ? { adam_eps } : {}),
    ...(target_log10_loss !== null ? { target_log10_loss } : {}),
  };
  return {
    ...rest,
    data: { ...dataRest, ...(test !== null ? { test } : {}) },
    model: modelRest,
    train: { ...trainRest, lr: { ...lrRest, ...(hybrid_ratio !== 1 ? { hybrid_ratio } : {}) }, ...added, ...engineKeys },
    log: { ...logRest, ...(at_log10_loss.length > 0 ? { at_log10_loss } : {}), ...(attacks ? { robust } : {}) },
  };
}

/** sha256 (hex) of bytes or text: the CSV hash a summary records, and what a resumed sweep or a merge checks. */
export const sha256Of = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

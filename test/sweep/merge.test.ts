// merge (issue #4), in-process: folders of the same settings over different seeds unite into one
// grid; folders of different settings, or --out among the inputs, are usage errors.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { UsageError } from '../../src/errors.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { runId } from '../../src/train/train.js';
import { gridOf } from '../../src/sweep/grid.js';
import { mergeComplete, mergeResults } from '../../src/sweep/merge.js';
import { executeRun } from '../../src/sweep/runOne.js';
import { sweepStatus } from '../../src/sweep/status.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-merge-'));
after(() => rmSync(root, { recursive: true, force: true }));

const config = (seeds: number[], steps = 10) =>
  resolveConfig(
    { name: 'm', model: { width: 10, activations: ['relu'] }, train: { steps, seeds, optimizers: ['ngd'], betas: [0.9] }, log: { n_log: 4 } },
    'test',
  );

/** A results folder as `run` writes it, without workers: sweep.json plus each run's files. */
function folder(name: string, cfg: Readonly<Config>): string {
  const dir = join(root, name);
  const specs = gridOf(cfg);
  writeJsonAtomic(join(dir, 'sweep.json'), { config: cfg, runs: specs.map(runId), grid_runs: specs.length, shard: null, created_at: '' });
  const data = loadDataset(cfg.data);
  for (const spec of specs) executeRun(cfg, spec, data, dir);
  return dir;
}

test('folders of the same settings over different seeds merge into one grid', () => {
  const a = folder('seeds-0-1', config([0, 1]));
  const b = folder('seeds-2', config([2]));
  const out = join(root, 'merged');
  const r = mergeResults([a, b], out);
  assert.ok(mergeComplete(r));
  assert.deepEqual(r.runs, ['relu_ngd_b0.9_s0', 'relu_ngd_b0.9_s1', 'relu_ngd_b0.9_s2']);
  assert.equal(r.copied.length, 3);
  const status = sweepStatus(out);
  assert.deepEqual(status.sweep.config.train.seeds, [0, 1, 2]);
  assert.equal(status.counts.complete, 3);
  assert.equal(readdirSync(out).length, 7);
});

test('merge: different settings, --out among the inputs, or no sweep.json are usage errors', () => {
  const a = join(root, 'seeds-0-1');
  const longer = folder('longer', config([0], 11));
  const usage = (fn: () => unknown, ...parts: string[]) =>
    assert.throws(fn, (e: Error) => e instanceof UsageError && parts.every((p) => e.message.includes(p)), parts.join(' '));
  usage(() => mergeResults([a, longer], join(root, 'x')), longer, 'other settings');
  usage(() => mergeResults([a], a), a, 'also --out');
  usage(() => mergeResults([root], join(root, 'y')), root, 'sweep.json');
  usage(() => mergeResults([], join(root, 'z')), 'at least one');
});

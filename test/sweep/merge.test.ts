// merge, in-process: folders of the same settings over different seeds unite into one grid;
// folders of different settings, --out among the inputs or a grid the folders do not cover
// (without `partial`) are usage errors.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeOne } from '../helpers.js';
import { resolveConfig } from '../../src/config/load.js';
import type { Config, OptimizerName } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { UsageError } from '../../src/errors.js';
import { writeJsonAtomic } from '../../src/io/atomic.js';
import { runId } from '../../src/results/runs.js';
import { gridOf } from '../../src/sweep/grid.js';
import { mergeComplete, mergeResults } from '../../src/sweep/merge.js';
import { sweepStatus } from '../../src/sweep/status.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-merge-'));
after(() => rmSync(root, { recursive: true, force: true }));

const config = (seeds: number[], steps = 10, optimizers: OptimizerName[] = ['ngd']) =>
  resolveConfig(
    { name: 'm', model: { width: 10, activations: ['relu'] }, train: { steps, seeds, optimizers, betas: [0.9] }, log: { n_log: 4 } },
    'test',
  );

/** A results folder as `run` writes it, without workers: sweep.json plus each run's files. */
async function folder(name: string, cfg: Readonly<Config>): Promise<string> {
  const dir = join(root, name);
  const specs = gridOf(cfg);
  writeJsonAtomic(join(dir, 'sweep.json'), { config: cfg, runs: specs.map(runId), grid_runs: specs.length, shard: null, created_at: '' });
  const data = loadDataset(cfg.data);
  for (const spec of specs) await executeOne(cfg, spec, data, dir);
  return dir;
}

test('folders of the same settings over different seeds merge into one grid', async () => {
  const a = await folder('seeds-0-1', config([0, 1]));
  const b = await folder('seeds-2', config([2]));
  const out = join(root, 'merged');
  const r = await mergeResults([a, b], out);
  assert.ok(mergeComplete(r));
  assert.deepEqual(r.runs, ['relu_ngd_b0.9_s0', 'relu_ngd_b0.9_s1', 'relu_ngd_b0.9_s2']);
  assert.equal(r.copied.length, 3);
  const status = sweepStatus(out);
  assert.deepEqual(status.sweep.config.train.seeds, [0, 1, 2]);
  assert.equal(status.counts.complete, 3);
  assert.equal(readdirSync(out).length, 7, 'three runs and sweep.json; no lock left');
  assert.deepEqual(r.undeclared, []);
  assert.equal(status.sweep.grid_runs, 3);
});

test('merge: different settings, --out among the inputs, or no sweep.json are usage errors', async () => {
  const a = join(root, 'seeds-0-1');
  const longer = await folder('longer', config([0], 11));
  const usage = (p: Promise<unknown>, ...parts: string[]) =>
    assert.rejects(p, (e: Error) => e instanceof UsageError && parts.every((x) => e.message.includes(x)), parts.join(' '));
  await usage(mergeResults([a, longer], join(root, 'x')), longer, 'other settings');
  await usage(mergeResults([a], a), a, 'also --out');
  await usage(mergeResults([root], join(root, 'y')), root, 'sweep.json');
  await usage(mergeResults([], join(root, 'z')), 'at least one');
  await usage(mergeResults([join(root, 'no-such')], join(root, 'z')), join(root, 'no-such'), 'no such folder');
});

test('a grid the folders do not cover: refused before writing, listing what no folder declared; partial writes an honest sweep.json', async () => {
  // ngd for seeds 0-2, signum for seed 0 only: the united grid is {ngd, signum} × {0, 1, 2}.
  const a = await folder('ngd-0-2', config([0, 1, 2]));
  const b = await folder('signum-0', config([0], 10, ['signum']));
  const out = join(root, 'uncovered');
  await assert.rejects(mergeResults([a, b], out), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.equal(
      e.message,
      "merge: the inputs' grid has 6 runs but no input declares 2 of them: relu_signum_b0.9_s{1-2}; add the folders that hold them, or pass --partial to merge without them",
    );
    return true;
  });
  assert.ok(!existsSync(out), 'nothing written');

  const r = await mergeResults([a, b], out, { partial: true });
  assert.ok(mergeComplete(r), 'every declared run is there');
  assert.deepEqual(r.undeclared.map(runId), ['relu_signum_b0.9_s1', 'relu_signum_b0.9_s2']);
  const status = sweepStatus(out);
  assert.deepEqual(status.sweep.runs, ['relu_ngd_b0.9_s0', 'relu_ngd_b0.9_s1', 'relu_ngd_b0.9_s2', 'relu_signum_b0.9_s0']);
  assert.deepEqual(status.sweep.undeclared, ['relu_signum_b0.9_s1', 'relu_signum_b0.9_s2']);
  assert.equal(status.sweep.grid_runs, 6);
  assert.deepEqual(status.counts, { complete: 4, failed: 0, stale: 0, partial: 0, corrupt: 0, missing: 2 });
  assert.deepEqual(
    status.runs.filter((x) => x.state === 'missing').map((x) => x.id),
    ['relu_signum_b0.9_s1', 'relu_signum_b0.9_s2'],
  );
});

test('a signal stops a merge between two runs: the runs copied are whole, the lock is gone', async () => {
  const a = join(root, 'seeds-0-1');
  const out = join(root, 'stopped');
  const controller = new AbortController();
  controller.abort();
  const r = await mergeResults([a], out, { signal: controller.signal });
  assert.ok(r.interrupted);
  assert.deepEqual(r.copied, []);
  assert.deepEqual(readdirSync(out), ['sweep.json']);
  const again = await mergeResults([a], out);
  assert.ok(!again.interrupted && mergeComplete(again));
  assert.equal(again.copied.length, 2);
});

// Shards: `--shard i/n` over all i is exactly the grid, no overlaps, balanced by expected
// cost; the environment of common runners picks the shard; the run hash decides what a resume skips.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';
import { runId, type RunSpec } from '../../src/results/runs.js';
import { runCost, STEP_COST_US } from '../../src/sweep/cost.js';
import { gridOf } from '../../src/sweep/grid.js';
import { runHash } from '../../src/results/hash.js';
import { parseShard, partitionGrid, shardFromEnv, shardOf } from '../../src/sweep/shard.js';
import { REPO } from '../cli/helpers.js';

const figure1 = loadConfig(join(REPO, 'configs/multiclass-proxy.yaml'));
const grid = gridOf(figure1);
const cost = (s: RunSpec) => runCost(figure1, s);

test('the paper grid: 2 activations × 6 optimizers × 2 β × 10 seeds = 240 distinct runs', () => {
  assert.equal(grid.length, 240);
  assert.equal(new Set(grid.map(runId)).size, 240);
});

test('--shard i/n over all i gives exactly the grid, no overlaps, balanced by expected cost', () => {
  const maxCost = Math.max(...grid.map(cost));
  for (const n of [1, 2, 3, 5, 7, 8, 16, 240, 300]) {
    const shards = Array.from({ length: n }, (_, i) => shardOf(grid, { index: i + 1, count: n, source: 'test' }, cost).map(runId));
    const all = shards.flat();
    assert.equal(all.length, grid.length, `n=${n}: ${all.length} runs over the shards`);
    assert.deepEqual([...all].sort(), grid.map(runId).sort(), `n=${n}: the union is the grid, each run once`);
    const loads = shards.map((ids) => ids.reduce((sum, id) => sum + cost(grid.find((s) => runId(s) === id)!), 0));
    assert.ok(Math.max(...loads) - Math.min(...loads) <= maxCost, `n=${n}: loads ${loads.join(', ')}`);
    for (const ids of shards) {
      const order = ids.map((id) => grid.findIndex((s) => runId(s) === id));
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `n=${n}: a shard lists its runs in grid order`);
    }
  }
  // 8 shards of the paper grid: 30 runs each, 15 of them Muon-family (120 / 8): equal costs.
  const eight = partitionGrid(grid, 8, cost);
  for (const shard of eight) {
    const muon = shard.filter((s) => s.optimizer.startsWith('muon')).length;
    assert.equal(muon, 15, `muon-family runs per shard: ${muon}`);
    assert.equal(shard.length, 30);
  }
});

test('the partition is deterministic and depends only on the grid', () => {
  const a = partitionGrid(grid, 8, cost).map((s) => s.map(runId));
  const b = partitionGrid([...grid], 8, (s) => runCost(structuredClone(figure1), s)).map((s) => s.map(runId));
  assert.deepEqual(a, b);
  // Pinned: shard 1 of 8 of the paper grid. A change here reshuffles every CI matrix: on purpose only.
  assert.deepEqual(a[0]!.slice(0, 4), ['relu_ngd_b0.9_s0', 'relu_ngd_b0.9_s8', 'relu_ngd_b0_s6', 'relu_signum_b0.9_s0']);
});

test('cost table: the Muon family costs more per step; cost scales with steps and with polar: svd', () => {
  for (const o of ['muon', 'muon_signum', 'muon_adam'] as const) assert.ok(STEP_COST_US[o] > 2 * STEP_COST_US.adam, o);
  const spec: RunSpec = { activation: 'relu', optimizer: 'muon', beta: 0.9, seed: 0 };
  const short = resolveConfig({ train: { steps: 400 } }, 'test');
  const svd = resolveConfig({ train: { steps: 400, polar: 'svd' } }, 'test');
  assert.equal(runCost(short, spec), 400 * STEP_COST_US.muon);
  assert.equal(runCost(svd, spec), 4 * runCost(short, spec));
  assert.equal(runCost(svd, { ...spec, optimizer: 'adam' }), runCost(short, { ...spec, optimizer: 'adam' }));
});

test('parseShard: i/n with 1 ≤ i ≤ n, else a usage error naming the flag', () => {
  assert.deepEqual(parseShard('3/8'), { index: 3, count: 8, source: '--shard' });
  assert.deepEqual(parseShard(' 1 / 1 '), { index: 1, count: 1, source: '--shard' });
  for (const bad of ['0/8', '9/8', '3', '3/0', 'a/b', '-1/2', '1.5/3', '']) {
    assert.throws(() => parseShard(bad), (e: Error) => e instanceof UsageError && e.message.startsWith(`--shard ${bad}:`), bad);
  }
});

test('shardFromEnv: MARGIN_BENCH_SHARD, Kubernetes Indexed Jobs (0-based + a documented total), GitLab, CircleCI, Buildkite', () => {
  assert.equal(shardFromEnv({}), null);
  assert.equal(shardFromEnv({ MARGIN_BENCH_SHARD: '' }), null);
  const pick = (env: Record<string, string>) => {
    const s = shardFromEnv(env);
    return s && [s.index, s.count];
  };
  assert.deepEqual(pick({ MARGIN_BENCH_SHARD: '3/8' }), [3, 8]);
  assert.deepEqual(pick({ JOB_COMPLETION_INDEX: '0', MARGIN_BENCH_SHARD_COUNT: '4' }), [1, 4]);
  assert.deepEqual(pick({ JOB_COMPLETION_INDEX: '3', MARGIN_BENCH_SHARD_COUNT: '4' }), [4, 4]);
  assert.deepEqual(pick({ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '5' }), [2, 5]); // GitLab counts from 1
  assert.deepEqual(pick({ CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '1' }), [1, 1]);
  assert.deepEqual(pick({ BUILDKITE_PARALLEL_JOB: '6', BUILDKITE_PARALLEL_JOB_COUNT: '7' }), [7, 7]);
  // The explicit variable wins over a runner's.
  assert.deepEqual(pick({ MARGIN_BENCH_SHARD: '2/2', CI_NODE_INDEX: '1', CI_NODE_TOTAL: '3' }), [2, 2]);

  const usage = (env: Record<string, string>, ...parts: string[]) =>
    assert.throws(() => shardFromEnv(env), (e: Error) => e instanceof UsageError && parts.every((p) => e.message.includes(p)), JSON.stringify(env));
  usage({ JOB_COMPLETION_INDEX: '3' }, 'JOB_COMPLETION_INDEX=3', 'MARGIN_BENCH_SHARD_COUNT');
  usage({ JOB_COMPLETION_INDEX: '4', MARGIN_BENCH_SHARD_COUNT: '4' }, 'JOB_COMPLETION_INDEX=4');
  usage({ MARGIN_BENCH_SHARD: '9/8' }, 'MARGIN_BENCH_SHARD=9/8: expected i/n');
});

test('run hash: the spec and every setting but name and the grid lists; steps change it', () => {
  const spec: RunSpec = { activation: 'relu', optimizer: 'adam', beta: 0.9, seed: 3 };
  const base = resolveConfig({ name: 'a', train: { steps: 100, seeds: [3] } }, 'test');
  const h = runHash(base, spec);
  assert.match(h, /^[0-9a-f]{64}$/);
  const same = [
    { name: 'b', train: { steps: 100, seeds: [3] } },
    { train: { steps: 100, seeds: [0, 1, 2, 3, 4] } },
    { train: { steps: 100, seeds: [3], optimizers: ['adam'], betas: [0.9] } },
    { model: { activations: ['relu'] }, train: { steps: 100, seeds: [3] } },
  ];
  for (const c of same) assert.equal(runHash(resolveConfig(c, 'test'), spec), h, JSON.stringify(c));
  const different = [
    { train: { steps: 101, seeds: [3] } },
    { train: { steps: 100, seeds: [3], adam_beta2: 0.99 } },
    { train: { steps: 100, seeds: [3], lr: { eta0: 0.01 } } },
    { model: { width: 20 }, train: { steps: 100, seeds: [3] } },
    { data: { n_per_class: 5 }, train: { steps: 100, seeds: [3] } },
    { log: { n_log: 10 }, train: { steps: 100, seeds: [3] } },
  ];
  for (const c of different) assert.notEqual(runHash(resolveConfig(c, 'test'), spec), h, JSON.stringify(c));
  for (const other of [{ seed: 4 }, { beta: 0 }, { optimizer: 'muon' as const }, { activation: 'sqrelu' as const }]) {
    assert.notEqual(runHash(base, { ...spec, ...other }), h, JSON.stringify(other));
  }
});

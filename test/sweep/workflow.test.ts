// .github/workflows/sweep.yml: the matrix of shards covers the grid exactly once, each
// shard uploads the folder it wrote, and the merge job merges every shard's artifact.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { runCost } from '../../src/sweep/cost.js';
import { gridOf } from '../../src/sweep/grid.js';
import { shardFromEnv, shardOf } from '../../src/sweep/shard.js';
import { runId } from '../../src/results/runs.js';
import { REPO } from '../cli/helpers.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}

const workflow = YAML.parse(readFileSync(join(REPO, '.github/workflows/sweep.yml'), 'utf8')) as {
  env: Record<string, string>;
  jobs: Record<string, Job>;
};

/** GitHub's `${{ … }}` for what the workflow uses: matrix values and `inputs.x || 'default'` (no inputs given). */
function expand(text: string, matrix: Record<string, unknown>): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => {
    const m = /^matrix\.(\w+)$/.exec(expr);
    if (m) return String(matrix[m[1]!]);
    const d = /^inputs\.\w+\s*\|\|\s*'([^']*)'$/.exec(expr);
    if (d) return d[1]!;
    throw new Error(`unexpected expression in sweep.yml: ${expr}`);
  });
}

const [shardJobName, shardJob] = Object.entries(workflow.jobs).find(([, job]) => job.strategy?.matrix?.shard)!;
const runStep = shardJob.steps.find((s) => s.run?.includes('margin-bench run'))!;
const uploadStep = shardJob.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;

test('sweep.yml: the matrix of shards covers the paper grid exactly once', () => {
  assert.ok(shardJob && runStep, 'a job with a `shard` matrix that runs `margin-bench run`');
  const values = shardJob.strategy!.matrix!.shard as number[];
  const configPath = expand(workflow.env.CONFIG!, {});
  assert.equal(configPath, 'configs/multiclass-proxy.yaml', 'the default config is the multiclass proxy grid');
  const config = loadConfig(join(REPO, configPath));
  const grid = gridOf(config);
  assert.equal(grid.length, 240);

  // Each matrix job's shard, as margin-bench reads it from that job's environment.
  const shards = values.map((value) => {
    const env = Object.fromEntries(Object.entries(runStep.env ?? {}).map(([k, v]) => [k, expand(v, { shard: value })]));
    const shard = shardFromEnv(env);
    assert.ok(shard, `matrix.shard=${value}: no shard in the step's environment ${JSON.stringify(env)}`);
    return shard;
  });
  const n = shards[0]!.count;
  assert.ok(shards.every((s) => s.count === n), 'every job names the same number of shards');
  assert.deepEqual(shards.map((s) => s.index).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1), `matrix.shard is exactly 1…${n}`);

  const ids = shards.flatMap((s) => shardOf(grid, s, (spec) => runCost(config, spec)).map(runId));
  assert.equal(ids.length, grid.length, 'no run in two shards');
  assert.deepEqual([...ids].sort(), grid.map(runId).sort(), 'every run in some shard');
});

test('sweep.yml: each shard uploads the folder it wrote; the merge job merges all of them', () => {
  for (const shard of shardJob.strategy!.matrix!.shard as number[]) {
    const out = /--out\s+"?([^"\s]+)"?/.exec(expand(runStep.run!, { shard }))?.[1];
    assert.equal(out, `results/shard-${shard}`);
    assert.equal(expand(String(uploadStep.with!.path), { shard }), out, 'the artifact is the --out folder');
    assert.equal(expand(String(uploadStep.with!.name), { shard }), `shard-${shard}`);
  }
  const [, mergeJob] = Object.entries(workflow.jobs).find(([, job]) => job.steps.some((s) => s.run?.includes('margin-bench merge')))!;
  assert.ok([mergeJob.needs].flat().includes(shardJobName), 'the merge job waits for the shards');
  const download = mergeJob.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))!;
  assert.equal(download.with!.pattern, 'shard-*');
  assert.equal(download.with!.path, 'results');
  const merge = mergeJob.steps.find((s) => s.run?.includes('margin-bench merge'))!;
  assert.match(merge.run!, /margin-bench merge results\/shard-\* --out \S+/);
});

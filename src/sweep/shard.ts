import { UsageError } from '../errors.js';
import type { RunSpec } from '../results/runs.js';

/** One slice of a grid: shard `index` of `count`, 1-based (`--shard 3/8`). */
export interface Shard {
  index: number;
  count: number;
  /** Where it came from, for messages: `--shard` or the environment variable(s) read. */
  source: string;
}

/**
 * `3/8` → { index: 3, count: 8 }. `source` names where the text came from, in messages: the flag
 * (`--shard`, the default) or an environment variable (`MARGIN_BENCH_SHARD=3/8`).
 */
export function parseShard(text: string, source = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    const label = source === '--shard' ? `--shard ${text}` : source;
    throw new UsageError(`${label}: expected i/n with 1 ≤ i ≤ n, e.g. 3/8`);
  }
  return { index, count, source };
}

/**
 * Where CI systems say which slice a job is, checked in this order. Each entry: the variable with
 * the job's index, whether it counts from 0 or 1, and the variable with the number of jobs.
 * - MARGIN_BENCH_SHARD=i/n: ours, for a GitHub Actions matrix (`MARGIN_BENCH_SHARD: ${{ matrix.shard }}/8`)
 *   or anything else.
 * - Kubernetes Indexed Job: JOB_COMPLETION_INDEX (0-based) is set by Kubernetes; the total is not,
 *   so set MARGIN_BENCH_SHARD_COUNT to the Job's `completions`.
 * - GitLab CI `parallel: n`: CI_NODE_INDEX (1-based), CI_NODE_TOTAL.
 * - CircleCI `parallelism: n`: CIRCLE_NODE_INDEX (0-based), CIRCLE_NODE_TOTAL.
 * - Buildkite `parallelism: n`: BUILDKITE_PARALLEL_JOB (0-based), BUILDKITE_PARALLEL_JOB_COUNT.
 * - Slurm job array (`sbatch --array=1-n`): SLURM_ARRAY_TASK_ID, counted from SLURM_ARRAY_TASK_MIN
 *   (the array's first id, so `--array=0-7` and `--array=1-8` both work), SLURM_ARRAY_TASK_COUNT.
 *   The ids must be consecutive: a stepped or listed array (`0-15:4`, `1,3,5`) is refused.
 */
export const SHARD_ENV = [
  { index: 'JOB_COMPLETION_INDEX', base: 0, total: 'MARGIN_BENCH_SHARD_COUNT', runner: 'Kubernetes Indexed Job' },
  { index: 'CI_NODE_INDEX', base: 1, total: 'CI_NODE_TOTAL', runner: 'GitLab CI parallel' },
  { index: 'CIRCLE_NODE_INDEX', base: 0, total: 'CIRCLE_NODE_TOTAL', runner: 'CircleCI parallelism' },
  { index: 'BUILDKITE_PARALLEL_JOB', base: 0, total: 'BUILDKITE_PARALLEL_JOB_COUNT', runner: 'Buildkite parallelism' },
  { index: 'SLURM_ARRAY_TASK_ID', base: 'SLURM_ARRAY_TASK_MIN', total: 'SLURM_ARRAY_TASK_COUNT', runner: 'Slurm job array' },
] as const;

/** Every variable shardFromEnv reads (tests clear them so the host's CI cannot leak in). */
export const SHARD_ENV_NAMES = [
  'MARGIN_BENCH_SHARD',
  ...SHARD_ENV.flatMap((e) => [e.index, e.total, ...(typeof e.base === 'string' ? [e.base] : [])]),
];

/** The shard the environment asks for, or null when it asks for none (see SHARD_ENV). */
export function shardFromEnv(env: Record<string, string | undefined>): Shard | null {
  const explicit = env.MARGIN_BENCH_SHARD;
  if (explicit !== undefined && explicit.trim() !== '') return parseShard(explicit, `MARGIN_BENCH_SHARD=${explicit}`);
  for (const e of SHARD_ENV) {
    const rawIndex = env[e.index];
    if (rawIndex === undefined || rawIndex.trim() === '') continue;
    const rawTotal = env[e.total];
    if (rawTotal === undefined || rawTotal.trim() === '') {
      throw new UsageError(`${e.index}=${rawIndex} is set (${e.runner}) but ${e.total} is not: set it to the number of jobs, or pass --shard i/n`);
    }
    const rawBase = typeof e.base === 'number' ? String(e.base) : env[e.base];
    const baseText = typeof e.base === 'number' ? '' : ` ${e.base}=${rawBase ?? ''}`;
    if (rawBase === undefined || rawBase.trim() === '') {
      throw new UsageError(`${e.index}=${rawIndex} is set (${e.runner}) but ${e.base as string} is not: pass --shard i/n`);
    }
    const index = Number(rawIndex) - Number(rawBase) + 1;
    const count = Number(rawTotal);
    if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 1 || index > count) {
      throw new UsageError(
        `${e.index}=${rawIndex},${baseText} ${e.total}=${rawTotal} (${e.runner}): not a valid job index and count` +
          (typeof e.base === 'string' ? ' (the array ids must be consecutive, e.g. --array=1-8)' : ''),
      );
    }
    return { index, count, source: `${e.index}=${rawIndex}${baseText} ${e.total}=${rawTotal}` };
  }
  return null;
}

/**
 * The shard a `run` takes: `--shard` when given, else the environment's (shardFromEnv). When both
 * are there and name different slices, the flag wins and `onNote` gets one line saying so (a job
 * script that passes --shard inside a CI matrix or a Slurm array is probably not what was meant).
 */
export function chooseShard(flag: string | undefined, env: Record<string, string | undefined>, onNote: (line: string) => void): Shard | null {
  if (flag === undefined) return shardFromEnv(env);
  const chosen = parseShard(flag);
  let fromEnv: Shard | null = null;
  try {
    fromEnv = shardFromEnv(env);
  } catch {
    // An environment that does not name a valid slice does not matter once --shard is given.
  }
  if (fromEnv && (fromEnv.index !== chosen.index || fromEnv.count !== chosen.count)) {
    onNote(`--shard ${chosen.index}/${chosen.count} wins over ${fromEnv.source} (shard ${fromEnv.index}/${fromEnv.count})`);
  }
  return chosen;
}

/**
 * A deterministic partition of the grid into `count` shards balanced by expected cost: LPT
 * (longest processing time first) — take runs from most to least expensive, ties in grid order,
 * and give each to the shard with the least cost so far, ties to the lowest shard. Every run lands
 * in exactly one shard, and a shard's total cost is within one run's cost of the lightest shard's.
 * Depends only on the grid (its order) and the cost table, never on the machine, so every CI job
 * computes the same partition. Each shard lists its runs in grid order.
 */
export function partitionGrid(specs: readonly RunSpec[], count: number, costOf: (spec: RunSpec) => number): RunSpec[][] {
  const order = specs.map((spec, i) => ({ spec, i, cost: costOf(spec) })).sort((a, b) => b.cost - a.cost || a.i - b.i);
  const loads = new Array<number>(count).fill(0);
  const members: number[][] = Array.from({ length: count }, () => []);
  for (const { i, cost } of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (loads[s]! < loads[best]!) best = s;
    loads[best]! += cost;
    members[best]!.push(i);
  }
  return members.map((idx) => idx.sort((a, b) => a - b).map((i) => specs[i]!));
}

/** The runs of shard `shard.index` (1-based) of the grid. */
export function shardOf(specs: readonly RunSpec[], shard: Shard, costOf: (spec: RunSpec) => number): RunSpec[] {
  return partitionGrid(specs, shard.count, costOf)[shard.index - 1]!;
}

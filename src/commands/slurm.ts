import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { loadDataset } from '../data/dataset.js';
import { writeFileAtomic } from '../io/atomic.js';
import { checkOutputDir, makeDirs, requirePath } from '../io/paths.js';
import { readWeights } from '../io/weights.js';
import { shapesFor } from '../model/mlp.js';
import { RunError, UsageError } from '../errors.js';
import { runCost } from '../sweep/cost.js';
import { estimateSweep, formatDuration } from '../sweep/estimate.js';
import { gridOf } from '../sweep/grid.js';
import { partitionGrid } from '../sweep/shard.js';
import { parseJobs } from './run.js';

interface SlurmFlags {
  tasks: string;
  jobs: string;
  out: string;
  time?: string;
  partition?: string;
  account?: string;
  gres?: string;
  qos?: string;
  sbatch: string[];
  set: string[];
  requeue: boolean;
  dryRun: boolean;
}

/** What the two job scripts are made of; the text depends only on this (tests build it directly). */
export interface SlurmPlan {
  name: string;
  /** Absolute paths. */
  config: string;
  out: string;
  shardsDir: string;
  tasks: number;
  jobs: number;
  /** Slurm's `--time` for one array task, and for the merge job. */
  time: string;
  mergeTime: string;
  partition?: string;
  account?: string;
  gres?: string;
  qos?: string;
  /** Extra `#SBATCH` lines, as given (without the `#SBATCH ` prefix). */
  extra: string[];
  sets: string[];
  requeue: boolean;
  /** The command line that starts margin-bench on the compute nodes (already shell-quoted words). */
  launcher: string[];
}

/** Single-quote for a POSIX shell unless the word is plainly safe. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Seconds → Slurm's `D-HH:MM:SS` (or `HH:MM:SS` under a day), rounded up to whole minutes. */
export function slurmTime(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
  return d > 0 ? `${d}-${hms}` : hms;
}

/** A Slurm time limit as the user may write it: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
export function parseSlurmTime(text: string): string {
  if (!/^(\d+-)?\d+(:\d+){0,2}$/.test(text.trim())) {
    throw new UsageError(`--time ${text}: expected a Slurm time limit (minutes, HH:MM:SS or D-HH:MM:SS)`);
  }
  return text.trim();
}

/** The estimated wall time is multiplied by this, and the limit is never under MIN_TIME_S: a warm-up timing on the submit host is rough. */
export const TIME_MARGIN = 2;
export const MIN_TIME_S = 10 * 60;

function header(plan: SlurmPlan, jobName: string, lines: string[]): string[] {
  const opt = (key: string, value: string | undefined) => (value === undefined ? [] : [`#SBATCH --${key}=${value}`]);
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${jobName}`,
    ...lines,
    ...opt('partition', plan.partition),
    ...opt('account', plan.account),
    ...opt('qos', plan.qos),
    plan.requeue ? '#SBATCH --requeue' : '#SBATCH --no-requeue',
    ...plan.extra.map((line) => `#SBATCH ${line}`),
    'set -euo pipefail',
    `cd ${shellQuote(plan.shardsDir)}`,
  ];
}

const setArgs = (plan: SlurmPlan) => plan.sets.flatMap((s) => ['--set', shellQuote(s)]);

/**
 * The array job: task i runs shard i of `tasks` (run reads SLURM_ARRAY_TASK_ID itself, see
 * src/sweep/shard.ts) into SHARDS/shard-i. Re-running a task resumes it run by run.
 */
export function arrayScript(plan: SlurmPlan): string {
  const lines = header(plan, `margin-bench-${plan.name}`, [
    `#SBATCH --array=1-${plan.tasks}`,
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${plan.jobs}`,
    `#SBATCH --time=${plan.time}`,
    `#SBATCH --output=${shellQuote(join(plan.shardsDir, 'logs', '%A_%a.out'))}`,
    ...(plan.gres === undefined ? [] : [`#SBATCH --gres=${plan.gres}`]),
  ]);
  const run = [...plan.launcher, 'run', shellQuote(plan.config), ...setArgs(plan), '--jobs', String(plan.jobs), '--no-progress', '--out', `${shellQuote(join(plan.shardsDir, 'shard-'))}"$SLURM_ARRAY_TASK_ID"`];
  return [...lines, `exec ${run.join(' ')}`, ''].join('\n');
}

/**
 * The merge job, submitted with --dependency=afterany on the array: it runs when every task has
 * ended, however it ended; merge then lists what is missing and fails, and the same `slurm`
 * command resubmits what is left.
 */
export function mergeScript(plan: SlurmPlan): string {
  const lines = header(plan, `margin-bench-${plan.name}-merge`, [
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=1',
    `#SBATCH --time=${plan.mergeTime}`,
    `#SBATCH --output=${shellQuote(join(plan.shardsDir, 'logs', '%j-merge.out'))}`,
  ]);
  const shards = Array.from({ length: plan.tasks }, (_, i) => shellQuote(join(plan.shardsDir, `shard-${i + 1}`)));
  return [
    ...lines,
    `${[...plan.launcher, 'merge', ...shards, '--out', shellQuote(plan.out)].join(' ')}`,
    `${[...plan.launcher, 'figures', shellQuote(plan.out)].join(' ')}`,
    '',
  ].join('\n');
}

/** The first executable `name` on PATH, or null. */
export function onPath(name: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * How this very process was started (node, its flags, the CLI script), for the job scripts to start
 * the same. The offline bundle's launcher names itself in MARGIN_BENCH_LAUNCHER, so that the tasks
 * start it (its Node, its Vulkan loader on LD_LIBRARY_PATH) rather than the bare Node binary.
 */
export function launcher(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.MARGIN_BENCH_LAUNCHER) return [shellQuote(env.MARGIN_BENCH_LAUNCHER)];
  return [process.execPath, ...process.execArgv, resolve(process.argv[1]!)].map(shellQuote);
}

/**
 * The limit for one array task: the warm-up estimate (src/sweep/estimate.ts) of the heaviest
 * shard on `jobs` workers, times TIME_MARGIN, at least MIN_TIME_S. It is timed on this host with
 * the float64 engine, an upper bound for a GPU task; pass --time where that is too long.
 */
async function estimatedTime(config: Readonly<Config>, tasks: number, jobs: number): Promise<{ seconds: number; perTask: number }> {
  const data = loadDataset(config.data);
  const init = config.train.init_from ? readWeights(config.train.init_from, shapesFor(config.model, data)) : null;
  const costOf = (s: Parameters<typeof runCost>[1]) => runCost(config, s);
  const shards = partitionGrid(gridOf(config), tasks, costOf);
  const heaviest = shards.reduce((a, b) => (b.reduce((t, s) => t + costOf(s), 0) > a.reduce((t, s) => t + costOf(s), 0) ? b : a));
  const est = await estimateSweep(config, data, init, heaviest, Math.min(jobs, Math.max(1, heaviest.length)));
  const perTask = est?.totalSeconds ?? 0;
  return { seconds: Math.max(MIN_TIME_S, perTask * TIME_MARGIN), perTask };
}

function sbatch(args: string[]): string {
  const r = spawnSync('sbatch', ['--parsable', ...args], { encoding: 'utf8' });
  if (r.error) throw new RunError(`sbatch: ${r.error.message}`);
  if (r.status !== 0) throw new RunError(`sbatch ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  // --parsable prints "jobid" or "jobid;cluster".
  const id = r.stdout.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw new RunError(`sbatch printed no job id: ${r.stdout.trim()}`);
  return id;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `margin-bench slurm <config>`: the grid as a Slurm job array plus a merge job. */
export function slurmCommand(): Command {
  return new Command('slurm')
    .description('run a sweep on a Slurm cluster: one array task per shard, then a merge job (and figures) once every task has ended')
    .argument('<config>', 'YAML config file')
    .requiredOption('--tasks <n>', 'array tasks: the grid is split into this many shards balanced by expected cost')
    .option('--jobs <n>', 'worker threads per task (= --cpus-per-task)', '1')
    .option('--out <dir>', 'the merged results folder; the shards, job scripts and logs go to <dir>-shards/', 'results/<name>/')
    .option('--time <limit>', 'Slurm time limit per task (default: the warm-up estimate of the heaviest shard × 2, at least 10 min)')
    .option('--partition <name>', 'Slurm partition (#SBATCH --partition)')
    .option('--account <name>', 'Slurm account (#SBATCH --account)')
    .option('--gres <spec>', 'generic resources per task, e.g. gpu:1 (#SBATCH --gres)')
    .option('--qos <name>', 'quality of service (#SBATCH --qos)')
    .option('--sbatch <line>', "an extra #SBATCH line for both jobs, e.g. --sbatch '--mem=8G' (repeatable)", collect, [])
    .option('--set <key=value>', 'override a config key, as for run (repeatable)', collect, [])
    .option('--requeue', "let Slurm requeue a pre-empted or failed task (#SBATCH --requeue; the task resumes run by run)", false)
    .option('--dry-run', 'print both job scripts and submit nothing', false)
    .addHelpText(
      'after',
      `
Task i runs \`margin-bench run <config> --out <dir>-shards/shard-i\` and takes shard i/n from
SLURM_ARRAY_TASK_ID; the merge job (sbatch --dependency=afterany on the array) merges the shards
into <dir> and draws the figures. A task that failed or was pre-empted leaves its finished runs:
the same command again resubmits the array, and each task skips what is complete. The scripts are
written to <dir>-shards/array.sbatch and merge.sbatch; the job logs to <dir>-shards/logs/.
Exit codes: 0 submitted (or printed), 1 sbatch failed, 2 usage error (including no sbatch on PATH).

Examples:
  margin-bench slurm configs/paper.yaml --tasks 64 --partition gpu --gres gpu:1 --set train.engine=tfjs --dry-run
  margin-bench slurm configs/paper-cpu.yaml --tasks 8 --jobs 4 --account lab --time 6:00:00 --requeue`,
    )
    .action(async (configPath: string, flags: SlurmFlags) => {
      requirePath(configPath, 'config');
      const tasks = Number(flags.tasks);
      if (!Number.isInteger(tasks) || tasks < 1) throw new UsageError(`--tasks ${flags.tasks}: expected a whole number ≥ 1`);
      const jobs = parseJobs(flags.jobs);
      const time = flags.time === undefined ? undefined : parseSlurmTime(flags.time);
      for (const line of flags.sbatch) {
        if (!line.trim().startsWith('-')) throw new UsageError(`--sbatch ${line}: expected an sbatch option such as --mem=8G`);
      }
      const config = loadConfig(configPath, flags.set);
      const gridSize = gridOf(config).length;
      if (tasks > gridSize) throw new UsageError(`--tasks ${tasks}: the grid of ${configPath} has only ${gridSize} runs`);
      const sbatchPath = flags.dryRun ? null : onPath('sbatch');
      if (!flags.dryRun && sbatchPath === null) {
        throw new UsageError('sbatch is not on PATH: run this on a Slurm submit host, or add --dry-run to print the job scripts');
      }
      const out = resolve(flags.out === 'results/<name>/' ? join('results', config.name) : flags.out);
      let limit = time;
      if (limit === undefined) {
        const est = await estimatedTime(config, tasks, jobs);
        limit = slurmTime(est.seconds);
        process.stderr.write(`slurm: heaviest task estimated at ${formatDuration(est.perTask)} here; --time ${limit}\n`);
        if (flags.gres !== undefined) {
          process.stderr.write(`slurm: the estimate timed this host's ${config.train.engine} engine, not the nodes' GPU: give --time for a GPU partition\n`);
        }
      }
      const plan: SlurmPlan = {
        name: config.name,
        config: resolve(configPath),
        out,
        shardsDir: `${out}-shards`,
        tasks,
        jobs,
        time: limit,
        mergeTime: slurmTime(MIN_TIME_S),
        partition: flags.partition,
        account: flags.account,
        gres: flags.gres,
        qos: flags.qos,
        extra: flags.sbatch.map((l) => l.trim()),
        sets: flags.set,
        requeue: flags.requeue,
        launcher: launcher(),
      };
      const array = arrayScript(plan);
      const merge = mergeScript(plan);
      if (flags.dryRun) {
        process.stdout.write(`# ${join(plan.shardsDir, 'array.sbatch')}\n${array}\n# ${join(plan.shardsDir, 'merge.sbatch')} (sbatch --dependency=afterany:<array job id>)\n${merge}`);
        return;
      }
      checkOutputDir(plan.shardsDir, `--out ${flags.out} (its shards folder ${plan.shardsDir})`);
      makeDirs(join(plan.shardsDir, 'logs'));
      const arrayFile = join(plan.shardsDir, 'array.sbatch');
      const mergeFile = join(plan.shardsDir, 'merge.sbatch');
      writeFileAtomic(arrayFile, array);
      writeFileAtomic(mergeFile, merge);
      const arrayId = sbatch([arrayFile]);
      const mergeId = sbatch([`--dependency=afterany:${arrayId}`, mergeFile]);
      process.stdout.write(`submitted array job ${arrayId} (${tasks} tasks, --time ${limit}) and merge job ${mergeId}: results in ${out}\n`);
    });
}

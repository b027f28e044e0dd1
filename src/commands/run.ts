import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { BACKENDS, ENGINES, optimizerName } from '../config/types.js';
import { UsageError } from '../errors.js';
import { formatMarginTables, marginTables } from '../report/finalTable.js';
import { onlySets, parseOnly, parseSeeds } from '../sweep/grid.js';
import { chooseShard } from '../sweep/shard.js';
import { checkOutputDir, requirePath } from '../io/paths.js';
import { runSweep } from '../sweep/sweep.js';
import { exitCodeFor, withStopSignals } from './signals.js';

interface RunFlags {
  out?: string;
  seeds?: string;
  only?: string;
  set: string[];
  saveWeights: boolean;
  progress: boolean;
  jobs?: string;
  shard?: string;
  force: boolean;
  engine?: string;
  backend?: string;
}

/** `--jobs 4` → 4; anything but a positive integer is a usage error. */
export function parseJobs(text: string): number {
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--jobs ${text}: expected a positive integer (worker threads)`);
  return n;
}

/** `margin-bench run <config>`: train the config's grid and print the final-margin table. */
export function runCommand(): Command {
  return new Command('run')
    .description('train every (activation × optimizer × β × seed) run of a config; one CSV + JSON summary per run; skips runs already complete')
    .argument('<config>', 'run config, YAML or JSON (see configs/)')
    .option('--out <dir>', 'write the run files into DIR', 'results/<name>/')
    .option('--seeds <list>', 'seeds to run instead of train.seeds, e.g. 0-9 or 0,3')
    .option('--only <optimizers>', 'run only these of the config\'s optimizers, e.g. adam,muon')
    .addOption(
      new Option('--set <key=value>', 'override a config key (repeatable), e.g. --set train.steps=500')
        .default([])
        .argParser((value: string, previous: string[]) => [...previous, value]),
    )
    .option('--save-weights', 'also write <run>.init.weights.json and <run>.final.weights.json', false)
    .option('--jobs <n>', `worker threads, one run each (default: the number of cores, ${availableParallelism()} here)`)
    .option('--shard <i/n>', 'run only slice i of n of the grid, balanced by expected cost (default: from MARGIN_BENCH_SHARD, JOB_COMPLETION_INDEX, … or the whole grid)')
    .option('--force', 'redo runs that are already complete', false)
    .addOption(new Option('--engine <name>', 'engine, instead of train.engine (default f64): f64 (float64 CPU) or tfjs (TF.js, float32; see `margin-bench engines`)').choices(ENGINES))
    .addOption(
      new Option('--backend <name>', 'TF.js backend with --engine tfjs, instead of train.backend (default auto: tensorflow-gpu > tensorflow > wasm > cpu)').choices(BACKENDS),
    )
    .option('--no-progress', 'no progress output on stderr')
    .addHelpText(
      'after',
      `
A run is complete when its summary exists and matches the run's config (run_hash); a rerun skips
complete runs and redoes the rest. Ctrl-C (SIGINT) or SIGTERM stops at once, keeps finished runs
and exits 130 or 143. One writer per folder: a second \`run\` or \`merge\` on the same --out stops
with exit 2 naming the process that holds it (its lock file, DIR/.margin-bench.lock, is removed
when the holder ends; one left by a killed process is taken over, with a note).
Exit codes: 0 every run ok, 1 a run failed, 2 usage error (config, flag, --out path, folder in
use), 130 interrupted (SIGINT), 143 terminated (SIGTERM).

Examples:
  margin-bench run configs/paper-cpu.yaml --jobs 2          # the paper's binary setting sized for 2 cores, 10 seeds
  margin-bench run configs/paper.yaml --engine tfjs         # the paper's own sizes (full MNIST, width 2048): a GPU job
  margin-bench run configs/multiclass-proxy.yaml            # our multiclass proxy grid, 10 seeds, all cores
  margin-bench run configs/smoke.yaml --out /tmp/smoke      # seconds
  margin-bench run configs/multiclass-proxy.yaml --jobs 2   # two worker threads; again: skips what is complete
  margin-bench run configs/multiclass-proxy.yaml --shard 3/8 --out results/shard-3   # one CI matrix job's slice
  margin-bench run configs/multiclass-proxy.yaml --seeds 0-2 --only adam,muon --set train.steps=500
  margin-bench run configs/multiclass-proxy.yaml --engine tfjs --backend auto   # TF.js: GPU if installed, else wasm`,
    )
    .action(async (configPath: string, flags: RunFlags) => {
      requirePath(configPath, 'config');
      if (flags.out !== undefined) requirePath(flags.out, '--out');
      const jobs = flags.jobs === undefined ? undefined : parseJobs(flags.jobs);
      const shard = chooseShard(flags.shard, process.env, (line) => process.stderr.write(`note: ${line}\n`));
      const sets = [...flags.set];
      if (flags.seeds !== undefined) sets.push(`train.seeds=[${parseSeeds(flags.seeds).join(',')}]`);
      if (flags.engine !== undefined) sets.push(`train.engine=${flags.engine}`);
      if (flags.backend !== undefined) sets.push(`train.backend=${flags.backend}`);
      let config = loadConfig(configPath, sets);
      if (flags.backend !== undefined && config.train.engine !== 'tfjs') {
        throw new UsageError(`--backend ${flags.backend}: a TF.js backend needs --engine tfjs (train.engine is ${config.train.engine})`);
      }
      if (flags.only !== undefined) {
        const only = parseOnly(flags.only);
        const names = config.train.optimizers.map(optimizerName);
        const missing = only.filter((o) => !names.includes(o));
        if (missing.length > 0) {
          throw new UsageError(`--only ${flags.only}: ${missing.map((m) => `"${m}"`).join(', ')} not in train.optimizers of ${configPath}`);
        }
        config = loadConfig(configPath, [...sets, ...onlySets(config, only)]);
      }
      const outText = flags.out === 'results/<name>/' ? join('results', config.name) : flags.out!;
      // Before anything trains: a file, a path under a file or a folder we cannot write is a usage error.
      checkOutputDir(outText, `--out ${outText}`);
      const outDir = resolve(outText);

      // Ctrl-C / SIGTERM: stop the workers, keep the finished runs, release the folder's lock.
      const { result, received } = await withStopSignals((signal) =>
        runSweep(config, outDir, { saveWeights: flags.saveWeights, progress: flags.progress, jobs, shard, force: flags.force, signal }),
      );
      if (result.interrupted) {
        process.stderr.write(
          `interrupted${received ? ` (${received})` : ''}: ${result.summaries.length} of ${result.runs.length} runs have finished files, ` +
            `${result.remaining.length} to do; run the same command again to resume\n`,
        );
        process.exitCode = exitCodeFor(received ?? 'SIGINT');
        return;
      }
      process.stdout.write(formatMarginTables(marginTables(result.summaries)));
      process.stdout.write(`results: ${outDir}\n`);
      if (result.failed.length > 0) {
        process.stderr.write(`${result.failed.length} run(s) failed:\n${result.failed.map((f) => `  ${f.id}: ${f.reason}\n`).join('')}`);
        process.exitCode = 1;
      }
    });
}

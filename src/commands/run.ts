import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import { formatMarginTables, marginTables } from '../report/finalTable.js';
import { parseOnly, parseSeeds } from '../sweep/grid.js';
import { runSweep } from '../sweep/sweep.js';

interface RunFlags {
  out?: string;
  seeds?: string;
  only?: string;
  set: string[];
  saveWeights: boolean;
  progress: boolean;
}

/** `margin-bench run <config>`: train the config's grid and print the final-margin table. */
export function runCommand(): Command {
  return new Command('run')
    .description('train every (activation × optimizer × β × seed) run of a config; one CSV + JSON summary per run')
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
    .option('--no-progress', 'no progress output on stderr')
    .addHelpText(
      'after',
      `
Examples:
  margin-bench run configs/figure1.yaml                      # the paper's grid, 10 seeds
  margin-bench run configs/smoke.yaml --out /tmp/smoke       # seconds
  margin-bench run configs/figure1.yaml --seeds 0-2 --only adam,muon --set train.steps=500`,
    )
    .action((configPath: string, flags: RunFlags) => {
      const sets = [...flags.set];
      if (flags.seeds !== undefined) sets.push(`train.seeds=[${parseSeeds(flags.seeds).join(',')}]`);
      let config = loadConfig(configPath, sets);
      if (flags.only !== undefined) {
        const only = parseOnly(flags.only);
        const missing = only.filter((o) => !config.train.optimizers.includes(o));
        if (missing.length > 0) {
          throw new UsageError(`--only ${flags.only}: ${missing.join(', ')} not in train.optimizers of ${configPath}`);
        }
        config = loadConfig(configPath, [...sets, `train.optimizers=[${only.join(',')}]`]);
      }
      const outDir = flags.out === 'results/<name>/' ? resolve('results', config.name) : resolve(flags.out!);
      const summaries = runSweep(config, outDir, { saveWeights: flags.saveWeights, progress: flags.progress });
      process.stdout.write(formatMarginTables(marginTables(summaries)));
      process.stdout.write(`results: ${outDir}\n`);
      const failed = summaries.filter((s) => s.status === 'failed');
      if (failed.length > 0) {
        process.stderr.write(`${failed.length} run(s) failed: ${failed.map((s) => `${s.id} (${s.failure?.reason})`).join('; ')}\n`);
        process.exitCode = 1;
      }
    });
}

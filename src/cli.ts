import { Command, CommanderError } from 'commander';
import { dataCommand } from './commands/data.js';
import { enginesCommand } from './commands/engines.js';
import { mergeCommand } from './commands/merge.js';
import { figuresCommand } from './commands/figures.js';
import { runCommand } from './commands/run.js';
import { tableCommand } from './commands/table.js';
import { statusCommand } from './commands/status.js';
import { RunError, UsageError } from './errors.js';
import { PACKAGE_VERSION } from './provenance.js';

/** Exit codes: 0 ok, 1 a run failed, 2 bad usage (config, flag or data file). */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('margin-bench')
    .description('Implicit bias of Adam and Muon on homogeneous networks (Gronich & Vardi, arXiv 2602.16340): MNIST runs in float64')
    .version(PACKAGE_VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`margin-bench: ${text.trim()}\n`) })
    .addHelpText(
      'after',
      `
Examples:
  margin-bench run configs/figure1.yaml --jobs 2           # the paper's grid on the embedded digits
  margin-bench run configs/smoke.yaml                      # a few seconds
  margin-bench status results/figure1                      # what is done, failed, missing
  margin-bench merge results/shard-* --out results/figure1 # combine the shards of a sweep
  margin-bench figures results/figure1                     # Figure 1(a), 1(b), 2, tables, index.html
  margin-bench data fetch --to data/mnist                  # full MNIST (IDX files, SHA-256 checked)
  margin-bench engines                                     # TF.js backends: usable, or how to install
  margin-bench <command> --help                            # every option of a command, with defaults`,
    );
  program.addCommand(runCommand().copyInheritedSettings(program));
  program.addCommand(dataCommand().copyInheritedSettings(program));
  program.addCommand(figuresCommand().copyInheritedSettings(program));
  program.addCommand(tableCommand().copyInheritedSettings(program));
  program.addCommand(mergeCommand().copyInheritedSettings(program));
  program.addCommand(statusCommand().copyInheritedSettings(program));
  program.addCommand(enginesCommand().copyInheritedSettings(program));
  process.exitCode = 0;
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every parse error is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`margin-bench: error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof RunError) {
      // An expected failure with a message a user can act on (no GPU adapter, a network error): no stack.
      process.stderr.write(`margin-bench: run failed: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`margin-bench: run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

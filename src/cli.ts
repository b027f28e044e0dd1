import { Command, CommanderError } from 'commander';
import { dataCommand } from './commands/data.js';
import { enginesCommand } from './commands/engines.js';
import { gpuCheckCommand } from './commands/gpuCheck.js';
import { mergeCommand } from './commands/merge.js';
import { optimizersCommand } from './commands/optimizers.js';
import { figuresCommand } from './commands/figures.js';
import { runCommand } from './commands/run.js';
import { tableCommand } from './commands/table.js';
import { statusCommand } from './commands/status.js';
import { slurmCommand } from './commands/slurm.js';
import { describeFsError, isFsError, RunError, UsageError } from './errors.js';
import { PACKAGE_VERSION } from './provenance.js';

/** Set MARGIN_BENCH_DEBUG=1 to get the stack trace of an error under its one line. */
const DEBUG_ENV = 'MARGIN_BENCH_DEBUG';

/** The subcommand argv asks for (`run`, `merge`, …), to name it in error lines; null if none. */
function commandOf(argv: string[], names: string[]): string | null {
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  return first !== undefined && names.includes(first) ? first : null;
}

/** One error line: `margin-bench: error: <command>: <message>`, newlines folded. */
function errorLine(command: string | null, message: string): string {
  const text = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  const named = command === null || text.startsWith(`${command}: `) ? text : `${command}: ${text}`;
  return `margin-bench: error: ${named}\n`;
}

/** commander's own messages (`error: unknown option '--x'`), with the command named like ours. */
function commanderLine(text: string, command: string | null): string {
  const t = text.trim();
  return t.startsWith('error: ') ? errorLine(command, t.slice('error: '.length)) : `margin-bench: ${t}\n`;
}

/** The one line for a failure, and its exit code: 2 for bad input, 1 for everything else. */
function describeFailure(err: unknown, command: string | null): { line: string; code: number } {
  if (err instanceof UsageError) return { line: errorLine(command, err.message), code: 2 };
  // An expected failure with a message a user can act on (no GPU adapter, a network error).
  if (err instanceof RunError) return { line: errorLine(command, err.message), code: 1 };
  // A file system that fails under us (disk full, a folder removed mid-run): what, where, why.
  if (isFsError(err)) return { line: errorLine(command, describeFsError(err)), code: 1 };
  const message = err instanceof Error ? err.message : String(err);
  const hint = process.env[DEBUG_ENV] === '1' ? '' : ` (unexpected; ${DEBUG_ENV}=1 shows where)`;
  return { line: errorLine(command, `${message}${hint}`), code: 1 };
}

/**
 * A reader that goes away (`margin-bench status dir | head -1`) closes our stdout: writes then fail
 * with EPIPE. That is not an error of ours: stop quietly with exit 0. Other stream errors get one line.
 */
function guardStreams(onClosed: () => void): void {
  const closed = (err: NodeJS.ErrnoException) => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED';
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (closed(err)) return onClosed();
    process.stderr.write(errorLine(null, `cannot write to stdout: ${err.message}`));
    process.exitCode = 1;
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (closed(err)) onClosed();
    // Nowhere left to report anything else.
  });
}

/**
 * Exit codes: 0 ok, 1 a run failed (or a file system failed under us), 2 bad usage (config, flag,
 * path, data file, a folder in use), 130/143 interrupted by SIGINT/SIGTERM. Every error is one
 * line on stderr naming the command; no stack trace unless MARGIN_BENCH_DEBUG=1.
 */
export async function main(argv: string[]): Promise<number> {
  let stdoutClosed = false;
  guardStreams(() => {
    stdoutClosed = true;
    process.exitCode = 0;
  });
  let command: string | null = null;
  const program = new Command('margin-bench')
    .description('Implicit bias of Adam and Muon on homogeneous networks (Gronich & Vardi, arXiv 2602.16340): MNIST runs in float64')
    .version(PACKAGE_VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(commanderLine(text, command)) })
    .addHelpText(
      'after',
      `
Examples:
  margin-bench run configs/paper-cpu.yaml --jobs 2               # the paper's binary setting, sized for 2 cores
  margin-bench table results/paper-cpu --at-loss 1e-8             # margins compared at equal loss
  margin-bench run configs/multiclass-proxy.yaml --jobs 2         # our multiclass proxy grid on the embedded digits
  margin-bench run configs/smoke.yaml                             # a few seconds
  margin-bench status results/multiclass-proxy                    # what is done, failed, missing
  margin-bench merge results/shard-* --out results/multiclass-proxy   # combine the shards of a sweep
  margin-bench figures results/multiclass-proxy                   # Figure 1(a), 1(b), 2, tables, index.html
  margin-bench data fetch --to data/mnist                         # full MNIST (IDX files, SHA-256 checked)
  margin-bench engines                                            # TF.js backends: usable, or how to install
  margin-bench <command> --help                                   # every option of a command, with defaults

Errors are one line on stderr (exit 2 for bad input, 1 for a failure); MARGIN_BENCH_DEBUG=1 adds
the stack trace.`,
    );
  program.addCommand(runCommand().copyInheritedSettings(program));
  program.addCommand(dataCommand().copyInheritedSettings(program));
  program.addCommand(figuresCommand().copyInheritedSettings(program));
  program.addCommand(tableCommand().copyInheritedSettings(program));
  program.addCommand(mergeCommand().copyInheritedSettings(program));
  program.addCommand(statusCommand().copyInheritedSettings(program));
  program.addCommand(slurmCommand().copyInheritedSettings(program));
  program.addCommand(enginesCommand().copyInheritedSettings(program));
  program.addCommand(optimizersCommand().copyInheritedSettings(program));
  program.addCommand(gpuCheckCommand().copyInheritedSettings(program));
  command = commandOf(argv, program.commands.map((c) => c.name()));
  process.exitCode = 0;
  const finish = (code: number) => (stdoutClosed ? 0 : code);
  try {
    await program.parseAsync(argv);
    return finish(Number(process.exitCode ?? 0));
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every parse error is a usage error.
      return finish(err.exitCode === 0 ? 0 : 2);
    }
    const { line, code } = describeFailure(err, command);
    process.stderr.write(line);
    if (process.env[DEBUG_ENV] === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return finish(code);
  }
}

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHARD_ENV_NAMES } from '../../src/sweep/shard.js';

/** The repository root; tsx resolves from here. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));
/** tsx by URL: `--import tsx` would resolve from the child's cwd, which may be a temp folder. */
const TSX = import.meta.resolve('tsx');

/**
 * Whether dist/ was built from the sources as they are: each .ts file under src/ has its .js under
 * dist/, written no earlier than the source was last changed (an edit or a checkout makes it stale).
 */
function distIsFresh(): boolean {
  const src = join(REPO, 'src');
  const sources = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  return sources.every((f) => {
    const built = statSync(join(REPO, 'dist', f.replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
    return built !== undefined && built.mtimeMs >= statSync(join(src, f)).mtimeMs;
  });
}

/**
 * How a child runs the CLI: the built bin/margin-bench.js (what users run, and it starts without
 * the TypeScript loader) when dist/ is fresh, else test/cli/entry.ts through tsx. MARGIN_BENCH_TEST_SOURCES=1
 * always takes the sources.
 */
const CLI_ARGS: readonly string[] =
  process.env.MARGIN_BENCH_TEST_SOURCES !== '1' && distIsFresh() ? [join(REPO, 'bin', 'margin-bench.js')] : ['--import', TSX, ENTRY];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Extra environment variables (the host's shard variables are always cleared). */
  env?: Record<string, string>;
  /** Close our end of the child's stdout at once, as `| head -1` does once it has its line: its writes then fail with EPIPE. */
  closeStdout?: boolean;
}

export interface CliProcess {
  child: ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited. */
  result: Promise<CliResult>;
}

/**
 * Start `margin-bench <args>` in a child process, stdio piped (so stderr is not a TTY and progress
 * prints plain lines). A CI runner's shard variables (MARGIN_BENCH_SHARD, CI_NODE_INDEX, …) are
 * removed so the host cannot slice a test's grid.
 */
export function spawnCli(args: string[], opts: CliOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  for (const name of SHARD_ENV_NAMES) delete env[name];
  const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  if (opts.closeStdout) child.stdout!.destroy();
  else child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, stderr: () => stderr, result };
}

/** Run `margin-bench <args>` to completion. Async, so a test can run several at once. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, opts).result;
}

/** Wait until the process's stderr matches (or it exits: then fail). */
export async function waitFor(p: CliProcess, pattern: RegExp): Promise<void> {
  let exited = false;
  void p.result.then(() => (exited = true));
  while (!pattern.test(p.stderr())) {
    if (exited) assert.fail(`exited before stderr matched ${pattern}:\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

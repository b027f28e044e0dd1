import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root; tsx resolves from here. */
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `margin-bench <args>` in a child process, stdio piped (so stderr is not a TTY and progress
 * prints plain lines). Async, so a test can run several at once.
 */
export function runCli(args: string[], opts: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

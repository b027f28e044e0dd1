import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkOutputDir, requirePath } from '../io/paths.js';
import {
  DEFAULT_FETCH_RETRIES,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MNIST_MIRROR,
  digestsFromEnv,
  fetchMnist,
  type FetchEvent,
} from '../data/fetch.js';
import { formatMnistInfo, mnistInfo } from '../data/info.js';

const DEFAULT_DIR_TEXT = '~/.cache/margin-bench/mnist';

interface FetchFlags {
  to: string;
  mirror: string;
  timeout: string;
  retries: string;
  force: boolean;
  progress: boolean;
}

/** `margin-bench data fetch|info`: get full MNIST once, and look at what a folder holds. */
export function dataCommand(): Command {
  const data = new Command('data')
    .description('full MNIST: download the four IDX files (fetch), inspect a folder of them (info)')
    .addHelpText(
      'after',
      `
Examples:
  margin-bench data fetch --to ~/.cache/margin-bench/mnist
  margin-bench data info ~/.cache/margin-bench/mnist
Then point a config at the folder (a YAML path is not ~-expanded; relative ones resolve against
the current directory):
  data: { source: { idx: /home/you/.cache/margin-bench/mnist }, split: train }`,
    )
    // src/cli.ts copies the program's settings (exitOverride, error output) onto `data` after the
    // subcommands below exist; pass them on when one is dispatched.
    .hook('preSubcommand', (self, sub) => void sub.copyInheritedSettings(self));

  data
    .command('fetch')
    .description('download the four MNIST .gz files, resuming partial downloads; each is kept only if its SHA-256 matches the pinned one')
    .option('--to <dir>', 'folder to download into (created if missing)', DEFAULT_DIR_TEXT)
    .option('--mirror <url>', 'base URL; files are fetched from <url>/<file>', DEFAULT_MNIST_MIRROR)
    .option('--timeout <seconds>', 'give up on a connection silent for this many seconds', String(DEFAULT_FETCH_TIMEOUT_MS / 1000))
    .option('--retries <n>', 'resumed retries per file when a connection drops', String(DEFAULT_FETCH_RETRIES))
    .option('--force', 'replace a present file whose SHA-256 is wrong, instead of refusing with exit 2', false)
    .option('--no-progress', 'no progress output on stderr')
    .addHelpText(
      'after',
      `
Writes <file>.part, checks its SHA-256, then renames it to <file>; an interrupted download resumes
from the .part on the next run. Files already present with the right SHA-256 are skipped. A mirror
that sends a whole file of another size or SHA-256 is an error at once (not retried). Prints
"<sha256>  <path>" per file on stdout (the format of sha256sum -c). Never run implicitly by 'run'.
Exit codes: 0 all four files present and verified; 1 network failure (HTTP error, timeout,
connection dropped more than --retries times); 2 a file present or served that is not the pinned
one (size or SHA-256), or a bad flag.
Another HTTPS mirror: https://ossci-datasets.s3.amazonaws.com/mnist (torchvision's).

Examples:
  margin-bench data fetch --to ~/.cache/margin-bench/mnist
  margin-bench data fetch --to data/mnist --mirror https://ossci-datasets.s3.amazonaws.com/mnist
  margin-bench data fetch --to data/mnist --timeout 120 --retries 10   # a slow connection`,
    )
    .action(async (flags: FetchFlags) => {
      const to = expandHome(flags.to === DEFAULT_DIR_TEXT ? join(homedir(), '.cache', 'margin-bench', 'mnist') : requirePath(flags.to, '--to'));
      checkOutputDir(to, `--to ${to}`);
      const timeoutMs = 1000 * parsePositive(flags.timeout, '--timeout', 'seconds');
      const retries = parseCount(flags.retries, '--retries');
      const progress = flags.progress ? fetchProgress(process.stderr) : null;
      try {
        const files = await fetchMnist({
          to,
          mirror: flags.mirror,
          digests: digestsFromEnv(),
          timeoutMs,
          retries,
          force: flags.force,
          onProgress: progress?.onEvent,
        });
        progress?.stop();
        for (const f of files) process.stdout.write(`${f.sha256}  ${f.path}\n`);
      } catch (err) {
        progress?.stop(); // then src/cli.ts reports it: a network failure is a RunError, exit 1
        throw err;
      }
    });

  data
    .command('info')
    .description('what an MNIST folder holds: per split, n and digits per class; per file, size and SHA-256 against the pinned one')
    .argument('<dir>', 'a folder of MNIST IDX files, raw or .gz (e.g. what `data fetch` wrote)')
    .option('--json', 'print the report as JSON instead of tables', false)
    .addHelpText(
      'after',
      `
Reads each split the way 'run' does (raw file before .gz). Exit codes: 0 both splits readable and
every pinned digest matches; 1 a file missing, unreadable or with another SHA-256; 2 no such folder.

Examples:
  margin-bench data info ~/.cache/margin-bench/mnist
  margin-bench data info data/mnist --json`,
    )
    .action((dir: string, flags: { json: boolean }) => {
      const info = mnistInfo(expandHome(requirePath(dir, 'folder')), digestsFromEnv());
      process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : formatMnistInfo(info));
      if (!info.ok) process.exitCode = 1;
    });

  return data;
}

/** `~/x` → `<home>/x` (for a path given quoted, which the shell did not expand). */
function expandHome(path: string): string {
  return resolve(path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path);
}

function parsePositive(text: string, flag: string, unit: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x <= 0) throw new UsageError(`${flag} ${text}: expected a positive number of ${unit}`);
  return x;
}

function parseCount(text: string, flag: string): number {
  if (!/^\s*\d+\s*$/.test(text)) throw new UsageError(`${flag} ${text}: expected a whole number ≥ 0`);
  return Number(text);
}

/** `4542` → `4.4 KiB`, `9912422` → `9.5 MiB`. */
function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * Download progress on stderr. On a terminal: one cli-progress bar per file (MB done / total).
 * Elsewhere (CI logs): one plain line per file started, retried, skipped or done.
 */
function fetchProgress(stream: NodeJS.WriteStream): { onEvent: (e: FetchEvent) => void; stop: () => void } {
  if (!stream.isTTY) {
    return {
      onEvent(e) {
        const line = plainLine(e);
        if (line !== null) stream.write(`${line}\n`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format: '{file} [{bar}] {percentage}% | {done} of {size}',
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  const show = (file: string, received: number, total: number | null) => {
    // Unknown size: the bar tracks bytes so far, as if they were all.
    const size = total ?? Math.max(received, 1);
    const payload = { file: file.padEnd(26), done: formatBytes(received), size: total === null ? '?' : formatBytes(total) };
    let bar = bars.get(file);
    if (bar === undefined) {
      bar = multi.create(size, received, payload);
      bars.set(file, bar);
    } else {
      bar.setTotal(size);
      bar.update(received, payload);
    }
  };
  return {
    onEvent(e) {
      if (e.kind === 'start') show(e.file, e.resumedFrom, e.total);
      else if (e.kind === 'data') show(e.file, e.received, e.total);
      else if (e.kind === 'done') show(e.file, e.bytes, e.bytes);
      else multi.log(`${plainLine(e)}\n`);
    },
    stop: () => multi.stop(),
  };
}

function plainLine(e: FetchEvent): string | null {
  switch (e.kind) {
    case 'skip':
      return `${e.file}: present, SHA-256 ok`;
    case 'start':
      return e.resumedFrom > 0 ? `${e.file}: resuming ${e.url} at byte ${e.resumedFrom}` : `${e.file}: downloading ${e.url}`;
    case 'retry':
      return `${e.file}: ${e.reason}; retry ${e.attempt - 1} of ${e.attempts - 1}`;
    case 'done':
      return `${e.file}: ${e.bytes} bytes, SHA-256 ok`;
    case 'data':
      return null;
  }
}

// `margin-bench data fetch|info` through the CLI in a child process, against the fake mirror of
// test/data/mirrorFixture.ts; the fakes' digests come in through the MARGIN_BENCH_MNIST_DIGESTS
// testing hook. The downloader's own cases are in test/data/fetch.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIGESTS_ENV, MNIST_GZ_FILES } from '../../src/data/fetch.js';
import { removeTempDirs, tempDir } from '../data/idxFixture.js';
import { startFakeMirror, TRAIN_LABELS, type FakeMirror } from '../data/mirrorFixture.js';
import { runCli, type CliResult } from './helpers.js';

let mirror: FakeMirror;
let env: Record<string, string>;
const fetchedDir = join(tempDir(), 'mnist');
// Each CLI start costs ~1 s of CPU (tsx), so every command of this file starts at once in
// `before` (the two `info` runs after the fetch they read), and the tests check the results.
let help: CliResult;
let fetched: CliResult;
let info: CliResult;
let unpinned: CliResult;
let notFound: CliResult;
let mismatch: CliResult;
before(async () => {
  mirror = await startFakeMirror();
  const digestsFile = join(tempDir(), 'digests.json');
  writeFileSync(digestsFile, JSON.stringify(mirror.digests));
  env = { [DIGESTS_ENV]: digestsFile };
  const fetchThenInfo = async () => {
    fetched = await runCli(['data', 'fetch', '--to', fetchedDir, '--mirror', `${mirror.url}/ok`], { env });
    [info, unpinned] = await Promise.all([
      runCli(['data', 'info', fetchedDir], { env }),
      runCli(['data', 'info', fetchedDir]), // the real pins: the fakes do not match
    ]);
  };
  const fetchFrom = (mode: string) => runCli(['data', 'fetch', '--to', tempDir(), '--mirror', `${mirror.url}/${mode}`, '--no-progress'], { env });
  [help, , notFound, mismatch] = await Promise.all([runCli(['data', 'fetch', '--help']), fetchThenInfo(), fetchFrom('missing'), fetchFrom('bad')]);
});
after(async () => {
  await mirror.close();
  removeTempDirs();
});

test('data fetch --help: every flag with its default, exit codes, examples', () => {
  assert.equal(help.code, 0);
  for (const flag of ['--to <dir>', '--mirror <url>', '--timeout <seconds>', '--retries <n>', '--force', '--no-progress']) {
    assert.ok(help.stdout.includes(flag), flag);
  }
  assert.match(help.stdout, /\(default:\s+"~\/\.cache\/margin-bench\/mnist"\)/);
  assert.match(help.stdout, /https:\/\/storage\.googleapis\.com\/cvdf-datasets\/mnist/);
  assert.match(help.stdout, /Exit codes:/);
  assert.match(help.stdout, /Examples:\n {2}margin-bench data fetch --to ~\/\.cache\/margin-bench\/mnist/);
});

test('data fetch, then data info: files verified, sha256 lines on stdout, counts per digit', () => {
  const dir = fetchedDir;
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.deepEqual(
    fetched.stdout.trimEnd().split('\n'),
    MNIST_GZ_FILES.map((name) => `${mirror.digests[name]}  ${join(dir, name)}`),
  );
  // stderr is not a terminal here: plain lines, one per file started and done.
  assert.match(fetched.stderr, /train-images-idx3-ubyte\.gz: downloading http:\/\/127\.0\.0\.1:\d+\/ok\/train-images-idx3-ubyte\.gz/);
  assert.match(fetched.stderr, /t10k-labels-idx1-ubyte\.gz: \d+ bytes, SHA-256 ok/);
  assert.deepEqual(readdirSync(dir).sort(), [...MNIST_GZ_FILES].sort());

  assert.equal(info.code, 0, info.stderr);
  const counts = Array.from({ length: 10 }, (_, d) => TRAIN_LABELS.filter((l) => l === d).length);
  assert.match(info.stdout, new RegExp(`^train\\s+${TRAIN_LABELS.length}\\s+${counts.join('\\s+')}\\s+train-images-idx3-ubyte\\.gz`, 'm'));
  assert.match(info.stdout, new RegExp(`^train-labels-idx1-ubyte\\.gz\\s+\\d+\\s+${mirror.digests['train-labels-idx1-ubyte.gz']}\\s+ok$`, 'm'));
  assert.equal(unpinned.code, 1);
  assert.match(unpinned.stdout, /MISMATCH, pinned 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c/);
});

test('errors: 404 exits 1, a digest mismatch exits 2; one line each', () => {
  assert.equal(notFound.code, 1);
  assert.equal(notFound.stderr, `margin-bench: error: data: ${mirror.url}/missing/train-images-idx3-ubyte.gz: HTTP 404 Not Found\n`);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /^margin-bench: error: data: \S+\/train-images-idx3-ubyte\.gz serves another file than train-images-idx3-ubyte\.gz: \d+ bytes, SHA-256 [0-9a-f]{64}; expected SHA-256 [0-9a-f]{64}; not kept\n$/);
});

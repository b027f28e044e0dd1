// The MNIST downloader against a fake mirror on 127.0.0.1 (test/data/mirrorFixture.ts): success,
// skip-if-present, resume (206 and 200), dropped and stalled connections, digest mismatches,
// HTTP errors and a server that never answers. Digests are the fakes' own (injected).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError, UsageError } from '../../src/errors.js';
import { fetchMnist, MNIST_GZ_FILES, MNIST_PINNED, MNIST_SHA256, type FetchEvent, type FetchMnistOptions } from '../../src/data/fetch.js';
import { mnistInfo, formatMnistInfo } from '../../src/data/info.js';
import { removeTempDirs, tempDir } from './idxFixture.js';
import { sha256, startFakeMirror, TEST_LABELS, TRAIN_LABELS, type FakeMirror } from './mirrorFixture.js';

let mirror: FakeMirror;
before(async () => {
  mirror = await startFakeMirror();
});
after(async () => {
  await mirror.close();
  removeTempDirs();
});

const LABELS = 'train-labels-idx1-ubyte.gz';
const IMAGES = 'train-images-idx3-ubyte.gz';

/** fetchMnist from `<mirror>/<mode>` with the fakes' digests, short timeouts, no retry pause. */
async function fetchFrom(mode: string, to: string, extra: Partial<FetchMnistOptions> = {}) {
  const events: FetchEvent[] = [];
  const files = await fetchMnist({
    to,
    mirror: `${mirror.url}/${mode}`,
    digests: mirror.digests,
    timeoutMs: 2000,
    retryDelayMs: 5,
    onProgress: (e) => events.push(e),
    ...extra,
  });
  return { files, events };
}

const requestsFor = (mode: string, file: string) => mirror.requests.filter((r) => r.mode === mode && r.file === file);

/** An error of class `cls` whose one-line message contains every one of `parts`. */
const failsWith =
  (cls: typeof UsageError | typeof RunError, ...parts: string[]) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof cls, `expected a ${cls.name}, got ${String(err)}`);
    for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" should mention "${part}"`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  };

test('pinned digests: the four standard files, 64 hex digits, sizes as published', () => {
  assert.deepEqual(Object.keys(MNIST_PINNED).sort(), [...MNIST_GZ_FILES].sort());
  for (const name of MNIST_GZ_FILES) assert.match(MNIST_SHA256[name]!, /^[0-9a-f]{64}$/);
  // yann.lecun.com/exdb/mnist lists these sizes; tensorflow/datasets pins the same.
  assert.deepEqual(MNIST_GZ_FILES.map((n) => MNIST_PINNED[n]!.bytes), [9912422, 28881, 1648877, 4542]);
});

test('downloads the four files, verifies them, leaves no .part; data info reads them', async () => {
  const dir = tempDir();
  const { files, events } = await fetchFrom('ok', dir);
  assert.deepEqual(files.map((f) => f.name), [...MNIST_GZ_FILES]);
  for (const f of files) {
    assert.equal(f.status, 'downloaded');
    assert.equal(f.path, join(dir, f.name));
    assert.deepEqual(readFileSync(f.path), mirror.files[f.name]);
    assert.equal(f.sha256, mirror.digests[f.name]);
  }
  assert.deepEqual(readdirSync(dir).sort(), [...MNIST_GZ_FILES].sort());
  assert.deepEqual(
    events.filter((e) => e.kind === 'done').map((e) => e.file),
    [...MNIST_GZ_FILES],
  );
  const last = events.filter((e) => e.kind === 'data' && e.file === IMAGES).at(-1);
  assert.deepEqual(last, { kind: 'data', file: IMAGES, received: mirror.files[IMAGES]!.length, total: mirror.files[IMAGES]!.length });

  const info = mnistInfo(dir, mirror.digests);
  assert.ok(info.ok);
  assert.deepEqual(info.missing, []);
  const count = (labels: number[]) => Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
  assert.deepEqual(
    info.splits.map((s) => [s.split, s.n, s.counts, s.images, s.error]),
    [
      ['train', TRAIN_LABELS.length, count(TRAIN_LABELS), 'train-images-idx3-ubyte.gz', null],
      ['test', TEST_LABELS.length, count(TEST_LABELS), 't10k-images-idx3-ubyte.gz', null],
    ],
  );
  assert.ok(info.files.every((f) => f.pinned === f.sha256));
  // Against the real pins, the fakes are reported, not accepted.
  const real = mnistInfo(dir);
  assert.equal(real.ok, false);
  assert.match(formatMnistInfo(real), /MISMATCH, pinned 440fcabf/);
});

test('a file already present with the right digest is skipped, without a request', async () => {
  const dir = tempDir();
  await fetchFrom('ok', dir);
  const before = mirror.requests.length;
  const { files, events } = await fetchFrom('ok', dir);
  assert.equal(mirror.requests.length, before);
  assert.ok(files.every((f) => f.status === 'present'));
  assert.deepEqual(events.map((e) => e.kind), ['skip', 'skip', 'skip', 'skip']);
});

test('a dropped connection is resumed with a Range request; the final file is right', async () => {
  const dir = tempDir();
  const { events } = await fetchFrom('drop', dir, { files: [IMAGES] });
  const half = mirror.files[IMAGES]!.length >> 1;
  assert.deepEqual(
    requestsFor('drop', IMAGES).map((r) => r.range),
    [undefined, `bytes=${half}-`],
  );
  assert.deepEqual(readFileSync(join(dir, IMAGES)), mirror.files[IMAGES]);
  assert.ok(!existsSync(join(dir, `${IMAGES}.part`)));
  const retry = events.find((e) => e.kind === 'retry');
  assert.ok(retry && retry.kind === 'retry' && retry.attempt === 2 && /dropped after \d+ bytes/.test(retry.reason), JSON.stringify(retry));
  assert.ok(events.some((e) => e.kind === 'start' && e.resumedFrom === half));
});

test('a .part left by an earlier run is resumed (206), restarted when the server ignores Range (200), kept when whole (416)', async () => {
  const body = mirror.files[IMAGES]!;
  const k = body.length >> 2;
  const dirA = tempDir();
  writeFileSync(join(dirA, `${IMAGES}.part`), body.subarray(0, k));
  await fetchFrom('ok', dirA, { files: [IMAGES] });
  assert.equal(requestsFor('ok', IMAGES).at(-1)!.range, `bytes=${k}-`);
  assert.deepEqual(readFileSync(join(dirA, IMAGES)), body);

  // A server that answers a Range request with the whole file: the part is rewritten, not appended to.
  const dirB = tempDir();
  writeFileSync(join(dirB, `${IMAGES}.part`), Buffer.alloc(k, 7));
  await fetchFrom('norange', dirB, { files: [IMAGES] });
  assert.equal(requestsFor('norange', IMAGES).at(-1)!.range, `bytes=${k}-`);
  assert.deepEqual(readFileSync(join(dirB, IMAGES)), body);
  assert.deepEqual(readdirSync(dirB), [IMAGES]);

  // A whole file left as .part: the server answers 416 (nothing after it); verified and kept.
  const dirC = tempDir();
  writeFileSync(join(dirC, `${IMAGES}.part`), body);
  await fetchFrom('ok', dirC, { files: [IMAGES] });
  assert.equal(requestsFor('ok', IMAGES).at(-1)!.range, `bytes=${body.length}-`);
  assert.deepEqual(readFileSync(join(dirC, IMAGES)), body);
  assert.deepEqual(readdirSync(dirC), [IMAGES]);
});

test('a stalled body (no bytes for timeoutMs) is retried from where it stopped', async () => {
  const dir = tempDir();
  const t0 = performance.now();
  const { events } = await fetchFrom('stall', dir, { files: [LABELS], timeoutMs: 300 });
  assert.ok(performance.now() - t0 < 5000);
  assert.deepEqual(readFileSync(join(dir, LABELS)), mirror.files[LABELS]);
  const retry = events.find((e) => e.kind === 'retry');
  assert.ok(retry && retry.kind === 'retry' && retry.reason.includes('no data for 300 ms'), JSON.stringify(retry));
  assert.equal(requestsFor('stall', LABELS).at(-1)!.range, `bytes=${mirror.files[LABELS]!.length >> 1}-`);
});

test('a connection that keeps dropping: RunError naming the URL after retries + 1 attempts; the .part stays', async () => {
  const dir = tempDir();
  await assert.rejects(
    fetchFrom('dropall', dir, { files: [LABELS], retries: 2 }),
    failsWith(RunError, `${mirror.url}/dropall/${LABELS}`, 'gave up after 3 attempts', `${LABELS}.part`),
  );
  assert.equal(requestsFor('dropall', LABELS).length, 3);
  assert.ok(!existsSync(join(dir, LABELS)));
  // One byte per attempt, each resumed where the last stopped.
  assert.deepEqual(readFileSync(join(dir, `${LABELS}.part`)), mirror.files[LABELS]!.subarray(0, 3));
});

test('checksum mismatch: UsageError naming the file and both digests; no file and no .part kept', async () => {
  const dir = tempDir();
  const err = await fetchFrom('bad', dir, { files: [LABELS] }).catch((e: unknown) => e);
  assert.ok(failsWith(UsageError, LABELS, `/bad/${LABELS}`, `expected SHA-256 ${mirror.digests[LABELS]}`, 'not kept')(err));
  const actual = /SHA-256 ([0-9a-f]{64})/.exec((err as Error).message)![1]!;
  assert.notEqual(actual, mirror.digests[LABELS]);
  assert.deepEqual(readdirSync(dir), []);
});

/** "<n> bytes, SHA-256 <hex>": how a message names a file's size and digest. */
const sized = (bytes: Uint8Array | number, sha: string) => `${typeof bytes === 'number' ? bytes : bytes.length} bytes, SHA-256 ${sha}`;

test('a mirror serving another, complete file (Content-Length or chunked): UsageError at once naming both files; no retry', async () => {
  // The real pins: MNIST's train labels are 28881 bytes, the mirror's fake is a few dozen.
  const pinned = sized(MNIST_PINNED[LABELS]!.bytes, MNIST_SHA256[LABELS]!);
  const fake = sized(mirror.files[LABELS]!, mirror.digests[LABELS]!);
  for (const mode of ['ok', 'norange', 'chunked']) {
    const dir = tempDir();
    const events: FetchEvent[] = [];
    const n = requestsFor(mode, LABELS).length;
    const err = await fetchFrom(mode, dir, { files: [LABELS], digests: MNIST_SHA256, onProgress: (e) => events.push(e) }).catch((e: unknown) => e);
    assert.ok(failsWith(UsageError, `${mirror.url}/${mode}/${LABELS}`, `serves another file than ${LABELS}: ${fake}`, `expected ${pinned}`, 'not kept')(err), mode);
    assert.doesNotMatch((err as Error).message, /resume|attempt|retry/);
    assert.equal(requestsFor(mode, LABELS).length - n, 1, `${mode}: one request`);
    assert.deepEqual(events.filter((e) => e.kind === 'retry'), []);
    assert.deepEqual(readdirSync(dir), []);
  }
});

test('resuming from a mirror whose file has another size (206 or 416): UsageError naming its size and digest; the .part left as it was', async () => {
  const pinned = sized(MNIST_PINNED[LABELS]!.bytes, MNIST_SHA256[LABELS]!);
  const fake = sized(mirror.files[LABELS]!, mirror.digests[LABELS]!);
  // 10 bytes: the mirror answers 206 with its size in Content-Range; 100 (past its end): 416.
  // A server that ignores Range answers 200 with its own Content-Length.
  for (const [mode, earlier] of [['ok', 10], ['ok', 100], ['norange', 10]] as const) {
    const dir = tempDir();
    const part = join(dir, `${LABELS}.part`);
    const bytes = Buffer.alloc(earlier, 3);
    writeFileSync(part, bytes);
    const n = requestsFor(mode, LABELS).length;
    const err = await fetchFrom(mode, dir, { files: [LABELS], digests: MNIST_SHA256 }).catch((e: unknown) => e);
    assert.ok(failsWith(UsageError, `/${mode}/${LABELS}`, `serves another file than ${LABELS}: ${fake}`, `expected ${pinned}`, `${part} left as it was`)(err), `${mode} ${earlier}`);
    assert.deepEqual(readFileSync(part), bytes);
    assert.deepEqual(readdirSync(dir), [`${LABELS}.part`]);
    // The Range request, then (206/416) one plain request whose body is hashed: no retry.
    assert.deepEqual(
      requestsFor(mode, LABELS).slice(n).map((r) => r.range),
      mode === 'ok' ? [`bytes=${earlier}-`, undefined] : [`bytes=${earlier}-`],
    );
  }
});

test('a body cut before its Content-Length is still resumed; a pinned-size file is judged by its digest once whole', async () => {
  // A file of the pinned size (so the mirror's Content-Length is MNIST's) that is not MNIST's.
  const body = Buffer.alloc(MNIST_PINNED[LABELS]!.bytes, 1);
  const sizedMirror = await startFakeMirror({ [LABELS]: body });
  try {
    const dir = tempDir();
    const events: FetchEvent[] = [];
    const err = await fetchMnist({
      to: dir,
      mirror: `${sizedMirror.url}/drop`,
      files: [LABELS],
      timeoutMs: 2000,
      retryDelayMs: 5,
      onProgress: (e) => events.push(e),
    }).catch((e: unknown) => e);
    // Cut half way: retried with a Range request from where it stopped …
    assert.deepEqual(sizedMirror.requests.map((r) => r.range), [undefined, `bytes=${body.length >> 1}-`]);
    const retries = events.filter((e) => e.kind === 'retry');
    assert.equal(retries.length, 1);
    assert.match(retries[0]!.kind === 'retry' ? retries[0]!.reason : '', /dropped after \d+ bytes/);
    // … and the whole file, the right size with another digest, is another file.
    assert.ok(failsWith(UsageError, `/drop/${LABELS}`, `${LABELS}: ${sized(body, sha256(body))}`, `expected ${sized(body.length, MNIST_SHA256[LABELS]!)}`)(err));
    assert.deepEqual(readdirSync(dir), []);

    // A .part left by an earlier run and completed here: which bytes are wrong cannot be told.
    writeFileSync(join(dir, `${LABELS}.part`), body.subarray(0, 10));
    await assert.rejects(
      fetchMnist({ to: dir, mirror: `${sizedMirror.url}/ok`, files: [LABELS], retryDelayMs: 5 }),
      failsWith(UsageError, `the 10 bytes of ${join(dir, `${LABELS}.part`)} left by an earlier run`, `/ok/${LABELS}`, 'run again to download it whole'),
    );
    assert.deepEqual(readdirSync(dir), []);

    // A whole .part (the pinned size) left by an earlier run: no request, judged by its digest.
    const n = sizedMirror.requests.length;
    writeFileSync(join(dir, `${LABELS}.part`), body);
    await assert.rejects(
      fetchMnist({ to: dir, mirror: `${sizedMirror.url}/ok`, files: [LABELS], retryDelayMs: 5 }),
      failsWith(UsageError, `${join(dir, `${LABELS}.part`)}, left whole by an earlier run, holds ${sized(body, sha256(body))}`, 'run again to download it whole'),
    );
    assert.equal(sizedMirror.requests.length, n);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await sizedMirror.close();
  }
});

test('a present file with a wrong digest is an error and left alone, unless force', async () => {
  const dir = tempDir();
  const path = join(dir, LABELS);
  writeFileSync(path, 'not mnist');
  const before = mirror.requests.length;
  await assert.rejects(
    fetchFrom('ok', dir, { files: [LABELS] }),
    failsWith(UsageError, path, `expected ${mirror.digests[LABELS]}`, '--force'),
  );
  assert.equal(readFileSync(path, 'utf8'), 'not mnist');
  assert.equal(mirror.requests.length, before);

  const { files } = await fetchFrom('ok', dir, { files: [LABELS], force: true });
  assert.equal(files[0]!.status, 'downloaded');
  assert.deepEqual(readFileSync(path), mirror.files[LABELS]);
});

test('a redirect is followed, and the Range header goes with it', async () => {
  const dir = tempDir();
  const body = mirror.files[IMAGES]!;
  writeFileSync(join(dir, `${IMAGES}.part`), body.subarray(0, 10));
  const { events } = await fetchFrom('redirect', dir, { files: [IMAGES] });
  assert.deepEqual(readFileSync(join(dir, IMAGES)), body);
  assert.equal(requestsFor('redirect', IMAGES).at(-1)!.range, 'bytes=10-');
  assert.equal(requestsFor('ok', IMAGES).at(-1)!.range, 'bytes=10-');
  assert.ok(events.some((e) => e.kind === 'start' && e.url === `${mirror.url}/ok/${IMAGES}` && e.resumedFrom === 10));
});

test('HTTP 404: RunError naming the URL and the status; nothing written', async () => {
  const dir = tempDir();
  await assert.rejects(fetchFrom('missing', dir), failsWith(RunError, `${mirror.url}/missing/train-images-idx3-ubyte.gz`, 'HTTP 404'));
  assert.deepEqual(readdirSync(dir), []);
});

test('a server that never answers: RunError after timeoutMs, naming the URL', async () => {
  const dir = tempDir();
  const t0 = performance.now();
  await assert.rejects(
    fetchFrom('silent', dir, { timeoutMs: 300 }),
    failsWith(RunError, `${mirror.url}/silent/train-images-idx3-ubyte.gz`, 'no response in 300 ms'),
  );
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 250 && elapsed < 3000, `${elapsed} ms`);
  assert.equal(requestsFor('silent', IMAGES).length, 1); // not retried: the server never answered
});

test('bad inputs are usage errors: mirror URL, a file without a digest, a malformed digest', async () => {
  const to = tempDir();
  await assert.rejects(fetchMnist({ to, mirror: 'ftp://example.org/mnist' }), failsWith(UsageError, '--mirror ftp://example.org/mnist'));
  await assert.rejects(fetchMnist({ to, mirror: 'not a url' }), failsWith(UsageError, '--mirror not a url'));
  await assert.rejects(fetchMnist({ to, files: ['other.gz'] }), failsWith(UsageError, 'no SHA-256 pinned for other.gz'));
  await assert.rejects(fetchMnist({ to, files: ['x.gz'], digests: { 'x.gz': 'abc' } }), failsWith(UsageError, 'x.gz', 'not 64 lowercase hex'));
});

test('data info on a partial folder: missing files named, split reported unreadable, not ok', async () => {
  const dir = tempDir();
  await fetchFrom('ok', dir, { files: [IMAGES, LABELS] });
  const info = mnistInfo(dir, mirror.digests);
  assert.equal(info.ok, false);
  assert.deepEqual(info.missing, ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']);
  assert.equal(info.splits[0]!.n, TRAIN_LABELS.length);
  assert.deepEqual([info.splits[1]!.n, info.splits[1]!.error], [null, 'missing files']);
  assert.match(formatMnistInfo(info), /missing: t10k-images-idx3-ubyte\[\.gz\], t10k-labels-idx1-ubyte\[\.gz\]/);
  assert.throws(() => mnistInfo(join(dir, 'nope')), failsWith(UsageError, 'no such folder'));
});

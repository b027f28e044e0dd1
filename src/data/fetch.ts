import { createHash } from 'node:crypto';
import { makeDirs } from '../io/paths.js';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join, resolve } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { RunError, UsageError } from '../errors.js';
import { IDX_FILES } from './idx.js';

/**
 * The four standard MNIST downloads, as published by LeCun, Cortes & Burges: the IDX files of
 * src/data/idx.ts, gzipped.
 */
export const MNIST_GZ_FILES: readonly string[] = [
  `${IDX_FILES.train.images}.gz`,
  `${IDX_FILES.train.labels}.gz`,
  `${IDX_FILES.test.images}.gz`,
  `${IDX_FILES.test.labels}.gz`,
];

/**
 * SHA-256 and size in bytes of each standard `.gz` file, and of the IDX file it inflates to
 * (`idx`: what the `mnist-full` source checks, since a re-packed `.gz` has other bytes but the same
 * content). Two independent sources agree on all four `.gz` digests:
 * - tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt (commit 31f1255e): URL on the
 *   CVDF mirror below, size and SHA-256 of each file;
 * - pytorch/vision, torchvision/prototype/datasets/_builtin/mnist.py (commit 1ec2509e): `MNIST._CHECKSUMS`.
 * The sizes are also those listed on yann.lecun.com/exdb/mnist (9912422, 28881, 1648877, 4542).
 * (torchvision's stable loader checks the same files by MD5: f68b3c2d…, d53e105e…, 9fb629c4…, ec29112d….)
 * The inflated digests are those of gunzip on the four pinned files; several unrelated public
 * projects pin the same four, and the IDX sizes follow from the headers (16 + 784 n, 8 + n bytes).
 */
export const MNIST_PINNED: Readonly<Record<string, { sha256: string; bytes: number; idx: { sha256: string; bytes: number } }>> = Object.freeze({
  'train-images-idx3-ubyte.gz': {
    sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    bytes: 9912422,
    idx: { sha256: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db', bytes: 47040016 },
  },
  'train-labels-idx1-ubyte.gz': {
    sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    bytes: 28881,
    idx: { sha256: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5', bytes: 60008 },
  },
  't10k-images-idx3-ubyte.gz': {
    sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
    bytes: 1648877,
    idx: { sha256: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7', bytes: 7840016 },
  },
  't10k-labels-idx1-ubyte.gz': {
    sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    bytes: 4542,
    idx: { sha256: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2', bytes: 10008 },
  },
});

/** The pinned digests alone, name → SHA-256 (what `digests` defaults to). */
export const MNIST_SHA256: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(MNIST_PINNED).map(([name, pin]) => [name, pin.sha256])),
);

/**
 * The Common Visual Data Foundation's copy on Google Cloud Storage: the HTTPS mirror TensorFlow
 * Datasets downloads from and pins (source above). torchvision lists http://yann.lecun.com/exdb/mnist
 * first (plain HTTP, often refused nowadays), then https://ossci-datasets.s3.amazonaws.com/mnist,
 * which serves the same bytes and works as `--mirror`.
 */
export const DEFAULT_MNIST_MIRROR = 'https://storage.googleapis.com/cvdf-datasets/mnist';

export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** Retries of a connection that dropped (or stalled) after the server had answered. */
export const DEFAULT_FETCH_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1000;
const MAX_REDIRECTS = 5;

/**
 * Testing hook: a JSON file `{"<name>.gz": "<sha256>", …}` that replaces the pinned digests in
 * `data fetch` and `data info`, so the CLI can be tested against a local server with small fakes.
 */
export const DIGESTS_ENV = 'MARGIN_BENCH_MNIST_DIGESTS';

export type FetchEvent =
  /** A file is present with the right digest; nothing to do. */
  | { kind: 'skip'; file: string; bytes: number }
  /** The server answered; `resumedFrom` bytes were already on disk (0: from scratch). */
  | { kind: 'start'; file: string; url: string; resumedFrom: number; total: number | null }
  /** Bytes of the file on disk so far, resumed part included. */
  | { kind: 'data'; file: string; received: number; total: number | null }
  /** The connection dropped or stalled; resuming. `attempt` counts from 2. */
  | { kind: 'retry'; file: string; attempt: number; attempts: number; reason: string }
  /** Downloaded, verified and renamed into place. */
  | { kind: 'done'; file: string; bytes: number };

export interface FetchMnistOptions {
  /** Folder to write into (created if missing). */
  to: string;
  /** Base URL; file `name` is fetched from `<mirror>/<name>`. Default DEFAULT_MNIST_MIRROR. */
  mirror?: string;
  /** File names to fetch; default MNIST_GZ_FILES. Each needs a digest. */
  files?: readonly string[];
  /** name → expected SHA-256 (hex); default the pinned MNIST_SHA256. */
  digests?: Readonly<Record<string, string>>;
  /** A silent connection (no bytes) is given up after this long. Default 30 s. */
  timeoutMs?: number;
  /** Resumed retries per file after a dropped connection. Default 3. */
  retries?: number;
  /** Pause before the first retry, doubled for each further one. Default 1 s. */
  retryDelayMs?: number;
  /** Replace a present file whose digest is wrong instead of refusing. */
  force?: boolean;
  onProgress?: (event: FetchEvent) => void;
}

export interface FetchedFile {
  name: string;
  path: string;
  bytes: number;
  sha256: string;
  status: 'downloaded' | 'present';
}

/**
 * Download the MNIST `.gz` files into `to`, docs/science.md §2 (full MNIST). Each file goes to `<name>.part`,
 * resumed with an HTTP Range request when a part is already there (from an earlier run or a
 * dropped connection), and is renamed to `<name>` only once its SHA-256 matches. A present file
 * with the right digest is skipped.
 *
 * A complete answer (its Content-Length or chunked framing honoured) is the mirror's whole file:
 * if its size or digest is not the expected one, the mirror serves another file, and that is an
 * error at once, not a download to retry or resume. Only a body that broke off is retried.
 *
 * Errors: UsageError (exit 2) when the bytes are wrong: a present file with another digest (kept;
 * `force` replaces it), a mirror that serves another file (its size and digest named; nothing of
 * it kept), a bad mirror URL or digest list. RunError (exit 1) when the network fails: an HTTP
 * error status, a server that does not answer within `timeoutMs`, a connection that keeps
 * dropping. Every message names the file or the URL.
 */
export async function fetchMnist(opts: FetchMnistOptions): Promise<FetchedFile[]> {
  const dir = resolve(opts.to);
  const base = mirrorBase(opts.mirror ?? DEFAULT_MNIST_MIRROR);
  const digests = opts.digests ?? MNIST_SHA256;
  const files = opts.files ?? MNIST_GZ_FILES;
  for (const name of files) {
    const sha = digests[name];
    if (sha === undefined) throw new UsageError(`no SHA-256 pinned for ${name}; known files: ${Object.keys(digests).join(', ')}`);
    checkDigest(sha, name);
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  makeDirs(dir);
  const ctx: FetchContext = {
    timeoutMs: opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
    retries: opts.retries ?? DEFAULT_FETCH_RETRIES,
    retryDelayMs: opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    force: opts.force ?? false,
    emit: opts.onProgress ?? (() => {}),
  };
  const out: FetchedFile[] = [];
  for (const name of files) {
    const sha256 = digests[name]!;
    // The pinned size only describes the pinned file (a test's fake has its own).
    const pin = MNIST_PINNED[name];
    const bytes = pin !== undefined && pin.sha256 === sha256 ? pin.bytes : null;
    out.push(await fetchOne(join(dir, name), new URL(name, base), { name, sha256, bytes }, ctx));
  }
  return out;
}

/** SHA-256 of a file, hex, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The digests named by MARGIN_BENCH_MNIST_DIGESTS (a testing hook), or undefined when it is unset. */
export function digestsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  const file = env[DIGESTS_ENV];
  if (file === undefined || file === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${DIGESTS_ENV}=${file}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`${DIGESTS_ENV}=${file}: expected a JSON object {"<file>": "<sha256>"}`);
  }
  for (const [name, sha] of Object.entries(parsed)) checkDigest(sha, `${name} in ${DIGESTS_ENV}=${file}`);
  return parsed as Record<string, string>;
}

interface FetchContext {
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  force: boolean;
  emit: (event: FetchEvent) => void;
}

interface Expected {
  name: string;
  sha256: string;
  /** Known size (pinned files only), else null. */
  bytes: number | null;
}

function checkDigest(sha: unknown, what: string): void {
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) {
    throw new UsageError(`SHA-256 for ${what}: ${JSON.stringify(sha)} is not 64 lowercase hex digits`);
  }
}

/** `https://host/path` → `https://host/path/`, so that `new URL(name, base)` appends. */
function mirrorBase(mirror: string): URL {
  let url: URL;
  try {
    url = new URL(mirror.endsWith('/') ? mirror : `${mirror}/`);
  } catch {
    throw new UsageError(`--mirror ${mirror}: not a URL (expected e.g. ${DEFAULT_MNIST_MIRROR})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`--mirror ${mirror}: expected an http:// or https:// URL`);
  }
  return url;
}

async function fetchOne(path: string, url: URL, want: Expected, ctx: FetchContext): Promise<FetchedFile> {
  if (existsSync(path)) {
    const actual = await sha256File(path);
    const bytes = statSync(path).size;
    if (actual === want.sha256) {
      ctx.emit({ kind: 'skip', file: want.name, bytes });
      return { name: want.name, path, bytes, sha256: actual, status: 'present' };
    }
    if (!ctx.force) {
      throw new UsageError(
        `${path} is present but its SHA-256 is ${actual}, expected ${want.sha256}; not overwritten (delete it, or rerun with --force)`,
      );
    }
  }
  const part = `${path}.part`;
  const attempts = ctx.retries + 1;
  const state: PartState = { earlier: existsSync(part) ? statSync(part).size : 0 };
  for (let attempt = 1; ; attempt++) {
    try {
      await downloadPart(part, url, want, ctx, state);
      break;
    } catch (err) {
      if (!(err instanceof Dropped)) throw err;
      if (attempt >= attempts) {
        throw new RunError(`${err.url}: ${err.message}; gave up after ${attempts} attempts (run again to resume from ${part})`);
      }
      ctx.emit({ kind: 'retry', file: want.name, attempt: attempt + 1, attempts, reason: err.message });
      await sleep(ctx.retryDelayMs * 2 ** (attempt - 1));
    }
  }
  const actual = await sha256File(part);
  const bytes = statSync(part).size;
  if (actual !== want.sha256 || (want.bytes !== null && bytes !== want.bytes)) {
    // Deleted, or the next run would resume the same bad bytes.
    rmSync(part, { force: true });
    const retry = 'deleted, run again to download it whole';
    if (state.earlier >= bytes) {
      throw new UsageError(`${want.name}: ${part}, left whole by an earlier run, holds ${served(bytes, actual)}; expected ${expected(want)}; ${retry}`);
    }
    if (state.earlier > 0) {
      // Which bytes are wrong, the earlier run's or this mirror's, cannot be told apart.
      throw new UsageError(
        `${want.name}: the ${state.earlier} bytes of ${part} left by an earlier run, completed from ${url.href}, make ${served(bytes, actual)}; expected ${expected(want)}; ${retry}`,
      );
    }
    throw wrongFile(want, url.href, bytes, actual, 'not kept');
  }
  renameSync(part, path);
  ctx.emit({ kind: 'done', file: want.name, bytes });
  return { name: want.name, path, bytes, sha256: actual, status: 'downloaded' };
}

/** Bytes of the .part that an earlier run left and that this run appended to (0: none). */
interface PartState {
  earlier: number;
}

const served = (bytes: number, sha256: string | null) => `${bytes} bytes, SHA-256 ${sha256 ?? 'unknown'}`;
const expected = (want: Expected) => (want.bytes === null ? `SHA-256 ${want.sha256}` : served(want.bytes, want.sha256));

/** The mirror's complete answer is not the expected file: an error at once, nothing to retry. */
function wrongFile(want: Expected, url: string, bytes: number, sha256: string | null, tail: string): UsageError {
  return new UsageError(`${url} serves another file than ${want.name}: ${served(bytes, sha256)}; expected ${expected(want)}; ${tail}`);
}

/** A connection that failed after the server had answered: worth resuming. */
class Dropped extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Bring `part` up to the whole file with one request: from its current size (Range) when it has
 * bytes, from scratch otherwise. Resolves when the answer was complete (the caller verifies it);
 * throws Dropped when the body broke off or stalled, a UsageError at once when the server declares
 * a file of another size than the expected one, a RunError for anything else a retry would not fix.
 */
async function downloadPart(part: string, url: URL, want: Expected, ctx: FetchContext, state: PartState): Promise<void> {
  let have = existsSync(part) ? statSync(part).size : 0;
  if (want.bytes !== null && have > want.bytes) {
    rmSync(part); // longer than the file: not a prefix of it
    have = 0;
    state.earlier = 0;
  }
  if (want.bytes !== null && have === want.bytes) return; // complete; the caller verifies
  const { res, finalUrl, stalled } = await request(url, have, ctx.timeoutMs);
  const where = finalUrl.href;
  /** A whole-file size declared by the server that is not the expected one: another file. */
  const otherSize = (declared: number | null): declared is number => want.bytes !== null && declared !== null && declared !== want.bytes;
  const untouched = have > 0 ? `${part} left as it was` : 'not kept';

  let append: boolean;
  let total: number | null;
  if (res.statusCode === 206 && have > 0) {
    const range = parseContentRange(res.headers['content-range']);
    if (range === null || range.start !== have) {
      res.destroy();
      throw new RunError(`${where}: asked for bytes from ${have}, got Content-Range ${res.headers['content-range'] ?? '(none)'}`);
    }
    if (otherSize(range.total)) {
      res.destroy();
      throw await wrongWholeFile(url, want, range.total, ctx, untouched);
    }
    append = true;
    total = want.bytes ?? range.total;
  } else if (res.statusCode === 200) {
    const length = contentLength(res);
    if (otherSize(length)) {
      // Read (and hash) the body only to name what the mirror serves; the .part is not touched.
      throw wrongFile(want, where, length, await sha256Body(res), untouched);
    }
    append = false; // a server that ignores Range sends the whole file
    total = want.bytes ?? length;
  } else if (res.statusCode === 416 && have > 0) {
    // Nothing left after `have`: the part is whole (the caller verifies it), or longer than the
    // server's file, which then has another size than the expected one.
    res.resume();
    const size = parseContentRange(res.headers['content-range'])?.total ?? null;
    if (otherSize(size)) throw await wrongWholeFile(url, want, size, ctx, untouched);
    return;
  } else {
    res.resume();
    throw new RunError(`${where}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd());
  }

  const start = append ? have : 0;
  if (!append) state.earlier = 0;
  ctx.emit({ kind: 'start', file: want.name, url: where, resumedFrom: start, total });
  let received = start;
  const sink = createWriteStream(part, { flags: append ? 'a' : 'w' });
  let diskError: Error | null = null;
  sink.on('error', (err) => (diskError ??= err));
  let broke: unknown = null;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      received += chunk.length;
      ctx.emit({ kind: 'data', file: want.name, received, total });
      if (!sink.write(chunk)) await once(sink, 'drain');
    }
  } catch (err) {
    broke = err;
  }
  // Ended, not destroyed, also when the body broke off: every byte received reaches the .part, so
  // the next attempt resumes right after them (a destroyed stream drops the writes still queued).
  sink.end();
  try {
    await finished(sink);
  } catch (err) {
    diskError ??= err as Error;
  }
  if (diskError !== null) throw new RunError(`${part}: ${(diskError as Error).message}`);
  if (broke !== null) {
    throw new Dropped(where, stalled() ? `no data for ${ctx.timeoutMs} ms after ${received} bytes` : `connection dropped after ${received} bytes (${(broke as Error).message})`);
  }
  if (!res.complete) throw new Dropped(where, `connection dropped after ${received} bytes`);
  // With a Content-Length or chunked framing, a complete answer is the server's whole file, short
  // or not (the caller's size and digest check names it). Without either, the body ends when the
  // connection does, and a short one may have been cut.
  if (want.bytes !== null && received < want.bytes && !framed(res)) {
    throw new Dropped(where, `body ended after ${received} of ${want.bytes} bytes`);
  }
}

/**
 * The error for a server whose file has another size (`declared`, from a Content-Range) than the
 * expected one, named with its digest: the whole file is requested once more, without Range, and
 * hashed, not kept. Its size stays the declared one and its digest unknown if that fails.
 */
async function wrongWholeFile(url: URL, want: Expected, declared: number, ctx: FetchContext, tail: string): Promise<UsageError> {
  try {
    const { res, finalUrl } = await request(url, 0, ctx.timeoutMs);
    const length = contentLength(res);
    if (res.statusCode === 200 && length !== null) return wrongFile(want, finalUrl.href, length, await sha256Body(res), tail);
    res.resume();
  } catch {
    // the declared size is enough to tell: reported without a digest
  }
  return wrongFile(want, url.href, declared, null, tail);
}

/** SHA-256 of a response body, hex; null if the body breaks off. */
async function sha256Body(res: http.IncomingMessage): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    await pipeline(res, hash);
  } catch {
    return null;
  }
  return res.complete ? hash.digest('hex') : null;
}

/** Whether the body's end is marked (Content-Length, chunked), not just the connection's end. */
function framed(res: http.IncomingMessage): boolean {
  return res.headers['content-length'] !== undefined || /\bchunked\b/i.test(res.headers['transfer-encoding'] ?? '');
}

interface Answer {
  res: http.IncomingMessage;
  finalUrl: URL;
  /** Whether the request was cut for silence (set once the body stalls). */
  stalled: () => boolean;
}

/**
 * GET `url` (with `Range: bytes=<from>-` when from > 0), following redirects. Rejects with a
 * RunError when the server cannot be reached or sends no response within `timeoutMs`; once it has
 * answered, the same timeout keeps guarding the body (a silent socket is destroyed, `stalled()`).
 */
async function request(url: URL, from: number, timeoutMs: number): Promise<Answer> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const answer = await requestOnce(current, from, timeoutMs);
    const { statusCode = 0, headers } = answer.res;
    if (statusCode < 300 || statusCode >= 400 || headers.location === undefined) return answer;
    answer.res.resume();
    if (hop >= MAX_REDIRECTS) throw new RunError(`${url.href}: more than ${MAX_REDIRECTS} redirects`);
    current = new URL(headers.location, current);
  }
}

function requestOnce(url: URL, from: number, timeoutMs: number): Promise<Answer> {
  return new Promise((resolvePromise, reject) => {
    let stalled = false;
    let answered = false;
    const get = url.protocol === 'https:' ? https.get : http.get;
    // agent: false, one connection per request: no keep-alive socket outlives the download.
    const headers: http.OutgoingHttpHeaders = from > 0 ? { Range: `bytes=${from}-` } : {};
    const req = get(url, { headers, agent: false }, (res) => {
      answered = true;
      resolvePromise({ res, finalUrl: url, stalled: () => stalled });
    });
    // The socket's idle timer: covers the wait for the response and every gap in the body.
    req.setTimeout(timeoutMs, () => {
      stalled = true;
      req.destroy(new Error(`no response in ${timeoutMs} ms`));
    });
    req.on('error', (err) => {
      // After the answer, the body's pipeline reports the failure.
      if (!answered) reject(new RunError(`${url.href}: ${err.message}`));
    });
  });
}

function contentLength(res: http.IncomingMessage): number | null {
  const n = Number(res.headers['content-length']);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

// `bytes 100-199/200` → { start: 100, total: 200 }; total null for `/*`; a 416's `bytes */200` →
// { start: null, total: 200 }.
function parseContentRange(header: string | undefined): { start: number | null; total: number | null } | null {
  const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (m === null) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) };
}

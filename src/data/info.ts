import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { MNIST_SHA256 } from './fetch.js';
import { findIdxFile, IDX_FILES, readIdxSplit, type IdxSplit } from './idx.js';

/** One IDX file found in the folder (raw or `.gz`). */
export interface IdxFileInfo {
  name: string;
  bytes: number;
  sha256: string;
  /** The pinned SHA-256 for this name, or null when none is pinned (e.g. a decompressed file). */
  pinned: string | null;
}

/** What `run` would read for one split (docs/science.md §2): the files it picks, digits per class. */
export interface SplitInfo {
  split: IdxSplit;
  /** Names of the images and labels files read; null when one is missing. */
  images: string | null;
  labels: string | null;
  n: number | null;
  /** Count of digit 0…9. */
  counts: number[] | null;
  /** Why the split could not be read (a missing or malformed file), else null. */
  error: string | null;
}

export interface MnistInfo {
  dir: string;
  splits: SplitInfo[];
  files: IdxFileInfo[];
  /** Standard names with neither the raw nor the `.gz` file present. */
  missing: string[];
  /** Both splits read and every file with a pinned digest matches it. */
  ok: boolean;
}

const SPLITS: readonly IdxSplit[] = ['train', 'test'];

/**
 * The state of a full-MNIST folder: each split read through the IDX reader `run` uses (so a
 * split that reads here reads in a run, from the same files: raw before `.gz`), digits per
 * class, and the SHA-256 of every standard file present against `digests` (default: pinned).
 */
export function mnistInfo(folder: string, digests: Readonly<Record<string, string>> = MNIST_SHA256): MnistInfo {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: no such folder`);

  const files: IdxFileInfo[] = [];
  const missing: string[] = [];
  for (const split of SPLITS) {
    for (const base of [IDX_FILES[split].images, IDX_FILES[split].labels]) {
      const present = [base, `${base}.gz`].filter((name) => existsSync(join(dir, name)));
      if (present.length === 0) missing.push(base);
      for (const name of present) {
        const bytes = readFileSync(join(dir, name));
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        files.push({ name, bytes: bytes.length, sha256, pinned: digests[name] ?? null });
      }
    }
  }

  const splits = SPLITS.map((split): SplitInfo => {
    const pick = (base: string) => (missing.includes(base) ? null : basename(findIdxFile(dir, base)));
    const images = pick(IDX_FILES[split].images);
    const labels = pick(IDX_FILES[split].labels);
    const none = { split, images, labels, n: null, counts: null };
    if (images === null || labels === null) return { ...none, error: 'missing files' };
    try {
      const pool = readIdxSplit(dir, split);
      const counts = new Array<number>(10).fill(0);
      for (const digit of pool.digits) counts[digit]!++;
      return { split, images, labels, n: pool.n, counts, error: null };
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      return { ...none, error: err.message };
    }
  });

  const ok = splits.every((s) => s.error === null) && files.every((f) => f.pinned === null || f.pinned === f.sha256);
  return { dir, splits, files, missing, ok };
}

/** The report as text: a split table (n, count per digit), a file table (bytes, SHA-256, check). */
export function formatMnistInfo(info: MnistInfo): string {
  const digits = Array.from({ length: 10 }, (_, d) => String(d));
  const splitRows = info.splits.map((s) =>
    s.counts === null
      ? [s.split, '-', ...digits.map(() => '-'), s.error ?? '']
      : [s.split, String(s.n), ...s.counts.map(String), `${s.images}, ${s.labels}`],
  );
  const fileRows = info.files.map((f) => [f.name, String(f.bytes), f.sha256, checkText(f)]);
  const lines = [
    `MNIST folder ${info.dir}`,
    '',
    ...alignRows([['split', 'n', ...digits, 'read from'], ...splitRows], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    '',
    ...(fileRows.length > 0 ? alignRows([['file', 'bytes', 'sha256', 'pinned'], ...fileRows], [1]) : ['no MNIST IDX files']),
  ];
  if (info.missing.length > 0) lines.push('', `missing: ${info.missing.map((m) => `${m}[.gz]`).join(', ')}`);
  return lines.join('\n') + '\n';
}

function checkText(f: IdxFileInfo): string {
  if (f.pinned === null) return '- (none pinned)';
  return f.pinned === f.sha256 ? 'ok' : `MISMATCH, pinned ${f.pinned}`;
}

/** Columns padded to a common width; those in `right` right-aligned; the last column unpadded. */
function alignRows(rows: string[][], right: number[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : right.includes(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

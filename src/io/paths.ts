import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fsReason, UsageError } from '../errors.js';

/**
 * Checks of the paths a command is given, made before it writes or trains anything, so that a
 * wrong path is a usage error (exit 2, one line naming the path and the reason) rather than a
 * file-system failure after minutes of work.
 */

/** `stat` that says "nothing there" (null) instead of throwing; other failures are reasons. */
function statOf(path: string): Stats | null | NodeJS.ErrnoException {
  try {
    return statSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ENOENT' ? null : e;
  }
}

/** A path flag or argument must not be empty: `--out ''` would mean the current folder. */
export function requirePath(text: string, label: string): string {
  if (text.trim() === '') throw new UsageError(`${label} '${text}': expected a path, found an empty string`);
  return text;
}

/**
 * A folder a command will create (if needed) and write into: it must be a folder or not exist
 * yet, must not lie under a file, and the folder it is in (or the nearest existing one above it)
 * must be writable. `label` names it in the message (`--out results/x`). Root passes the
 * permission check everywhere but on a read-only file system, as it can write anywhere else.
 */
export function checkOutputDir(path: string, label: string): void {
  requirePath(path, label);
  const full = resolve(path);
  let existing = full;
  let st = statOf(existing);
  while (st === null) {
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
    st = statOf(existing);
  }
  if (st instanceof Error) {
    // ENOTDIR: a part of the path above is a file; find which one for the message.
    if (st.code === 'ENOTDIR') throw new UsageError(`${label}: ${underFile(full)}`);
    throw new UsageError(`${label}: cannot use ${existing}: ${fsReason(st)}`);
  }
  if (st === null) throw new UsageError(`${label}: no existing folder above ${full}`);
  if (!st.isDirectory()) {
    throw new UsageError(existing === full ? `${label}: is a file, not a folder` : `${label}: lies under ${existing}, which is a file`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    const what = existing === full ? 'cannot write into it' : `cannot create it: cannot write into ${existing}`;
    throw new UsageError(`${label}: ${what}: ${fsReason(err as NodeJS.ErrnoException)}`);
  }
}

/** The first file on the way down to `full`, as a message. */
function underFile(full: string): string {
  const parts: string[] = [];
  for (let p = full; dirname(p) !== p; p = dirname(p)) parts.unshift(p);
  for (const p of parts) {
    const st = statOf(p);
    if (st && !(st instanceof Error) && !st.isDirectory()) return p === full ? 'is a file, not a folder' : `lies under ${p}, which is a file`;
  }
  return 'a part of the path is a file, not a folder';
}

/** A folder a command reads (a results folder): it must exist and be a folder. */
export function checkInputDir(path: string, label: string): void {
  requirePath(path, label);
  const st = statOf(path);
  if (st === null) throw new UsageError(`${label}: no such folder`);
  if (st instanceof Error) {
    if (st.code === 'ENOTDIR') throw new UsageError(`${label}: ${underFile(resolve(path))}`);
    throw new UsageError(`${label}: cannot read it: ${fsReason(st)}`);
  }
  if (!st.isDirectory()) throw new UsageError(`${label}: is a file, not a folder`);
}

/**
 * `mkdir -p`: create `path` and any missing folder above it, one level at a time. Node's own
 * recursive mkdirSync never returns on a file system that answers ENOENT for a child of an existing
 * folder (/proc, /sys); here the first failure throws, naming its folder.
 */
export function makeDirs(path: string): void {
  const full = resolve(path);
  const missing: string[] = [];
  let at = full;
  let st = statOf(at);
  while (st === null && dirname(at) !== at) {
    missing.unshift(at);
    at = dirname(at);
    st = statOf(at);
  }
  if (st instanceof Error) throw st;
  if (st && !st.isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a folder: ${at}`), { code: 'ENOTDIR', path: at, syscall: 'mkdir' });
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

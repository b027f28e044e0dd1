import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';

/**
 * One writer per results folder: `run` and `merge` hold `<dir>/.margin-bench.lock` while they
 * write there. The file is created atomically (O_EXCL, the `wx` flag), so of two writers started
 * together exactly one gets it; the other is told who holds it. The holder removes it when it
 * ends, on errors and on SIGINT/SIGTERM too (the commands stop their work first); a process
 * killed outright (SIGKILL, power loss) leaves it behind, and the next writer on the same host
 * takes it over once the pid it names is no longer running. A lock from another host is never
 * taken over: its pid cannot be checked from here.
 */
export const LOCK_FILE = '.margin-bench.lock';

/** What the lock file holds (JSON). */
export interface LockInfo {
  pid: number;
  host: string;
  /** When it was taken, ISO 8601. */
  since: string;
  /** The command holding it: `run` or `merge`. */
  command: string;
}

export interface DirLock {
  path: string;
  info: LockInfo;
  /** The stale lock this one replaced (its process was gone), for a note; null if none. */
  tookOver: LockInfo | null;
  /** Remove the lock file if it is still this one; safe to call more than once. */
  release(): void;
}

/** The second writer of a folder: exit 2, naming the holder. */
export class LockedError extends UsageError {
  override name = 'LockedError';
}

/** When this process started: a lock naming this pid but older than that is a leftover of an earlier process with the same pid. */
const processStart = () => Date.now() - process.uptime() * 1000;

/** Whether a process with this pid exists here (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Read = { kind: 'lock'; info: LockInfo } | { kind: 'gone' } | { kind: 'unreadable'; reason: string };

function readLock(path: string): Read {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ENOENT' ? { kind: 'gone' } : { kind: 'unreadable', reason: e.code ?? e.message };
  }
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.since === 'string') {
      return { kind: 'lock', info: { pid: v.pid, host: v.host, since: v.since, command: typeof v.command === 'string' ? v.command : 'writer' } };
    }
  } catch {
    // fall through: not a lock of ours, or caught between its creation and its one write
  }
  return { kind: 'unreadable', reason: text.length === 0 ? 'empty' : 'not a margin-bench lock' };
}

const sameLock = (a: LockInfo, b: LockInfo) => a.pid === b.pid && a.host === b.host && a.since === b.since;

/** A lock whose process is gone: on this host, and its pid not running (or it is this pid, written before this process started). */
function isStale(info: LockInfo): boolean {
  if (info.host !== hostname()) return false;
  if (info.pid === process.pid) return Date.parse(info.since) < processStart() - 1000;
  return !processAlive(info.pid);
}

/**
 * Remove a stale lock, unless another process replaced it meanwhile: move it aside (only one
 * process can move a given file), check that what was moved is the stale lock that was read, and
 * put it back if it was a fresh one after all.
 */
function takeOver(path: string, stale: LockInfo): boolean {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // another process took it first
    throw err;
  }
  const moved = readLock(aside);
  if (moved.kind === 'lock' && sameLock(moved.info, stale)) {
    rmSync(aside, { force: true });
    return true;
  }
  try {
    linkSync(aside, path); // fails if yet another writer created one meanwhile: theirs stays
  } catch {
    // nothing to restore over
  }
  rmSync(aside, { force: true });
  return false;
}

const describeHolder = (h: LockInfo) => `process ${h.pid} on ${h.host}, since ${h.since}`;

/**
 * Take the lock of `dir` (which must exist) for `command`, or throw a LockedError naming the
 * holder. A stale lock (see isStale) is taken over; `tookOver` says whose it was.
 */
export function lockDir(dir: string, command: string): DirLock {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString(), command };
  let tookOver: LockInfo | null = null;
  let unreadable = 0;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(info) + '\n', { flag: 'wx' });
      return holdLock(path, info, tookOver);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readLock(path);
    if (holder.kind === 'gone') continue; // released between our create and our read: try again
    if (holder.kind === 'unreadable') {
      // Empty: caught between another writer's create and its write; look again a few times.
      if (holder.reason === 'empty' && ++unreadable < 20) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      throw new LockedError(`${dir} is locked by ${path}, which cannot be read (${holder.reason}); if no margin-bench writes there, remove that file`);
    }
    if (isStale(holder.info)) {
      if (takeOver(path, holder.info)) tookOver = holder.info;
      continue;
    }
    const hint = holder.info.host === hostname() ? 'wait for it to finish, or write elsewhere' : `if that process is gone, remove ${path}`;
    throw new LockedError(`${dir} is being written by another margin-bench ${holder.info.command} (${describeHolder(holder.info)}); ${hint}`);
  }
  throw new LockedError(`${dir}: could not take its lock ${path} (other writers keep taking it)`);
}

function holdLock(path: string, info: LockInfo, tookOver: LockInfo | null): DirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const now = readLock(path);
    if (now.kind === 'lock' && sameLock(now.info, info)) rmSync(path, { force: true });
  };
  // A process.exit() or an uncaught error still ends here: remove the lock on the way out.
  process.on('exit', release);
  return { path, info, tookOver, release };
}

/** A note for stderr about a stale lock taken over. */
export function tookOverNote(dir: string, old: LockInfo): string {
  return `${dir}: took over the lock left by margin-bench ${old.command} (${describeHolder(old)}), which is no longer running`;
}

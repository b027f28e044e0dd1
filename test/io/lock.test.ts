// The results-folder lock and the output-path checks, in-process (the CLI's own cases are in
// test/cli/guards.test.ts): one holder at a time, a stale lock taken over only when its process is
// gone from this host, a release that never removes another writer's lock.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { LOCK_FILE, LockedError, lockDir } from '../../src/io/lock.js';
import { checkInputDir, checkOutputDir, makeDirs, requirePath } from '../../src/io/paths.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));

const folder = (name: string) => {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
};
const readLock = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid;

test('one holder at a time; the holder is named; release removes the lock and lets the next one in', () => {
  const dir = folder('one');
  const a = lockDir(dir, 'run');
  assert.deepEqual(readLock(dir), { pid: process.pid, host: hostname(), since: a.info.since, command: 'run' });
  assert.equal(a.tookOver, null);
  assert.throws(
    () => lockDir(dir, 'merge'),
    (e: Error) => e instanceof LockedError && e instanceof UsageError && e.message.includes(`another margin-bench run (process ${process.pid} on ${hostname()}, since ${a.info.since})`),
  );
  a.release();
  a.release(); // twice is harmless
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
  const b = lockDir(dir, 'merge');
  assert.equal(readLock(dir).command, 'merge');
  b.release();
});

test('a stale lock is taken over only when its process is gone from this host', () => {
  const stale = folder('stale');
  const dead = { pid: deadPid(), host: hostname(), since: '2000-01-01T00:00:00.000Z', command: 'run' };
  writeFileSync(join(stale, LOCK_FILE), JSON.stringify(dead));
  const l = lockDir(stale, 'run');
  assert.deepEqual(l.tookOver, dead);
  assert.equal(readLock(stale).pid, process.pid);
  l.release();

  // Another host: its pid means nothing here, so it is never taken over.
  const remote = folder('remote');
  const elsewhere = { pid: dead.pid, host: `not-${hostname()}`, since: '2000-01-01T00:00:00.000Z', command: 'run' };
  writeFileSync(join(remote, LOCK_FILE), JSON.stringify(elsewhere));
  assert.throws(() => lockDir(remote, 'run'), (e: Error) => e instanceof LockedError && e.message.includes(`on not-${hostname()}`) && e.message.includes(`remove ${join(remote, LOCK_FILE)}`));
  assert.deepEqual(readLock(remote), elsewhere, 'left alone');

  // Not a lock of ours at all: refused, naming the file.
  const odd = folder('odd');
  writeFileSync(join(odd, LOCK_FILE), 'hello\n');
  assert.throws(() => lockDir(odd, 'run'), (e: Error) => e instanceof LockedError && e.message.includes('cannot be read (not a margin-bench lock)'));
});

test('release never removes a lock that is no longer its own', () => {
  const dir = folder('replaced');
  const l = lockDir(dir, 'run');
  const other = { pid: process.pid + 1, host: hostname(), since: '2000-01-01T00:00:00.000Z', command: 'run' };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(other));
  l.release();
  assert.deepEqual(readLock(dir), other);
});

test('output and input paths: empty, a file, under a file, missing, writable', () => {
  const dir = folder('paths');
  const file = join(dir, 'f');
  writeFileSync(file, '');
  const usage = (fn: () => unknown, message: string) => assert.throws(fn, (e: Error) => e instanceof UsageError && e.message === message);
  usage(() => requirePath('', '--out'), "--out '': expected a path, found an empty string");
  usage(() => requirePath('  ', '--out'), "--out '  ': expected a path, found an empty string");
  usage(() => checkOutputDir(file, 'X'), 'X: is a file, not a folder');
  usage(() => checkOutputDir(join(file, 'a', 'b'), 'X'), `X: lies under ${file}, which is a file`);
  checkOutputDir(dir, 'X');
  checkOutputDir(join(dir, 'new', 'deeper'), 'X'); // created later by the command
  assert.ok(!existsSync(join(dir, 'new')), 'a check writes nothing');
  usage(() => checkInputDir(join(dir, 'nope'), 'Y'), 'Y: no such folder');
  usage(() => checkInputDir(file, 'Y'), 'Y: is a file, not a folder');
  usage(() => checkInputDir(join(file, 'x'), 'Y'), `Y: lies under ${file}, which is a file`);
  checkInputDir(dir, 'Y');
});

test('makeDirs creates every missing level and fails at once where a folder cannot be made', { timeout: 20_000 }, () => {
  const deep = join(root, 'a', 'b', 'c');
  makeDirs(deep);
  assert.ok(existsSync(deep));
  makeDirs(deep); // already there: nothing to do
  const file = join(root, 'plain-file');
  writeFileSync(file, 'x');
  assert.throws(() => makeDirs(join(file, 'sub')), /ENOTDIR|EEXIST/);
  // Node's recursive mkdirSync never returns here (/proc answers ENOENT for a new child).
  if (existsSync('/proc/self')) assert.throws(() => makeDirs('/proc/margin-bench-test/x'), { code: 'ENOENT' });
});

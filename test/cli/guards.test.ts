// Through the real CLI (child processes): one writer per results folder (lock, stale lock taken
// over), paths and configs refused before anything is written, an honest merge (--partial),
// a closed stdout, shard variables announced, a corrupt summary reported as corrupt. Every run
// here is tiny (width 10, a few steps, one optimizer) but the one that holds a lock while a
// second writer is refused, which is stopped with SIGTERM once that is checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { LOCK_FILE } from '../../src/io/lock.js';
import { runCli, spawnCli, waitFor, type CliResult } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-guards-'));
after(() => rmSync(root, { recursive: true, force: true }));

const listDir = (dir: string) => readdirSync(dir).sort();
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

/** A tiny grid: relu, ngd, β 0.9, seed 0, 20 steps of a width-10 net (well under a second). */
const TINY = join(root, 'tiny.yaml');
writeFileSync(
  TINY,
  'name: tiny\nmodel: { width: 10, activations: [relu] }\ntrain: { steps: 20, seeds: [0], optimizers: [ngd], betas: [0.9] }\nlog: { n_log: 4 }\n',
);

/** A results folder of the tiny grid, made once (tests read it or copy it). */
const results = join(root, 'results');
before(async () => {
  const r = await runCli(['run', TINY, '--no-progress', '--out', results]);
  assert.equal(r.code, 0, r.stderr);
});

/** Exit 2 (or `code`), nothing on stdout, exactly one stderr line that starts with the command and holds every part. */
function assertOneLine(r: CliResult, command: string, parts: string[], code = 2): void {
  assert.equal(r.code, code, `exit ${r.code}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  assert.match(r.stderr, /^[^\n]+\n$/, `exactly one line: ${JSON.stringify(r.stderr)}`);
  assert.ok(r.stderr.startsWith(`margin-bench: error: ${command}: `), r.stderr);
  for (const p of parts) assert.ok(r.stderr.includes(p), `"${r.stderr.trim()}" lacks "${p}"`);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
}

/** A pid that no process has now: that of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.equal(r.status, 0);
  return r.pid;
}

test('two runs on one folder: the second exits 2 naming the holder; SIGTERM stops the first with 143 and no lock left', async () => {
  const dir = join(root, 'locked');
  // Long enough that it is still training when the second one looks (it is stopped below).
  const first = spawnCli(['run', TINY, '--set', 'train.steps=1000000', '--out', dir]);
  try {
    await waitFor(first, /^sweep: 1 run; 1 to do/m); // the lock is taken before this line
    const lock = readJson(join(dir, LOCK_FILE));
    assert.deepEqual({ pid: lock.pid, host: lock.host, command: lock.command }, { pid: first.child.pid, host: hostname(), command: 'run' });

    const second = await runCli(['run', TINY, '--out', dir]);
    assertOneLine(second, 'run', [dir, `process ${first.child.pid} on ${hostname()}, since ${lock.since}`, 'another margin-bench run']);
    assert.deepEqual(listDir(dir), [LOCK_FILE, 'sweep.json'], 'the second run wrote nothing');
  } finally {
    first.child.kill('SIGTERM'); // also when a check above failed: the run would go on for minutes
  }
  const r = await first.result;
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /\ninterrupted \(SIGTERM\): 0 of 1 runs have finished files, 1 to do/);
  assert.deepEqual(listDir(dir), ['sweep.json'], 'no lock, nothing partial left');
});

test('a lock left by a dead process is taken over with a note; one of a live process stops merge with exit 2', async () => {
  const dir = join(root, 'stale');
  mkdirSync(dir);
  const dead = { pid: deadPid(), host: hostname(), since: '2000-01-01T00:00:00.000Z', command: 'run' };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(dead));
  const r = await runCli(['run', TINY, '--no-progress', '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `note: ${dir}: took over the lock left by margin-bench run (process ${dead.pid} on ${dead.host}, since ${dead.since}), which is no longer running\n`);
  assert.deepEqual(listDir(dir), ['relu_ngd_b0.9_s0.csv', 'relu_ngd_b0.9_s0.json', 'sweep.json']);

  // This test's own process holds the merged folder's lock: merge must not write there.
  const out = join(root, 'merge-locked');
  mkdirSync(out);
  const live = { pid: process.pid, host: hostname(), since: '2000-01-02T00:00:00.000Z', command: 'merge' };
  writeFileSync(join(out, LOCK_FILE), JSON.stringify(live));
  const m = await runCli(['merge', dir, '--out', out]);
  assertOneLine(m, 'merge', [out, `process ${process.pid} on ${hostname()}, since ${live.since}`]);
  assert.deepEqual(listDir(out), [LOCK_FILE], 'nothing merged');
  assert.deepEqual(readJson(join(out, LOCK_FILE)), live, 'the holder\'s lock untouched');
});

test('bad configs and paths: exit 2, one line naming the command, the path and the reason; nothing written', async () => {
  const dir = join(root, 'paths');
  mkdirSync(dir);
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '');
  const comments = join(dir, 'comments.yaml');
  writeFileSync(comments, '# the paper grid, to be filled in\n\n   # nothing yet\n');
  const aFile = join(dir, 'a-file');
  writeFileSync(aFile, 'not a folder\n');
  // The current folder of the `--out ''` case: it must stay as it is.
  const cwd = join(dir, 'cwd');
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'sentinel.txt'), 'sentinel\n');

  const cases: { args: string[]; command: string; parts: string[] }[] = [
    { args: ['run', empty], command: 'run', parts: [empty, 'empty'] },
    { args: ['run', comments], command: 'run', parts: [comments, 'empty'] },
    { args: ['run', dir], command: 'run', parts: [dir, 'is a folder'] },
    { args: ['run', TINY, '--out', ''], command: 'run', parts: ["--out ''", 'empty'] },
    { args: ['run', TINY, '--out', aFile], command: 'run', parts: [`--out ${aFile}`, 'is a file'] },
    { args: ['run', TINY, '--out', join(aFile, 'x', 'y')], command: 'run', parts: [`--out ${join(aFile, 'x', 'y')}`, `lies under ${aFile}, which is a file`] },
    { args: ['figures', results, '--out', aFile], command: 'figures', parts: [`--out ${aFile}`, 'is a file'] },
    { args: ['merge', results, '--out', aFile], command: 'merge', parts: [`--out ${aFile}`, 'is a file'] },
    { args: ['status', join(dir, 'no-such')], command: 'status', parts: [join(dir, 'no-such'), 'no such folder'] },
    { args: ['data', 'fetch', '--to', aFile, '--no-progress'], command: 'data', parts: [`--to ${aFile}`, 'is a file'] },
  ];
  const before = new Map(listDir(dir).map((f) => [f, f === 'cwd' ? '' : readFileSync(join(dir, f), 'utf8')]));
  const resultsBefore = listDir(results);
  const got = await Promise.all(cases.map((c) => runCli(c.args, { cwd })));
  got.forEach((r, i) => assertOneLine(r, cases[i]!.command, cases[i]!.parts));
  assert.deepEqual(listDir(cwd), ['sentinel.txt'], "--out '' wrote nothing into the current folder");
  assert.deepEqual(listDir(dir), [...before.keys()]);
  for (const [f, text] of before) if (f !== 'cwd') assert.equal(readFileSync(join(dir, f), 'utf8'), text, `${f} untouched`);
  assert.deepEqual(listDir(results), resultsBefore, 'the results folder untouched');
});

test('a read-only output folder: exit 2 and one line, before anything trains', async (t) => {
  if (process.getuid?.() === 0) {
    t.skip('running as root, which can write into a read-only folder (the path-under-a-file case covers root)');
    return;
  }
  const ro = join(root, 'read-only');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  try {
    const [inside, below, figures] = await Promise.all([
      runCli(['run', TINY, '--out', ro]),
      runCli(['run', TINY, '--out', join(ro, 'new')]),
      runCli(['figures', 'test/fixtures/smoke300', '--out', ro]),
    ]);
    assertOneLine(inside, 'run', [`--out ${ro}`, 'permission denied']);
    assertOneLine(below, 'run', [`--out ${join(ro, 'new')}`, `cannot write into ${ro}`]);
    assertOneLine(figures, 'figures', [`--out ${ro}`, 'permission denied']);
    assert.deepEqual(listDir(ro), []);
  } finally {
    chmodSync(ro, 0o755);
  }
});

test('merge of folders that do not cover their grid: refused listing what is missing, unless --partial; status lists them', async () => {
  // One folder ran ngd for seed 0, the other signum for seed 1: the united grid is ngd, signum × seeds 0, 1.
  const a = join(root, 'ngd-s0');
  const b = join(root, 'signum-s1');
  const [ra, rb] = await Promise.all([
    runCli(['run', TINY, '--no-progress', '--out', a]),
    runCli(['run', TINY, '--no-progress', '--set', 'train.optimizers=[signum]', '--seeds', '1', '--out', b]),
  ]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);

  const out = join(root, 'merged-partial');
  const refused = await runCli(['merge', a, b, '--out', out]);
  assertOneLine(refused, 'merge', ['4 runs', 'no input declares 2', 'relu_ngd_b0.9_s1', 'relu_signum_b0.9_s0', '--partial']);
  assert.ok(!existsSync(out), 'nothing written');

  const partial = await runCli(['merge', a, b, '--out', out, '--partial']);
  assert.equal(partial.code, 0, partial.stderr);
  assert.equal(partial.stdout, `merged 2 folder(s) into ${out}: 2 runs in the grid, 2 copied, 0 already there\n`);
  assert.match(partial.stderr, /^merge: --partial: 2 run\(s\) of the grid are in no folder and not merged \(status lists them as missing\): relu_ngd_b0\.9_s1, relu_signum_b0\.9_s0\n$/);
  const sweep = readJson(join(out, 'sweep.json'));
  assert.deepEqual(sweep.runs, ['relu_ngd_b0.9_s0', 'relu_signum_b0.9_s1'], 'only what the folders declared');
  assert.deepEqual(sweep.undeclared, ['relu_ngd_b0.9_s1', 'relu_signum_b0.9_s0']);
  assert.equal(sweep.grid_runs, 4);
  assert.deepEqual(listDir(out), ['relu_ngd_b0.9_s0.csv', 'relu_ngd_b0.9_s0.json', 'relu_signum_b0.9_s1.csv', 'relu_signum_b0.9_s1.json', 'sweep.json']);

  const status = await runCli(['status', out]);
  assert.equal(status.code, 1);
  assert.match(
    status.stdout,
    /\ncomplete 2 · failed 0 · stale 0 · partial 0 · corrupt 0 · missing 2\nmissing:\n {2}relu_ngd_b0\.9_s1: in the grid, but in no folder that was merged\n {2}relu_signum_b0\.9_s0: in the grid, but in no folder that was merged\n$/,
  );
});

test('a closed stdout (| head -1) ends quietly with exit 0', async () => {
  const [help, status] = await Promise.all([runCli(['--help'], { closeStdout: true }), runCli(['status', results], { closeStdout: true })]);
  for (const [name, r] of [['--help', help], ['status', status]] as const) {
    assert.equal(r.code, 0, `${name}: exit ${r.code}; stderr: ${r.stderr}`);
    assert.equal(r.stderr, '', `${name}: nothing on stderr`);
  }
});

test('a shard read from CI variables is announced on stderr even with --no-progress', async () => {
  const dir = join(root, 'ci-shard');
  const r = await runCli(['run', TINY, '--seeds', '0-1', '--no-progress', '--out', dir], { env: { CI_NODE_INDEX: '2', CI_NODE_TOTAL: '2' } });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, `sweep: shard 2/2 (CI_NODE_INDEX=2 CI_NODE_TOTAL=2): 1 of the grid's 2 runs → ${dir}\n`);
  assert.deepEqual(readJson(join(dir, 'sweep.json')).shard, { index: 2, count: 2 });
});

test('a summary that does not parse is reported by status as corrupt, not partial; a rerun redoes it', async () => {
  const dir = join(root, 'corrupt');
  cpSync(results, dir, { recursive: true });
  const file = join(dir, 'relu_ngd_b0.9_s0.json');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.slice(0, text.length >> 1));
  const status = await runCli(['status', dir]);
  assert.equal(status.code, 1);
  assert.match(
    status.stdout,
    /\ncomplete 0 · failed 0 · stale 0 · partial 0 · corrupt 1 · missing 0\ncorrupt \(a summary that does not parse; a rerun redoes them\):\n {2}relu_ngd_b0\.9_s0: relu_ngd_b0\.9_s0\.json is not valid JSON/,
  );
  const rerun = await runCli(['run', TINY, '--out', dir]);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.match(rerun.stderr, /^sweep: 1 run; 1 to do/);
  assert.equal(readJson(file).status, 'ok');
});

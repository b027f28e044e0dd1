// End-to-end tests of sweeps at scale through the CLI: shards + merge equal one unsharded
// run byte for byte; a SIGKILLed sweep, rerun, ends with the files of an uninterrupted one; SIGINT
// exits 130 and leaves nothing partial; failed runs are reported; status and merge report what is
// missing. One tiny grid (6 runs of 300 steps, width 10) throughout: long enough that a signal
// sent right after a run finishes finds the next one under way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Of } from '../../src/results/hash.js';
import { runCli, spawnCli, waitFor, type CliResult } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-sweep-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

const GRID = ['configs/smoke.yaml', '--set', 'train.steps=300', '--set', 'model.width=10', '--set', 'train.betas=[0.9]', '--seeds', '0', '--only', 'ngd,signum,muon'];
const IDS = ['relu', 'sqrelu'].flatMap((a) => ['ngd', 'signum', 'muon'].map((o) => `${a}_${o}_b0.9_s0`));
const VOLATILE = ['wall_time_s', 'ms_per_step', 'started_at', 'finished_at', 'git_commit'];

const listDir = (dir: string) => readdirSync(dir).sort();
const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}; stderr:\n${r.stderr}`);

/** Two results folders hold the same runs: same names, CSVs byte-identical, summaries and sweep.json equal but timings. */
function assertSameResults(dir: string, ref: string): void {
  assert.deepEqual(listDir(dir), listDir(ref), `${dir}: the same files as ${ref}`);
  for (const f of listDir(ref)) {
    if (f.endsWith('.csv')) {
      assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(ref, f))), `${f} differs`);
    } else {
      const [a, b] = [readJson(join(dir, f)), readJson(join(ref, f))];
      for (const k of [...VOLATILE, 'created_at', 'merged_from']) {
        delete a[k];
        delete b[k];
      }
      assert.deepEqual(a, b, `${f} differs beyond timings`);
    }
  }
}

const ref = join(root, 'reference');
before(async () => ok(await runCli(['run', ...GRID, '--jobs', '1', '--out', ref]), 'reference run'));

test('reference: --jobs 1 writes the 6 runs', () => {
  assert.deepEqual(listDir(ref), [...IDS.flatMap((id) => [`${id}.csv`, `${id}.json`]), 'sweep.json'].sort());
});

test('shards 1/3, 2/3 (flag) and 3/3 (MARGIN_BENCH_SHARD) merged equal the unsharded run, byte for byte', async () => {
  const shardDir = (i: number) => join(root, `shard-${i}`);
  const results = await Promise.all([
    runCli(['run', ...GRID, '--shard', '1/3', '--out', shardDir(1)]),
    runCli(['run', ...GRID, '--shard', '2/3', '--out', shardDir(2)]),
    runCli(['run', ...GRID, '--out', shardDir(3)], { env: { MARGIN_BENCH_SHARD: '3/3' } }),
  ]);
  results.forEach((r, i) => ok(r, `shard ${i + 1}`));
  assert.match(results[0]!.stderr, /^sweep: shard 1\/3 \(--shard\): \d of the grid's 6 runs/);
  assert.match(results[2]!.stderr, /^sweep: shard 3\/3 \(MARGIN_BENCH_SHARD=3\/3\): \d of the grid's 6 runs/);
  const held = [1, 2, 3].map((i) => readJson(join(shardDir(i), 'sweep.json')).runs as string[]);
  assert.deepEqual(held.flat().sort(), [...IDS].sort(), 'each run in exactly one shard');
  held.forEach((ids, i) => assert.deepEqual(listDir(shardDir(i + 1)), [...ids.flatMap((id) => [`${id}.csv`, `${id}.json`]), 'sweep.json'].sort()));

  const merged = join(root, 'merged');
  const m = await runCli(['merge', shardDir(1), shardDir(2), shardDir(3), '--out', merged]);
  ok(m, 'merge');
  assert.equal(m.stdout, `merged 3 folder(s) into ${merged}: 6 runs in the grid, 6 copied, 0 already there\n`);
  assertSameResults(merged, ref);
  assert.deepEqual(readJson(join(merged, 'sweep.json')).merged_from, [1, 2, 3].map(shardDir));

  // Merging again changes nothing; status sees every run complete.
  const [again, status] = await Promise.all([
    runCli(['merge', shardDir(1), shardDir(2), shardDir(3), '--out', merged]),
    runCli(['status', merged]),
  ]);
  ok(again, 'merge again');
  assert.match(again.stdout, /0 copied, 6 already there/);
  ok(status, 'status');
  assert.equal(status.stdout.split('\n')[1], 'complete 6 · failed 0 · stale 0 · partial 0 · corrupt 0 · missing 0');
});

test('status of a Slurm study before its merge: every array task of <dir>-shards/, started or not', async () => {
  // The layout `margin-bench slurm --out study` leaves: study-shards/array.sbatch and shard-i folders.
  const study = join(root, 'study');
  const shards = `${study}-shards`;
  mkdirSync(shards);
  writeFileSync(join(shards, 'array.sbatch'), '#!/bin/bash\n#SBATCH --job-name=margin-bench-g\n#SBATCH --array=1-3\n');
  cpSync(join(root, 'shard-1'), join(shards, 'shard-1'), { recursive: true });
  cpSync(join(root, 'shard-2'), join(shards, 'shard-2'), { recursive: true });
  const cut = (readJson(join(shards, 'shard-2', 'sweep.json')).runs as string[])[0]!;
  rmSync(join(shards, 'shard-2', `${cut}.json`)); // its CSV stays: a run killed mid-way
  const held = (i: number) => (readJson(join(root, `shard-${i}`, 'sweep.json')).runs as string[]).length;

  const [early, asJson] = await Promise.all([runCli(['status', study]), runCli(['status', study, '--json'])]);
  assert.equal(early.code, 1, early.stderr);
  const lines = early.stdout.split('\n');
  assert.equal(lines[0], `${study}: not merged yet; 3 array tasks of a 6-run grid in ${shards}`);
  assert.equal(lines[1], `complete ${held(1) + held(2) - 1} · failed 0 · stale 0 · partial 1 · corrupt 0 · missing 0 · not started 1 tasks (${held(3)} runs)`);
  assert.deepEqual(lines.slice(2, 5), ['tasks not complete:', `  shard-2: ${held(2) > 1 ? `complete ${held(2) - 1} · ` : ''}partial 1 of ${held(2)} runs`, '  shard-3: not started']);
  const json = JSON.parse(asJson.stdout) as { tasks: { started: boolean }[]; grid_runs: number };
  assert.deepEqual([json.grid_runs, json.tasks.map((t) => t.started)], [6, [true, true, false]]);

  cpSync(join(root, 'shard-2'), join(shards, 'shard-2'), { recursive: true });
  cpSync(join(root, 'shard-3'), join(shards, 'shard-3'), { recursive: true });
  // … and, alongside, neither a results folder nor a study: the usual one line, exit 2.
  const [done, none] = await Promise.all([runCli(['status', study]), runCli(['status', join(root, 'nothing')])]);
  ok(done, 'status when every task is complete');
  assert.match(done.stdout, /^complete 6 · .* · not started 0 tasks \(0 runs\)\nevery task complete: margin-bench merge /m);
  assert.equal(none.code, 2);
});

test('merge fails listing runs missing and runs duplicated with different content; status lists what is missing', async () => {
  // A copy of the reference with one CSV changed (and its summary's hash updated, so it looks complete).
  const other = join(root, 'tampered');
  cpSync(ref, other, { recursive: true });
  const id = IDS[1]!;
  const csv = readFileSync(join(other, `${id}.csv`), 'utf8').replace(/\n(\d+),/, '\n$1,0');
  writeFileSync(join(other, `${id}.csv`), csv);
  const summary = readJson(join(other, `${id}.json`));
  writeFileSync(join(other, `${id}.json`), JSON.stringify({ ...summary, csv_sha256: sha256Of(csv) }));
  // … and a folder with only some runs: the reference less two summaries.
  const partial = join(root, 'partial');
  cpSync(ref, partial, { recursive: true });
  const gone = [IDS[3]!, IDS[4]!];
  for (const g of gone) rmSync(join(partial, `${g}.json`));

  const out = join(root, 'merged-bad');
  const [conflict, missing] = await Promise.all([
    runCli(['merge', ref, other, '--out', out]),
    runCli(['merge', partial, '--out', join(root, 'merged-partial')]),
  ]);
  assert.equal(conflict.code, 1, conflict.stderr);
  assert.equal(conflict.stderr, `merge: ${id} duplicated with different content in ${ref}, ${other}\n`);
  assert.ok(!listDir(out).includes(`${id}.csv`), 'neither version copied');
  assert.equal(missing.code, 1, missing.stderr);
  assert.equal(missing.stderr, `merge: 2 run(s) missing: ${gone.join(', ')}\n`);

  const status = await runCli(['status', join(root, 'merged-partial')]);
  assert.equal(status.code, 1);
  assert.match(status.stdout, new RegExp(`complete 4 · failed 0 · stale 0 · partial 0 · corrupt 0 · missing 2\nmissing:\n  ${gone[0]}\n  ${gone[1]}\n$`));
});

test('a sweep killed with SIGKILL mid-way, then rerun, ends with the same files as an uninterrupted one', async () => {
  const dir = join(root, 'sigkill');
  const p = spawnCli(['run', ...GRID, '--jobs', '1', '--out', dir]);
  await waitFor(p, /^\[2\/6\] /m); // two runs finished, the third under way
  p.child.kill('SIGKILL');
  const killed = await p.result;
  assert.equal(killed.signal, 'SIGKILL');
  const rerun = await runCli(['run', ...GRID, '--jobs', '1', '--out', dir]);
  ok(rerun, 'rerun');
  // The killed run could not remove its lock: the rerun takes it over, and says so.
  const note = `note: ${dir}: took over the lock left by margin-bench run (process ${p.child.pid} on `;
  assert.ok(rerun.stderr.startsWith(note), rerun.stderr);
  assert.match(rerun.stderr, /^[^\n]+, which is no longer running\nsweep: 6 runs; [2-5] complete \(skipped\), [1-4] to do on 1 worker/);
  assertSameResults(dir, ref);
});

test('SIGINT stops the workers promptly, exits 130 and leaves no partial file; the next invocation resumes', async () => {
  const dir = join(root, 'sigint');
  const p = spawnCli(['run', ...GRID, '--jobs', '2', '--out', dir]);
  await waitFor(p, /^\[1\/6\] /m); // one run finished, others under way
  p.child.kill('SIGINT');
  const r = await p.result;
  assert.equal(r.code, 130, r.stderr);
  assert.equal(r.stdout, '', 'no table: nothing to report');
  assert.match(r.stderr, /\ninterrupted \(SIGINT\): \d of 6 runs have finished files, \d to do; run the same command again to resume\n$/);
  const names = listDir(dir);
  assert.deepEqual(names.filter((f) => f.includes('.tmp-') || f.endsWith('.lock')), [], 'no temp file, no lock');
  const csvs = names.filter((f) => f.endsWith('.csv'));
  assert.ok(csvs.length >= 1 && csvs.length < 6, `${csvs.length} runs finished`);
  assert.deepEqual(names.filter((f) => f.endsWith('.json') && f !== 'sweep.json'), csvs.map((f) => f.replace(/\.csv$/, '.json')), 'every CSV has its summary');
  const status = await runCli(['status', dir, '--json']);
  const report = JSON.parse(status.stdout);
  assert.equal(report.counts.partial + report.counts.stale + report.counts.failed, 0);
  assert.equal(report.counts.complete, csvs.length);

  const resumed = await runCli(['run', ...GRID, '--out', dir]);
  ok(resumed, 'resume');
  assert.match(resumed.stderr, new RegExp(`^sweep: 6 runs; ${csvs.length} complete \\(skipped\\), ${6 - csvs.length} to do`));
  assertSameResults(dir, ref);
});

test('SIGTERM stops the sweep like SIGINT but exits 143: complete runs intact, nothing partial, no lock', async () => {
  const dir = join(root, 'sigterm');
  const p = spawnCli(['run', ...GRID, '--jobs', '1', '--out', dir]);
  await waitFor(p, /^\[1\/6\] /m); // one run finished, the next under way
  p.child.kill('SIGTERM');
  const r = await p.result;
  assert.equal(r.code, 143, r.stderr);
  assert.match(r.stderr, /\ninterrupted \(SIGTERM\): [1-5] of 6 runs have finished files, [1-5] to do; run the same command again to resume\n$/);
  const names = listDir(dir);
  const csvs = names.filter((f) => f.endsWith('.csv'));
  assert.deepEqual(names, [...csvs, ...csvs.map((f) => f.replace(/\.csv$/, '.json')), 'sweep.json'].sort(), 'finished runs only: no lock, temp or partial file');
  for (const f of csvs) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(ref, f))), `${f} is whole`);
});

test('a run that goes non-finite is reported as failed and the others complete: exit 1, status lists it', async () => {
  const dir = join(root, 'nonfinite');
  // Squared ReLU through 9 layers at init scale 3: Signum's first steps overflow (test/sweep/sweep.test.ts).
  const args = ['configs/smoke.yaml', '--set', 'model.depth=9', '--set', 'model.init_scale=3', '--set', 'model.width=10', '--set', 'train.steps=20',
    '--set', 'train.betas=[0.9]', '--seeds', '0', '--only', 'ngd,signum', '--out', dir];
  const r = await runCli(['run', ...args]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /\] sqrelu_signum_b0\.9_s0 FAILED: non-finite \w+ at step \d+ \| 1 failed/);
  assert.match(r.stderr, /\n1 run\(s\) failed:\n {2}sqrelu_signum_b0\.9_s0: non-finite \w+ at step \d+\n$/);
  assert.match(r.stdout, /final normalized margins/, 'the table of the runs that finished');
  const status = await runCli(['status', dir]);
  assert.equal(status.code, 1);
  assert.match(status.stdout, /\ncomplete 3 · failed 1 · stale 0 · partial 0 · corrupt 0 · missing 0\nfailed:\n {2}sqrelu_signum_b0\.9_s0: non-finite \w+ at step \d+\n$/);
});

test('usage errors of --jobs, --shard, the shard environment, merge and status: exit 2, one line, nothing written', async () => {
  const out = join(root, 'usage');
  mkdirSync(out);
  const cases: { args: string[]; env?: Record<string, string>; line: string[] }[] = [
    { args: ['run', ...GRID, '--jobs', '0', '--out', out], line: ['--jobs 0', 'positive integer'] },
    { args: ['run', ...GRID, '--shard', '4/3', '--out', out], line: ['--shard 4/3', 'i/n'] },
    { args: ['run', ...GRID, '--out', out], env: { JOB_COMPLETION_INDEX: '2' }, line: ['JOB_COMPLETION_INDEX=2', 'MARGIN_BENCH_SHARD_COUNT'] },
    { args: ['merge', out, '--out', join(root, 'usage-merged')], line: [out, 'sweep.json'] },
    { args: ['status', out], line: [out, 'sweep.json'] },
  ];
  const results = await Promise.all(cases.map((c) => runCli(c.args, { env: c.env })));
  results.forEach((r, i) => {
    const c = cases[i]!;
    assert.equal(r.code, 2, `${c.args.join(' ')}: exit ${r.code}; ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^margin-bench: error: [^\n]*\n$/, r.stderr);
    for (const part of c.line) assert.ok(r.stderr.includes(part), `"${r.stderr.trim()}" lacks "${part}"`);
  });
  assert.deepEqual(listDir(out), [], 'nothing written');
});

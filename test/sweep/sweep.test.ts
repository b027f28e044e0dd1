// The sweep library: worker threads give the files of one thread, byte for byte; a rerun
// skips complete runs and redoes stale ones; failures are runs, not crashes; an abort leaves nothing
// partial. Tiny configs (20 steps, width 10) so each sweep takes a second or two.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeOne } from '../helpers.js';
import { resolveConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { LOG_COLUMNS, runId } from '../../src/results/runs.js';
import { sha256Of } from '../../src/results/hash.js';
import { runHash } from '../../src/results/hash.js';
import { removeOrphanTemps, runState } from '../../src/results/state.js';
import { runSweep } from '../../src/sweep/sweep.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-sweep-'));
after(() => rmSync(root, { recursive: true, force: true }));

const tiny = (over: Record<string, unknown> = {}, steps = 20) =>
  resolveConfig(
    {
      name: 'tiny',
      model: { width: 10 },
      train: { steps, seeds: [0], optimizers: ['ngd', 'muon'] },
      log: { n_log: 8 },
      ...over,
    },
    'test',
  );

/** Every file of a folder, name → bytes (sweep.json and summaries hold timings: compared apart). */
function filesOf(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));
}
const csvs = (dir: string) => new Map([...filesOf(dir)].filter(([f]) => f.endsWith('.csv')));
const VOLATILE = ['wall_time_s', 'ms_per_step', 'started_at', 'finished_at', 'git_commit'];
function summaryOf(dir: string, id: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8'));
  for (const k of VOLATILE) delete s[k];
  return s;
}

test('--jobs 2 writes the same files as --jobs 1, byte for byte (CSVs; summaries but timings)', async () => {
  const config = tiny({ model: { width: 10 }, train: { steps: 20, seeds: [0], optimizers: ['ngd', 'muon'], betas: [0.9] } });
  const [one, two] = [join(root, 'jobs-1'), join(root, 'jobs-2')];
  const r1 = await runSweep(config, one, { jobs: 1, progress: false });
  const r2 = await runSweep(config, two, { jobs: 2, progress: false });
  assert.equal(r1.jobs, 1);
  assert.equal(r2.jobs, 2);
  assert.equal(r1.ran.length, 4);
  assert.deepEqual(r1.failed, []);
  assert.deepEqual([...filesOf(one).keys()], [...filesOf(two).keys()]);
  assert.equal(filesOf(one).size, 9, '4 CSVs, 4 summaries, sweep.json');
  for (const [name, bytes] of csvs(one)) assert.ok(bytes.equals(csvs(two).get(name)!), `${name} differs`);
  for (const spec of r1.runs) assert.deepEqual(summaryOf(two, runId(spec)), summaryOf(one, runId(spec)), runId(spec));
  // Summaries come back in grid order whatever order the workers finished in.
  assert.deepEqual(r2.summaries.map((s) => s.id), r1.runs.map(runId));
});

test('resume: a rerun skips complete runs, redoes stale or edited ones; --force redoes all; steps change redoes all', async () => {
  const dir = join(root, 'resume');
  const config = tiny({ model: { width: 10, activations: ['relu'] } });
  const first = await runSweep(config, dir, { jobs: 2, progress: false });
  assert.equal(first.ran.length, 4);
  const before = csvs(dir);

  const again = await runSweep(config, dir, { jobs: 2, progress: false });
  assert.deepEqual(again.ran, []);
  assert.equal(again.skipped.length, 4);
  assert.equal(again.jobs, 0);
  assert.deepEqual(again.summaries.map((s) => s.id), first.summaries.map((s) => s.id), 'skipped runs still reported');

  // A run whose summary is gone (killed before it), and one whose CSV was edited, are redone.
  rmSync(join(dir, 'relu_ngd_b0_s0.json'));
  writeFileSync(join(dir, 'relu_muon_b0.9_s0.csv'), 'step\n0\n');
  // More seeds in the grid: the new seed runs, the old ones are not redone (the grid lists are not in the run hash).
  const more = await runSweep(tiny({ model: { width: 10, activations: ['relu'] }, train: { steps: 20, seeds: [0, 1], optimizers: ['ngd', 'muon'] } }), dir, {
    jobs: 2,
    progress: false,
  });
  assert.deepEqual([...more.ran].sort(), ['relu_muon_b0.9_s0', 'relu_muon_b0.9_s1', 'relu_muon_b0_s1', 'relu_ngd_b0.9_s1', 'relu_ngd_b0_s0', 'relu_ngd_b0_s1']);
  for (const [name, bytes] of before) assert.ok(readFileSync(join(dir, name)).equals(bytes), `${name} is back to its bytes`);

  const forced = await runSweep(config, dir, { jobs: 2, progress: false, force: true });
  assert.equal(forced.ran.length, 4);

  const longer = await runSweep(tiny({ model: { width: 10, activations: ['relu'] } }, 25), dir, { jobs: 2, progress: false });
  assert.equal(longer.ran.length, 4, 'train.steps changed: every run redone');
  assert.equal(longer.summaries[0]!.steps_completed, 25);
});

test('a run that goes non-finite is a failed run with its step; the other runs complete', async () => {
  // Squared ReLU through 9 layers at init scale 3: Signum's first steps overflow f (found by a scan
  // of depths and scales); plain ReLU, and normalized GD, stay finite.
  const config = tiny({ model: { depth: 9, width: 10, init_scale: 3 }, train: { steps: 20, seeds: [0], optimizers: ['ngd', 'signum'], betas: [0.9] } });
  const dir = join(root, 'nonfinite');
  const r = await runSweep(config, dir, { jobs: 2, progress: false });
  assert.deepEqual(r.failed.map((f) => f.id), ['sqrelu_signum_b0.9_s0']);
  assert.match(r.failed[0]!.reason, /non-finite/);
  assert.ok(r.failed[0]!.step !== null && r.failed[0]!.step > 0 && r.failed[0]!.step < 20);
  const ok = r.summaries.filter((s) => s.status === 'ok').map((s) => s.id);
  assert.deepEqual(ok, ['relu_ngd_b0.9_s0', 'relu_signum_b0.9_s0', 'sqrelu_ngd_b0.9_s0']);
  assert.equal(runState(dir, 'sqrelu_signum_b0.9_s0', runHash(config, r.runs[3]!)).state, 'failed');
  // A rerun retries the failed run only.
  const again = await runSweep(config, dir, { jobs: 2, progress: false });
  assert.deepEqual(again.ran, ['sqrelu_signum_b0.9_s0']);
  assert.equal(again.failed.length, 1);
});

test('an exception inside a run is a failed run with the reason and step, and a header-only CSV', async () => {
  const config = tiny();
  const data = loadDataset(config.data);
  const dir = join(root, 'exception');
  mkdirSync(dir);
  const spec = { activation: 'relu', optimizer: 'ngd', beta: 0.9, seed: 0 } as const;
  // Weights for one layer where the model has two: the engine throws on the missing layer.
  const s = await executeOne(config, spec, data, dir, { init: [new Float64Array(10 * 784)] });
  assert.equal(s.status, 'failed');
  assert.equal(s.failure!.step, 0);
  assert.match(s.failure!.reason, /^exception at step 0: /);
  assert.equal(s.final, null);
  assert.equal(readFileSync(join(dir, `${runId(spec)}.csv`), 'utf8'), LOG_COLUMNS.join(',') + '\n');
  assert.equal(s.csv_sha256, sha256Of(LOG_COLUMNS.join(',') + '\n'));
  assert.equal(JSON.parse(readFileSync(join(dir, `${runId(spec)}.json`), 'utf8')).eta0, null, 'NaN is null in the file');
  assert.equal(runState(dir, runId(spec), runHash(config, spec)).state, 'failed');
});

test('run states: complete, failed, stale, partial, missing; orphan temp files of dead writers are removed', async () => {
  const config = tiny();
  const data = loadDataset(config.data);
  const dir = join(root, 'states');
  mkdirSync(dir);
  const spec = { activation: 'relu', optimizer: 'ngd', beta: 0, seed: 0 } as const;
  const id = runId(spec);
  const hash = runHash(config, spec);
  assert.equal(runState(dir, id, hash).state, 'missing');
  await executeOne(config, spec, data, dir);
  assert.equal(runState(dir, id, hash).state, 'complete');
  assert.equal(runState(dir, id, hash, true).state, 'stale', 'weights asked for, none written');
  assert.equal(runState(dir, id, runHash(tiny({}, 21), spec)).state, 'stale', 'another config');
  const csv = readFileSync(join(dir, `${id}.csv`));
  writeFileSync(join(dir, `${id}.csv`), csv.subarray(0, csv.length - 5));
  assert.equal(runState(dir, id, hash).state, 'stale', 'truncated CSV');
  rmSync(join(dir, `${id}.json`));
  assert.equal(runState(dir, id, hash).state, 'partial');

  // Temp files: a dead pid's are orphans; a live process's (ours, here) are left unless it is `ownPid`.
  const dead = 2 ** 22 + 12345; // above Linux's pid_max default (4194304 = 2^22): never a live pid
  writeFileSync(join(dir, `${id}.csv.tmp-${dead}-abcd1234`), 'half');
  writeFileSync(join(dir, `${id}.json.tmp-${process.pid}-abcd1234`), 'half');
  writeFileSync(join(dir, `unrelated.csv.tmp-${dead}-abcd1234`), 'not ours');
  assert.deepEqual(removeOrphanTemps(dir, [id]), [`${id}.csv.tmp-${dead}-abcd1234`]);
  assert.deepEqual(removeOrphanTemps(dir, [id], process.pid), [`${id}.json.tmp-${process.pid}-abcd1234`]);
  assert.ok(existsSync(join(dir, `unrelated.csv.tmp-${dead}-abcd1234`)), 'files of other runs are not touched');
});

test('abort mid-sweep: workers stop at once, finished runs stay complete, nothing partial is left', async () => {
  const config = tiny({ model: { width: 10, activations: ['relu'] } }, 300);
  const dir = join(root, 'abort');
  const controller = new AbortController();
  const r = await runSweep(config, dir, { jobs: 2, progress: false, signal: controller.signal, onRunDone: () => controller.abort() });
  assert.equal(r.interrupted, true);
  assert.ok(r.ran.length >= 1 && r.ran.length < 4, `ran ${r.ran.length}`);
  assert.equal(r.ran.length + r.remaining.length, 4);
  const names = readdirSync(dir);
  assert.deepEqual(names.filter((f) => f.includes('.tmp-')), [], 'no temp files');
  for (const spec of r.runs) {
    const st = runState(dir, runId(spec), runHash(config, spec));
    assert.ok(st.state === 'complete' || st.state === 'missing', `${runId(spec)}: ${st.state}`);
    assert.equal(st.state === 'complete', r.ran.includes(runId(spec)));
  }
  // The next sweep does the rest, and only the rest.
  const rest = await runSweep(config, dir, { jobs: 2, progress: false });
  assert.deepEqual([...rest.ran].sort(), [...r.remaining].sort());
  assert.equal(rest.interrupted, false);
});

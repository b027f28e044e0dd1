// End-to-end tests of `margin-bench run`: the real smoke config, shrunk (STYLE "Tests"), run through
// the CLI in a child process; checks the files it writes (docs/science.md §8), exit codes and error lines
// (STYLE "CLI manners"), and the weights files of --save-weights / train.init_from.
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configHash, loadConfig } from '../../src/config/load.js';
import { initParams, layerShapes } from '../../src/model/mlp.js';
import { PACKAGE_VERSION } from '../../src/provenance.js';
import { runHash } from '../../src/results/hash.js';
import { learningRate, logSteps } from '../../src/train/schedule.js';
import { LOG_COLUMNS, runId, type LogRow, type RunSpec } from '../../src/results/runs.js';
import { REPO, runCli } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SMOKE = 'configs/smoke.yaml';
const SMOKE_ARGS = ['--set', 'train.steps=20', '--only', 'ngd,muon', '--seeds', '0'];
// gridOf's order: activation, then optimizer, then β, then seed (the config's list orders).
const SMOKE_IDS = ['relu', 'sqrelu'].flatMap((activation) =>
  ['ngd', 'muon'].flatMap((optimizer) => [0.9, 0].map((beta) => runId({ activation, optimizer, beta, seed: 0 } as RunSpec))),
);

/** Columns that compare with the previous log point: NaN at the first one (README). */
const NAN_AT_FIRST_ROW = new Set(['angle_prev', 'norm_growth']);

/** A CSV of numbers: header and rows, every cell checked to be a finite number (but NAN_AT_FIRST_ROW's). */
function readCsv(path: string): { header: string[]; rows: LogRow[] } {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n') && !text.includes('\r') && !text.includes('"'), `${path}: plain \\n-terminated CSV`);
  const [head, ...lines] = text.slice(0, -1).split('\n');
  const header = head!.split(',');
  const rows = lines.map((line, i) => {
    const cells = line.split(',');
    assert.equal(cells.length, header.length, `${path} row ${i}: ${cells.length} cells`);
    return Object.fromEntries(
      cells.map((cell, j) => {
        const v = Number(cell);
        if (i === 0 && NAN_AT_FIRST_ROW.has(header[j]!)) assert.equal(cell, 'NaN', `${path} row 0 ${header[j]}`);
        else assert.ok(cell.trim() !== '' && Number.isFinite(v), `${path} row ${i} ${header[j]}: "${cell}" is not a finite number`);
        return [header[j], v];
      }),
    ) as LogRow;
  });
  return { header, rows };
}

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));
const listDir = (dir: string) => readdirSync(dir).sort();

// The smoke command, run twice at once (two folders): test 1 checks one, test 2 compares them.
const smokeA = join(root, 'smoke-a');
const smokeB = join(root, 'smoke-b');
let resA: Awaited<ReturnType<typeof runCli>>;
let resB: Awaited<ReturnType<typeof runCli>>;
before(async () => {
  [resA, resB] = await Promise.all([
    runCli(['run', SMOKE, '--out', smokeA, ...SMOKE_ARGS]),
    runCli(['run', SMOKE, '--out', smokeB, ...SMOKE_ARGS]),
  ]);
});

test('smoke: run configs/smoke.yaml shrunk writes one CSV + JSON per run, the sweep file and the margin table', () => {
  assert.equal(resA.code, 0, `exit ${resA.code}; stderr:\n${resA.stderr}`);

  // Exactly the 8 runs' files and sweep.json; no temp file left behind by the atomic writes.
  const expected = [...SMOKE_IDS.flatMap((id) => [`${id}.csv`, `${id}.json`]), 'sweep.json'].sort();
  assert.deepEqual(listDir(smokeA), expected);
  assert.ok(SMOKE_IDS.includes('relu_muon_b0.9_s0') && SMOKE_IDS.includes('sqrelu_ngd_b0_s0'));

  const sets = ['train.steps=20', 'train.seeds=[0]', 'train.optimizers=[ngd,muon]'];
  const resolved = JSON.parse(JSON.stringify(loadConfig(join(REPO, SMOKE), sets)));
  const sweep = readJson(join(smokeA, 'sweep.json'));
  assert.deepEqual(sweep.runs, SMOKE_IDS);
  assert.deepEqual(sweep.config, resolved);

  const steps = logSteps(20, resolved.log.n_log);
  assert.equal(steps[0], 0);
  assert.equal(steps.at(-1), 20);
  for (const id of SMOKE_IDS) {
    const { header, rows } = readCsv(join(smokeA, `${id}.csv`));
    assert.equal(header.join(','), LOG_COLUMNS.join(','), `${id}: header`);
    assert.deepEqual(rows.map((r) => r.step), steps, `${id}: one row per log step`);
    const last = rows.at(-1)!;
    assert.ok(Math.abs(last.cos_to_last - 1) <= 1e-12, `${id}: cos_to_last of the last row is ${last.cos_to_last}`);
    for (const r of rows) {
      assert.ok(r.loss > 0 && r.train_acc >= 0 && r.train_acc <= 1, `${id} step ${r.step}: loss ${r.loss}, acc ${r.train_acc}`);
      assert.ok(Math.abs(r.log10_loss - Math.log10(r.loss)) <= 1e-12 * Math.max(1, Math.abs(r.log10_loss)), `${id}: log10_loss`);
      assert.ok(Math.abs(r.cos_to_last) <= 1 + 1e-12 && Math.abs(r.cos_m_g) <= 1 + 1e-12, `${id} step ${r.step}: cosines`);
    }

    const s = readJson(join(smokeA, `${id}.json`));
    assert.equal(s.id, id);
    assert.equal(s.status, 'ok');
    assert.equal(s.failure, null);
    assert.equal(runId(s.run), id);
    assert.equal(s.steps_completed, 20);
    assert.deepEqual(s.config, resolved, `${id}: the resolved config`);
    assert.equal(s.config.train.steps, 20);
    assert.equal(s.config_hash, configHash(resolved));
    assert.equal(s.run_hash, runHash(resolved, s.run));
    assert.equal(s.csv_sha256, createHash('sha256').update(readFileSync(join(smokeA, `${id}.csv`))).digest('hex'));
    assert.equal(s.data.indices.length, 100); // 10 classes × n_per_class 10
    assert.equal(new Set(s.data.indices).size, 100);
    assert.equal(s.data.n, 100);
    assert.ok(typeof s.eta0 === 'number' && s.eta0 > 0, `${id}: eta0 ${s.eta0}`);
    assert.equal(s.eta0, resolved.train.lr.rel * s.own_norm_init); // docs/science.md §7: η_0 = rel · ‖θ_0‖ (own family)
    rows.forEach((r) => assert.equal(r.lr, learningRate(s.eta0, resolved.train.lr.decay, r.step), `${id} step ${r.step}: lr`));
    assert.ok(typeof s.engine === 'string' && s.engine.length > 0, `${id}: engine`);
    assert.equal(s.versions['margin-bench'], PACKAGE_VERSION);
    assert.equal(s.versions.node, process.versions.node);
    assert.ok(s.wall_time_s > 0);
    assert.deepEqual(s.final, last, `${id}: final row equals the CSV's last row`);
    assert.deepEqual(s.files, { csv: `${id}.csv` });
  }

  // stdout: the data (margin table, one block per activation × β); stderr: one plain line per run.
  assert.equal(resA.stdout.split('final normalized margins').length - 1, 4, resA.stdout);
  assert.ok(resA.stdout.includes(`results: ${smokeA}\n`));
  // A plan line, then one line per finished run, in the order runs finish (workers run in parallel).
  const lines = resA.stderr.split('\n');
  assert.equal(lines.pop(), '', 'stderr ends with a newline');
  assert.match(lines.shift()!, /^sweep: 8 runs; 8 to do on \d+ workers? → /);
  assert.equal(lines.length, 8, `one progress line per run:\n${resA.stderr}`);
  const finished = lines.map((line, k) => {
    const m = /^\[(\d+)\/8\] (\S+) /.exec(line);
    assert.ok(m && Number(m[1]) === k + 1, `line ${k}: ${line}`);
    return m[2]!;
  });
  assert.deepEqual([...finished].sort(), [...SMOKE_IDS].sort());
  assert.ok(!/\x1b/.test(resA.stderr), 'no control characters off a terminal');
});

test('determinism: the same command twice gives byte-identical CSVs and equal summaries', () => {
  assert.equal(resB.code, 0, resB.stderr);
  assert.deepEqual(listDir(smokeB), listDir(smokeA));
  const timing = ['wall_time_s', 'ms_per_step', 'started_at', 'finished_at', 'git_commit'];
  for (const id of SMOKE_IDS) {
    assert.ok(readFileSync(join(smokeA, `${id}.csv`)).equals(readFileSync(join(smokeB, `${id}.csv`))), `${id}.csv differs`);
    const [a, b] = [smokeA, smokeB].map((dir) => readJson(join(dir, `${id}.json`)));
    for (const key of timing) {
      delete a[key];
      delete b[key];
    }
    assert.deepEqual(a, b, `${id}.json differs beyond timing`);
  }
  assert.equal(resB.stdout.replace(smokeB, '<out>'), resA.stdout.replace(smokeA, '<out>'));
});

test('usage errors exit 2 with one line naming the culprit, and write nothing', async () => {
  const dir = join(root, 'errors');
  mkdirSync(dir);
  const typo = join(dir, 'typo.yaml');
  writeFileSync(typo, 'train: { stpes: 5 }\n');
  const wrongType = join(dir, 'wrong-type.yaml');
  writeFileSync(wrongType, 'train: { steps: many }\n');
  const missingConfig = join(dir, 'no-such-config.yaml');
  const missingWeights = join(dir, 'no-such.weights.json');
  // Layer 1 right ([50][784]), layer 2 one column short ([10][49] instead of [10][50]).
  const badShape = join(dir, 'bad-shape.weights.json');
  const zeros = (out: number, cols: number) => Array.from({ length: out }, () => new Array<number>(cols).fill(0));
  writeFileSync(badShape, JSON.stringify({ layers: [zeros(50, 784), zeros(10, 49)] }));

  const small = ['--set', 'train.steps=2', '--only', 'adam', '--seeds', '0'];
  const cases: { name: string; args: string[]; line: RegExp | string[] }[] = [
    { name: 'unknown config key', args: [typo], line: [typo, 'train.stpes'] },
    { name: 'wrong type', args: [wrongType], line: [wrongType, 'train.steps', 'many'] },
    { name: 'missing config file', args: [missingConfig], line: [missingConfig] },
    { name: '--set without =', args: [SMOKE, '--set', 'train.steps'], line: ['--set train.steps'] },
    { name: 'unknown optimizer in --only', args: [SMOKE, '--only', 'adam,sgd'], line: ['--only', '"sgd"'] },
    { name: 'bad --seeds', args: [SMOKE, '--seeds', 'x'], line: ['--seeds x'] },
    // commander's own parse error: one line, no help hint (the hint is not set on the run command).
    { name: 'unknown flag', args: [SMOKE, '--frobnicate'], line: /^margin-bench: error: run: unknown option '--frobnicate'$/ },
    {
      name: 'init_from missing',
      args: [SMOKE, ...small, '--set', `train.init_from=${missingWeights}`],
      line: ['train.init_from', missingWeights, 'not found'],
    },
    {
      name: 'init_from wrong shape',
      args: [SMOKE, ...small, '--set', `train.init_from=${badShape}`],
      line: ['train.init_from', badShape, 'layer 2', '[10][50]'],
    },
  ];

  const results = await Promise.all(
    cases.map(async (c, i) => {
      const out = join(dir, `out-${i}`);
      mkdirSync(out);
      writeFileSync(join(out, 'sentinel.txt'), `sentinel ${i}\n`);
      return { c, out, i, res: await runCli(['run', ...c.args, '--out', out]) };
    }),
  );
  const failures: string[] = [];
  for (const { c, out, i, res } of results) {
    try {
      assert.equal(res.code, 2, `exit code ${res.code}; stderr: ${res.stderr}`);
      assert.equal(res.stdout, '', 'nothing on stdout');
      assert.ok(res.stderr.endsWith('\n'), `stderr: ${JSON.stringify(res.stderr)}`);
      const lines = res.stderr.slice(0, -1).split('\n');
      assert.equal(lines.length, 1, `one line, got: ${JSON.stringify(res.stderr)}`);
      const line = lines[0]!;
      if (c.line instanceof RegExp) assert.match(line, c.line);
      else {
        assert.ok(line.startsWith('margin-bench: error: '), line);
        for (const f of c.line) assert.ok(line.includes(f), `"${line}" lacks "${f}"`);
      }
      assert.deepEqual(listDir(out), ['sentinel.txt'], 'no new files in --out');
      assert.equal(readFileSync(join(out, 'sentinel.txt'), 'utf8'), `sentinel ${i}\n`, 'sentinel untouched');
    } catch (err) {
      failures.push(`${c.name}: ${(err as Error).message}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('weights round trip: --save-weights, then train.init_from reproduces and continues the run', async () => {
  const base = ['--set', 'train.steps=15', '--set', 'model.activations=[relu]', '--set', 'train.betas=[0.9]', '--only', 'adam', '--seeds', '0'];
  const id = 'relu_adam_b0.9_s0';
  const out1 = join(root, 'weights-1');
  const r1 = await runCli(['run', SMOKE, '--out', out1, '--save-weights', ...base]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.deepEqual(listDir(out1), [`${id}.csv`, `${id}.final.weights.json`, `${id}.init.weights.json`, `${id}.json`, 'sweep.json']);
  const initFile = join(out1, `${id}.init.weights.json`);
  const finalFile = join(out1, `${id}.final.weights.json`);
  assert.deepEqual(readJson(join(out1, `${id}.json`)).files, {
    csv: `${id}.csv`,
    init_weights: `${id}.init.weights.json`,
    final_weights: `${id}.final.weights.json`,
  });

  const shapes = layerShapes({ inputDim: 784, width: 50, outputDim: 10, depth: 2 });
  const init = readJson(initFile);
  const final = readJson(finalFile);
  for (const [name, w] of [['init', init], ['final', final]] as const) {
    assert.deepEqual(Object.keys(w), ['layers'], name);
    assert.deepEqual(w.layers.map((l: number[][]) => [l.length, ...new Set(l.map((row) => row.length))]), [[50, 784], [10, 50]], `${name}: [out][in]`);
  }
  // Init weights: exactly initParams(shapes, init_scale 0.3, seed 0), row-major.
  const expected = initParams(shapes, 0.3, 0);
  shapes.forEach(({ in: cols }, l) => {
    const flat = init.layers[l].flat();
    assert.equal(flat.length, expected[l]!.length);
    const firstDiff = flat.findIndex((v: number, k: number) => !Object.is(v, expected[l]![k]));
    assert.equal(firstDiff, -1, `layer ${l + 1} entry [${Math.floor(firstDiff / cols)}][${firstDiff % cols}]`);
  });
  // The files are the CSV's iterates: ‖θ‖₂ of each file matches norm_l2 of the first/last row.
  const l2 = (w: { layers: number[][][] }) => Math.sqrt(w.layers.flat(2).reduce((s, v) => s + v * v, 0));
  const rows1 = readCsv(join(out1, `${id}.csv`)).rows;
  assert.ok(Math.abs(l2(init) - rows1[0]!.norm_l2) <= 1e-12 * rows1[0]!.norm_l2);
  assert.ok(Math.abs(l2(final) - rows1.at(-1)!.norm_l2) <= 1e-12 * rows1.at(-1)!.norm_l2);
  assert.notDeepEqual(final, init);

  const out2 = join(root, 'weights-2');
  const out3 = join(root, 'weights-3');
  const [r2, r3] = await Promise.all([
    runCli(['run', SMOKE, '--out', out2, ...base, '--set', `train.init_from=${initFile}`]),
    runCli(['run', SMOKE, '--out', out3, ...base, '--set', `train.init_from=${finalFile}`]),
  ]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r3.code, 0, r3.stderr);
  // Starting from the saved init weights reproduces the run byte for byte.
  assert.ok(readFileSync(join(out2, `${id}.csv`)).equals(readFileSync(join(out1, `${id}.csv`))), 'init_from=init: CSV differs');
  assert.equal(readJson(join(out2, `${id}.json`)).config.train.init_from, initFile);
  // Starting from the saved final weights: step 0 sees exactly θ_T of run 1.
  const first3 = readCsv(join(out3, `${id}.csv`)).rows[0]!;
  const last1 = rows1.at(-1)!;
  assert.equal(first3.step, 0);
  for (const col of ['loss', 'log10_loss', 'train_acc', 'qmin', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid',
    'norm_l2', 'norm_linf', 'norm_spectral', 'norm_hybrid'] as const) {
    assert.equal(first3[col], last1[col], `${col}: step 0 of run 3 vs step 15 of run 1`);
  }
});

test('--help: run options, their defaults and examples; exit 0', async () => {
  const [top, run] = await Promise.all([runCli(['--help']), runCli(['run', '--help'])]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /^\s+run \[options\] <config>/m);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  for (const flag of ['--out <dir>', '--seeds <list>', '--only <optimizers>', '--set <key=value>', '--save-weights', '--jobs <n>', '--shard <i/n>', '--force', '--no-progress']) {
    assert.ok(run.stdout.includes(flag), `run --help lacks ${flag}`);
  }
  assert.match(run.stdout, /--out <dir>.*\(default: "results\/<name>\/"\)/);
  assert.match(run.stdout, /\nExamples:\n(  margin-bench run configs\/\S+\.yaml.*\n){2,}/);
});

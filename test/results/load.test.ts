// Reading results folders (src/results/load.ts): the fixture, merged shards, and bad inputs that
// must fail with one line naming the file (and line).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { loadResults } from '../../src/results/load.js';
import { reportTables, tablesCsv } from '../../src/figures/tables.js';
import { FIXTURE, cleanup, copyFixture, tempDir, withEditedCsv } from '../figures/fixtures.js';

after(cleanup);

const ID = 'relu_ngd_b0.9_s0';

/** Assert that loading throws a one-line UsageError matching `pattern`. */
function fails(dirs: string[], pattern: RegExp): void {
  assert.throws(
    () => loadResults(dirs),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, `a UsageError, got ${String(err)}`);
      assert.ok(!err.message.includes('\n'), 'one line');
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('the fixture: 72 finished runs in canonical order, nothing missing', () => {
  const set = loadResults([FIXTURE]);
  assert.equal(set.runs.length, 72);
  assert.equal(set.runs[0]!.summary.id, 'relu_ngd_b0.9_s0');
  assert.equal(set.runs.at(-1)!.summary.id, 'sqrelu_muon_adam_b0_s2');
  assert.deepEqual([set.failed.length, set.unfinished.length, set.missing.length], [0, 0, 0]);
  assert.equal(set.sweeps.length, 1);
  const run = set.runs[0]!;
  assert.equal(run.rows.length, run.summary.final ? run.rows.length : -1);
  assert.equal(run.rows.at(-1)!.step, 300);
});

test('shards: several folders merge into the same tables as one folder', () => {
  const root = tempDir();
  const [a, b] = [join(root, 'relu'), join(root, 'sqrelu')];
  mkdirSync(a);
  mkdirSync(b);
  for (const n of readdirSync(FIXTURE)) {
    if (n.startsWith('relu_')) cpSync(join(FIXTURE, n), join(a, n));
    if (n.startsWith('sqrelu_')) cpSync(join(FIXTURE, n), join(b, n));
  }
  const merged = loadResults([a, b]);
  assert.equal(merged.runs.length, 72);
  assert.equal(tablesCsv(reportTables(merged)), tablesCsv(reportTables(loadResults([FIXTURE]))));
  // The same run in two folders is an error, naming both files.
  cpSync(join(FIXTURE, `${ID}.json`), join(b, `${ID}.json`));
  cpSync(join(FIXTURE, `${ID}.csv`), join(b, `${ID}.csv`));
  fails([a, b], new RegExp(`run ${ID} found twice: .*relu/${ID}\\.json and .*sqrelu/${ID}\\.json`));
});

test('an empty folder, a missing folder, a folder of unfinished runs', () => {
  const empty = tempDir();
  fails([empty], /no finished runs/);
  fails([join(empty, 'nope')], /nope: not a folder/);
  const dir = copyFixture();
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'sweep.json')) rmSync(join(dir, n));
  fails([dir], /no finished runs .*72 CSV\(s\) without a summary, i\.e\. unfinished/);
});

test('a CSV cut in the middle of a row names the file and the line', () => {
  const { dir, csv } = withEditedCsv(ID, (text) => text.slice(0, text.length - 200));
  fails([dir], new RegExp(`${csv.replace(/[.]/g, '\\.')}: line \\d+: \\d+ fields where the header has 16 \\(truncated or malformed\\)`));
});

test('a CSV cut at a row boundary disagrees with its summary’s final row', () => {
  const { dir, csv } = withEditedCsv(ID, (text) => text.split('\n').slice(0, -3).join('\n') + '\n');
  fails([dir], new RegExp(`${csv.replace(/[.]/g, '\\.')}: last row \\(step \\d+\\) has step = \\d+, but ${ID}\\.json says 300`));
});

test('missing columns, a non-number and a broken quote name the file and line', () => {
  const drop = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => l.split(',').filter((_, j) => j !== 9).join(','))
      .join('\n') + '\n';
  const a = withEditedCsv(ID, drop);
  fails([a.dir], new RegExp(`${ID}\\.csv: line 1: missing column\\(s\\) margin_hybrid`));
  const b = withEditedCsv(ID, (text) => text.replace(/\n(\d+),[^,]+,/, (m, step) => `\n${step},abc,`));
  fails([b.dir], new RegExp(`${ID}\\.csv: line 2: column lr: "abc" is not a number`));
  const c = withEditedCsv(ID, (text) => text.replace(/\n(\d+),/, '\n"$1,')); // an opening quote never closed
  fails([c.dir], new RegExp(`${ID}\\.csv: line \\d+: malformed CSV`));
});

test('a summary that is not JSON or not a summary names the file', () => {
  const dir = copyFixture();
  writeFileSync(join(dir, `${ID}.json`), '{"id": ');
  fails([dir], new RegExp(`${ID}\\.json: not valid JSON`));
  writeFileSync(join(dir, `${ID}.json`), JSON.stringify({ id: ID, run: { activation: 'relu' } }));
  fails([dir], new RegExp(`${ID}\\.json: not a run summary: run\\.optimizer`));
});

test('failed runs and CSVs without a summary are left out and reported', () => {
  const dir = copyFixture();
  renameSync(join(dir, `${ID}.json`), join(dir, 'elsewhere.txt'));
  const set = loadResults([dir]);
  assert.equal(set.runs.length, 71);
  assert.deepEqual(set.unfinished, [join(dir, `${ID}.csv`)]);
  assert.deepEqual(set.missing, [ID]); // listed in sweep.json
});

test('a CSV that no longer matches its summary’s csv_sha256 is rejected', async () => {
  const { createHash } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  const { dir, csv } = withEditedCsv(ID, (text) => text);
  const summaryPath = join(dir, `${ID}.json`);
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
  summary.csv_sha256 = createHash('sha256').update(readFileSync(csv)).digest('hex');
  writeFileSync(summaryPath, JSON.stringify(summary));
  assert.equal(loadResults([dir]).runs.length, 72); // the hash matches
  // Same shape, one digit changed in a middle row: only the hash can tell.
  writeFileSync(csv, readFileSync(csv, 'utf8').replace(/\n(\d+),0\.0(\d)/, (_, step, d) => `\n${step},0.0${(Number(d) + 1) % 10}`));
  fails([dir], new RegExp(`${ID}\\.csv: does not match the csv_sha256 of ${ID}\\.json`));
});

// Tables at a given loss (docs/science.md §11.4): each run read where its loss first reaches the
// level, interpolated in log10 loss between the two log points around it; runs that never reached
// it listed with their lowest loss. Checked on hand-made CSVs whose answers are worked out by hand.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLossLevel } from '../../src/commands/table.js';
import { loadResults } from '../../src/results/load.js';
import { configLevels, reportTables, tablesMarkdown } from '../../src/figures/tables.js';
import { timeCurves } from '../../src/figures/align.js';
import { settleSettings } from '../../src/report/settings.js';
import { runCli } from '../cli/helpers.js';
import { FIXTURE, cleanup, tempDir } from './fixtures.js';

after(cleanup);

const COLUMNS = ['step', 'log10_loss', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid', 'cos_to_last'];

/**
 * One hand-made run: rows [step, log10 loss, γ_l2, γ_linf, γ_spectral, γ_hybrid]. Its summary is a
 * real one from the fixture with the identity, the final row and the config's loss levels replaced.
 */
function writeRun(dir: string, opt: string, seed: number, rows: number[][], levels: { target?: number; at?: number[] } = {}): void {
  const id = `relu_${opt}_b0.9_s${seed}`;
  const csv = [COLUMNS.join(','), ...rows.map((r) => [...r, 1].join(','))].join('\n') + '\n';
  writeFileSync(join(dir, `${id}.csv`), csv);
  const s = JSON.parse(readFileSync(join(FIXTURE, 'relu_ngd_b0.9_s0.json'), 'utf8'));
  const family: Record<string, string> = { ngd: 'l2', muon: 'spectral' };
  s.id = id;
  s.run = { ...s.run, optimizer: opt, seed, family: family[opt] };
  s.files = { csv: `${id}.csv` };
  s.final = Object.fromEntries(COLUMNS.map((c, j) => [c, j < 6 ? rows.at(-1)![j] : 1]));
  delete s.csv_sha256;
  s.config.train.steps = 30;
  s.config.train.target_log10_loss = levels.target ?? null;
  // A run given a target that its last row reached stopped there.
  if (levels.target !== undefined && rows.at(-1)![1]! <= levels.target) s.stop = { reason: 'target_loss', step: rows.at(-1)![0], log10_loss: rows.at(-1)![1], target_log10_loss: levels.target };
  s.config.log.at_log10_loss = levels.at ?? [];
  writeFileSync(join(dir, `${id}.json`), JSON.stringify(s));
}

/**
 * ngd and muon, seeds 0–2. Every run crosses 1e-8 between steps 10 (log10 L = −5) and 20 (−9):
 * by hand, w = (−5 − (−8)) / (−5 − (−9)) = 3/4 of the way, so γ = γ_10 + 0.75 (γ_20 − γ_10).
 * muon seed 2 stops at log10 L = −6: never reaches 1e-8.
 */
function handMade(levels: { target?: number; at?: number[] } = {}): string {
  const dir = tempDir();
  for (const seed of [0, 1, 2]) {
    const s = seed / 100;
    // ngd: γ_l2 0.2 → 0.6 (0.5 at 1e-8), γ_spectral 0.1 → 0.3 (0.25 at 1e-8)
    writeRun(dir, 'ngd', seed, [[0, 0, -1, -1, -1, -1], [10, -5, 0.2 + s, 0.1, 0.1, 0.1], [20, -9, 0.6 + s, 0.1, 0.3, 0.1], [30, -12, 0.7, 0.1, 0.35, 0.1]], levels);
    // muon: γ_l2 0.1 → 0.3 (0.25), γ_spectral 0.2 → 0.6 (0.5)
    const muonRows = seed === 2 ? [[0, 0, -1, -1, -1, -1], [10, -4, 0.1, 0.1, 0.2, 0.1], [30, -6, 0.2, 0.1, 0.4, 0.1]] : [[0, 0, -1, -1, -1, -1], [10, -5, 0.1, 0.1, 0.2 + s, 0.1], [20, -9, 0.3, 0.1, 0.6 + s, 0.1]];
    writeRun(dir, 'muon', seed, muonRows, levels);
  }
  return dir;
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('table at loss 1e-8: interpolated in log10 loss between the log points around the first crossing; unreached runs listed', () => {
  const set = loadResults([handMade()]);
  const { atLoss, atLossEmpty } = reportTables(set, [-8]);
  assert.equal(atLoss.length, 1);
  assert.equal(atLossEmpty.length, 0);
  const r = atLoss[0]!;
  assert.equal(r.level, -8);
  const t = r.table;
  // ngd: seeds 0, 1, 2 at 0.5 + 0.25·s·... by hand: γ_l2 = (0.2 + s) + 0.75 (0.4) = 0.5 + s.
  close(t.cells.ngd!.l2.mean, 0.5 + 0.01, 'ngd γ_l2 mean over s = 0, 0.01, 0.02');
  close(t.cells.ngd!.spectral.mean, 0.25, 'ngd γ_spectral');
  assert.equal(t.cells.ngd!.l2.seeds, 3);
  // muon: only seeds 0 and 1 reached it: γ_spectral = 0.5 + s → mean 0.505; γ_l2 = 0.25.
  assert.equal(t.cells.muon!.spectral.seeds, 2);
  close(t.cells.muon!.spectral.mean, 0.505, 'muon γ_spectral');
  close(t.cells.muon!.l2.mean, 0.25, 'muon γ_l2');
  assert.deepEqual(r.unreached, [{ id: 'relu_muon_b0.9_s2', optimizer: 'muon', seed: 2, lowest: -6, steps: 30 }]);
  // The widest bracket: 10 steps, 4 decades; across it γ moves by 0.4 around 0.5: 80% for ngd's γ_l2 at s = 0.
  assert.deepEqual({ steps: r.bracket!.steps, decades: r.bracket!.decades }, { steps: 10, decades: 4 });
  close(r.bracket!.relChange, 0.4 / 0.5, 'largest relative change across a bracket');
  // The diagonal, paired on the two seeds both reached: spectral d_s = (0.5 + s) − 0.25 > 0; ℓ2 d_s = (0.5 + s) − 0.25.
  assert.deepEqual(t.paired.spectral.seeds, [0, 1]);
  assert.equal(t.paired.spectral.agree, 2);
  const md = tablesMarkdown({ ...reportTables(set, [-8]), final: [], commonLoss: [] }, []);
  assert.match(md, /## At loss 1e-8/);
  assert.match(md, /Never reached 1e-8, so not in the table: muon \(seed 2\): lowest loss 10\^-6\.00 after 30 steps\./);
  assert.match(md, /at most 10 steps and 4\.0 decades apart/);
  assert.doesNotMatch(md, /Final normalized margins/);
});

test('a level no run of a group reached gives no table, only the list of runs and where they ended', () => {
  const set = loadResults([handMade()]);
  const { atLoss, atLossEmpty } = reportTables(set, [-13]);
  assert.equal(atLoss.length, 0);
  assert.equal(atLossEmpty.length, 1);
  assert.deepEqual(atLossEmpty[0]!.unreached.map((u) => [u.optimizer, u.seed, u.lowest]), [['ngd', 0, -12], ['ngd', 1, -12], ['ngd', 2, -12], ['muon', 0, -9], ['muon', 1, -9], ['muon', 2, -6]]);
  assert.match(tablesMarkdown(reportTables(set, [-13]), []), /No run of this group reached 1e-13: ngd \(seeds 0, 1, 2\): lowest loss 10\^-12\.00 after 30 steps; muon \(seeds 0, 1, 2\): lowest loss 10\^-9\.00 … 10\^-6\.00 after 20–30 steps\./);
});

test('the levels a config names (target and log.at_log10_loss) are the figures’ at-loss tables', () => {
  const set = loadResults([handMade({ target: -8, at: [-4, -8.5] })]);
  assert.deepEqual(configLevels(set), [-4, -8, -8.5]);
  assert.deepEqual(configLevels(loadResults([FIXTURE])), []);
});

test('--at-loss takes losses as written, below float range too; bad values are usage errors', async () => {
  assert.equal(parseLossLevel('1e-8'), -8);
  assert.equal(parseLossLevel('1E-400'), -400);
  close(parseLossLevel('5e-9'), Math.log10(5) - 9, '5e-9');
  close(parseLossLevel('0.001'), -3, '0.001');
  for (const bad of ['0', '-1e-8', 'abc', '1e', '']) assert.throws(() => parseLossLevel(bad), /--at-loss .*: expected a positive loss such as 1e-8/);

  const dir = handMade();
  const ok = await runCli(['table', dir, '--at-loss', '1e-8', '1e-4']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /## At loss 1e-8/);
  assert.match(ok.stdout, /## At loss 1e-4/);
  assert.doesNotMatch(ok.stdout, /## Final normalized margins/);
  const bad = await runCli(['table', dir, '--at-loss', 'small']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /--at-loss small: expected a positive loss such as 1e-8/);
});

test('Figure 1(b) with runs stopped at a target: t/T runs to 1 for each run, T its own last step', () => {
  // muon seeds 0, 1 stop at step 20 (log10 L = −9 ≤ −8); ngd runs on to 30 (they are at −9 by step 20
  // too, but these hand-made ngd runs were not given the target); muon seed 2 never reached it.
  const dir = tempDir();
  const rows = (last: number) => [[0, 0, 0.1, 0.1, 0.1, 0.1], [10, -5, 0.2, 0.1, 0.2, 0.1], [last, -9, 0.3, 0.1, 0.3, 0.1]];
  for (const seed of [0, 1]) writeRun(dir, 'muon', seed, rows(20), { target: -8 });
  writeRun(dir, 'muon', 2, rows(30).map((r) => (r[0] === 30 ? [30, -6, 0.3, 0.1, 0.3, 0.1] : r)), { target: -8 });
  // Stopping at different steps is not a different setting: nothing to refuse.
  const set = settleSettings(loadResults([dir]), 'figures', false);
  assert.deepEqual(set.mixed, []);
  const [curve] = timeCurves(set.runs, 'cos_to_last', ['muon']);
  // x = t/T: 0, 10/30 (seed 2), 10/20 (seeds 0, 1), 1 (all three at their own T).
  assert.deepEqual(curve!.points.map((p) => p.x), [0, 1 / 3, 0.5, 1]);
  assert.equal(curve!.steps, 30);
  assert.ok(curve!.points.every((p) => p.n === 3));
});

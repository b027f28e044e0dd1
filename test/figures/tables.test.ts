// The tables and the diagonal verdict (src/figures/tables.ts, src/report/finalTable.ts), checked
// against numbers computed here from the CSV text with plain string splitting and textbook formulas.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { coverage } from '../../src/figures/coverage.js';
import { loadResults } from '../../src/results/load.js';
import { reportTables, tablesCsv, tablesLatex, tablesMarkdown, verdictCsv } from '../../src/figures/tables.js';
import { FIXTURE, cleanup, swapOptimizers, withoutRuns } from './fixtures.js';

after(cleanup);

const NORMS = ['l2', 'linf', 'spectral', 'hybrid'];
// docs/science.md §1, typed out again rather than imported.
const FAMILY: Record<string, string> = { ngd: 'l2', signum: 'linf', adam: 'linf', muon: 'spectral', muon_signum: 'hybrid', muon_adam: 'hybrid' };
// R: qt(0.975, df) for df = 1, 2.
const T975: Record<number, number> = { 1: 12.706204736, 2: 4.30265273 };

interface Run { act: string; opt: string; beta: number; seed: number; rows: Record<string, number>[] }

/** Every run of a folder, read with split(',') (the files are plain numeric CSV). */
function readRuns(dir: string): Run[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.csv'))
    .map((n) => {
      const m = /^(relu|sqrelu)_(\w+?)_b([\d.]+)_s(\d+)\.csv$/.exec(n)!;
      const [head, ...lines] = readFileSync(join(dir, n), 'utf8').trim().split('\n');
      const cols = head!.split(',');
      const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, j) => [cols[j], Number(v)])));
      return { act: m[1]!, opt: m[2]!, beta: Number(m[3]), seed: Number(m[4]), rows };
    });
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const close = (a: number, b: number, what: string, rel = 1e-12) =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

/** First passage of `level`: the straight line between the two log points that bracket it. */
function atLevel(rows: Record<string, number>[], level: number, col: string): number {
  const k = rows.findIndex((r) => r.log10_loss! <= level);
  if (k === 0) return rows[0]![col]!;
  const a = rows[k - 1]!;
  const b = rows[k]!;
  return a[col]! + ((a.log10_loss! - level) / (a.log10_loss! - b.log10_loss!)) * (b[col]! - a[col]!);
}

/** Expected table cells: key `act|beta|opt|norm` → per-seed values. */
function expectedCells(runs: Run[], valueOf: (r: Run, norm: string) => number): Map<string, Map<number, number>> {
  const cells = new Map<string, Map<number, number>>();
  for (const r of runs) {
    for (const n of NORMS) {
      const key = `${r.act}|${r.beta}|${r.opt}|${n}`;
      if (!cells.has(key)) cells.set(key, new Map());
      cells.get(key)!.set(r.seed, valueOf(r, n));
    }
  }
  return cells;
}

test('final table: every cell is the mean ± std over seeds of the CSVs’ last rows; best per column', () => {
  const set = loadResults([FIXTURE]);
  const { final } = reportTables(set);
  const cells = expectedCells(readRuns(FIXTURE), (r, n) => r.rows.at(-1)![`margin_${n}`]!);
  assert.equal(final.length, 4);
  assert.deepEqual(final.map((t) => `${t.table.activation} ${t.table.beta}`), ['relu 0.9', 'relu 0', 'sqrelu 0.9', 'sqrelu 0']);
  let checked = 0;
  for (const { table } of final) {
    assert.deepEqual(table.rows.map((row) => row.label), ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam']);
    for (const n of NORMS) {
      let best = '';
      for (const o of table.rows.map((row) => row.label)) {
        const values = [...cells.get(`${table.activation}|${table.beta}|${o}|${n}`)!.values()];
        const c = table.cells[o]![n as 'l2'];
        close(c.mean, mean(values), `${o} ${n} mean`);
        close(c.std, std(values), `${o} ${n} std`);
        assert.equal(c.seeds, 3);
        if (!best || mean(values) > mean([...cells.get(`${table.activation}|${table.beta}|${best}|${n}`)!.values()])) best = o;
        checked++;
      }
      assert.equal(table.winners[n as 'l2'].optimizer, best);
    }
  }
  assert.equal(checked, 4 * 6 * 4);

  // table.csv carries the same numbers at full precision.
  const csv = parse(tablesCsv(reportTables(set)), { columns: true }) as Record<string, string>[];
  assert.equal(csv.length, 2 * 4 * 6 * 4);
  for (const row of csv.filter((r) => r.table === 'final')) {
    const values = [...cells.get(`${row.activation}|${Number(row.beta)}|${row.optimizer}|${row.norm}`)!.values()];
    close(Number(row.mean), mean(values), `csv ${row.optimizer} ${row.norm}`);
    close(Number(row.std), std(values), `csv std ${row.optimizer} ${row.norm}`);
    assert.equal(row.family, FAMILY[row.optimizer!]);
  }
});

test('common-loss table: the lowest loss every run of the group reached, each run read at its first passage', () => {
  const set = loadResults([FIXTURE]);
  const runs = readRuns(FIXTURE);
  const { commonLoss } = reportTables(set);
  assert.equal(commonLoss.length, 4);
  for (const r of commonLoss) {
    const group = runs.filter((x) => x.act === r.table.activation && x.beta === r.table.beta);
    const level = Math.max(...group.map((x) => Math.min(...x.rows.map((row) => row.log10_loss!))));
    assert.equal(r.level, level);
    const cells = expectedCells(group, (x, n) => atLevel(x.rows, level, `margin_${n}`));
    for (const o of r.table.rows.map((row) => row.label)) {
      for (const n of NORMS) {
        const values = [...cells.get(`${r.table.activation}|${r.table.beta}|${o}|${n}`)!.values()];
        close(r.table.cells[o]![n as 'l2'].mean, mean(values), `common ${o} ${n}`);
      }
    }
  }
});

/** The verdict, recomputed: weakest own-family member − best other, per seed, 95% t interval. */
function expectedVerdict(cells: Map<string, Map<number, number>>, prefix: string, optimizers: string[], norm: string) {
  const m = (o: string) => mean([...cells.get(`${prefix}|${o}|${norm}`)!.values()]);
  const members = optimizers.filter((o) => FAMILY[o] === norm);
  const others = optimizers.filter((o) => FAMILY[o] !== norm);
  const weakest = members.reduce((a, b) => (m(b) < m(a) ? b : a));
  const rival = others.reduce((a, b) => (m(b) > m(a) ? b : a));
  const own = cells.get(`${prefix}|${weakest}|${norm}`)!;
  const their = cells.get(`${prefix}|${rival}|${norm}`)!;
  const d = [...own.keys()].filter((s) => their.has(s)).map((s) => own.get(s)! - their.get(s)!);
  const half = d.length > 1 ? (T975[d.length - 1]! * std(d)) / Math.sqrt(d.length) : NaN;
  const status = d.length < 2 ? 'inconclusive' : mean(d) - half > 0 ? 'holds' : mean(d) + half < 0 ? 'fails' : 'inconclusive';
  return { weakest, rival, d, lo: mean(d) - half, hi: mean(d) + half, agree: d.filter((x) => x > 0).length, status };
}

function checkVerdicts(dir: string): string[] {
  const set = loadResults([dir]);
  const cells = expectedCells(readRuns(dir), (r, n) => r.rows.at(-1)![`margin_${n}`]!);
  const statuses: string[] = [];
  for (const { table } of reportTables(set).final) {
    for (const n of NORMS) {
      const e = expectedVerdict(cells, `${table.activation}|${table.beta}`, table.rows.map((row) => row.label), n);
      const v = table.paired[n as 'l2'];
      assert.equal(v.weakest, e.weakest);
      assert.equal(v.rival, e.rival);
      assert.equal(v.diffs.length, e.d.length);
      // The t quantile above has 10 significant digits: intervals agree to ~1e-9 relative.
      if (e.d.length > 1) {
        close(v.lo, e.lo, `${n} lo`, 1e-8);
        close(v.hi, e.hi, `${n} hi`, 1e-8);
      } else assert.ok(Number.isNaN(v.lo) && Number.isNaN(v.hi));
      assert.equal(v.agree, e.agree);
      assert.equal(v.status, e.status, `${table.activation} β=${table.beta} ${n}`);
      statuses.push(`${table.activation} ${table.beta} ${n} ${v.status}`);
    }
  }
  return statuses;
}

test('diagonal verdict on the real fixture: paired by seed, as recomputed here', () => {
  const statuses = checkVerdicts(FIXTURE);
  // In this 300-step sweep the ℓ2 and spectral diagonals hold in every group.
  for (const s of statuses.filter((x) => / (l2|spectral) /.test(x))) assert.match(s, /holds$/);
});

test('diagonal verdict must fail when ngd and muon are swapped', () => {
  const dir = swapOptimizers('ngd', 'muon', FAMILY);
  const statuses = checkVerdicts(dir);
  // "ngd" now carries Muon's margins: it loses the ℓ2 column in every seed, and "muon" the spectral one.
  for (const s of statuses.filter((x) => / (l2|spectral) /.test(x))) assert.match(s, /fails$/);
  const md = tablesMarkdown(reportTables(loadResults([dir])), []);
  assert.ok(md.includes('| FAILS |'), 'the Markdown table shows the failure');
});

test('partial seeds: cells count what is there, the verdict pairs only shared seeds, the notes say what is missing', () => {
  const dir = withoutRuns(['relu_ngd_b0.9_s2', 'sqrelu_muon_b0_s0', 'sqrelu_muon_b0_s1']);
  const set = loadResults([dir]);
  const tables = reportTables(set);
  const relu = tables.final.find((t) => t.table.activation === 'relu' && t.table.beta === 0.9)!.table;
  assert.equal(relu.cells.ngd!.l2.seeds, 2);
  assert.equal(relu.cells.muon!.l2.seeds, 3);
  assert.deepEqual(relu.paired.l2.seeds, [0, 1]);
  const sq = tables.final.find((t) => t.table.activation === 'sqrelu' && t.table.beta === 0)!.table;
  assert.equal(sq.cells.muon!.spectral.seeds, 1);
  assert.ok(Number.isNaN(sq.cells.muon!.spectral.std));
  assert.equal(sq.paired.spectral.status, 'inconclusive'); // one paired seed: no interval
  checkVerdicts(dir);

  const notes = coverage(set).notes;
  assert.deepEqual(notes, [
    'ReLU ngd β = 0.9: 2 of 3 seeds (missing seed 2)',
    'squared ReLU muon β = 0: 1 of 3 seeds (missing seeds 0, 1)',
  ]);
  const md = tablesMarkdown(tables, notes);
  assert.ok(md.includes('**Incomplete results.**') && md.includes('- ReLU ngd β = 0.9: 2 of 3 seeds (missing seed 2)'));
  assert.ok(md.includes('(3 seeds, fewer for some optimizers)'));
  assert.ok(tablesLatex(tables, notes).includes('% Incomplete: squared ReLU muon β = 0: 1 of 3 seeds'));
});

test('Markdown, LaTeX and verdict CSV: best per column bold, every group and norm present', () => {
  const tables = reportTables(loadResults([FIXTURE]));
  const md = tablesMarkdown(tables, []);
  // 8 tables (final and common loss × 4 groups) × 4 columns, one bold best each.
  assert.equal(md.match(/\*\*[-\d.e]+ ± [-\d.e]+\*\*/g)?.length, 8 * 4);
  assert.equal(md.match(/^### /gm)?.length, 8);
  const tex = tablesLatex(tables, []);
  assert.equal(tex.match(/\\begin\{tabular\}/g)?.length, 8);
  assert.equal(tex.match(/\\mathbf\{/g)?.length, 8 * 4);
  assert.ok(!/[^\\]_/.test(tex.replace(/\\ell_|\\log_|\^\{|_\\infty|\\ell_2/g, '')), 'underscores escaped');
  const verdicts = parse(verdictCsv(tables), { columns: true }) as Record<string, string>[];
  assert.equal(verdicts.length, 8 * 4);
  assert.deepEqual([...new Set(verdicts.map((v) => v.norm))], NORMS);
});

test('number formats: four significant digits, std in the mean’s notation', async () => {
  const { formatMeanStd, formatNumber, formatNumberLatex } = await import('../../src/figures/tables.js');
  assert.equal(formatMeanStd(0.005784, 0.000263), '0.005784 ± 0.00026');
  assert.equal(formatMeanStd(37.95, 8.01), '37.95 ± 8.0');
  assert.equal(formatMeanStd(226.25, 3.14159), '226.3 ± 3.1');
  assert.equal(formatMeanStd(1.2345e-5, 2.1e-7), '1.234e-5 ± 2.1e-7');
  assert.equal(formatMeanStd(0.5, NaN), '0.5000');
  assert.equal(formatMeanStd(-0.07702, 0.01362), '-0.07702 ± 0.014');
  assert.equal(formatMeanStd(1.2345e-5, 2.1e-7, true), '1.234\\times10^{-5} \\pm 2.1\\times10^{-7}');
  assert.equal(formatNumber(12345), '1.235e4');
  assert.equal(formatNumberLatex(-3e-9, 3), '-3.00\\times10^{-9}');
});

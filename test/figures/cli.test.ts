// End-to-end: `margin-bench figures` and `margin-bench table` on the committed fixture, through
// the CLI in child processes: the files, their determinism, index.html, exit codes of bad inputs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pngInfo } from '../../src/figures/render.js';
import { runCli, type CliResult } from '../cli/helpers.js';
import { FIXTURE, cleanup, copyFixture, tempDir, withEditedCsv, withEditedSummaries, withoutRuns } from './fixtures.js';
import { texts } from './svg.js';

after(cleanup);

const FILES = [
  'figure1a.png', 'figure1a.svg', 'figure1b.png', 'figure1b.svg', 'figure2.png', 'figure2.svg',
  'index.html', 'table.csv', 'table.md', 'table.tex', 'verdict.csv',
];

let outA: string;
let outB: string;
let resA: CliResult;
let resB: CliResult;
let partialDir: string;
let partial: CliResult;
before(async () => {
  outA = join(tempDir(), 'a');
  outB = join(tempDir(), 'b');
  partialDir = withoutRuns(['sqrelu_muon_b0.9_s1']);
  // The default output folder <dir>/figures is used for the partial copy.
  [resA, resB, partial] = await Promise.all([
    runCli(['figures', FIXTURE, '--out', outA, '--dpi', '150']),
    runCli(['figures', FIXTURE, '--out', outB, '--dpi', '150']),
    runCli(['figures', partialDir, '--no-png']),
  ]);
});

test('figures writes every figure (SVG + PNG), the tables and index.html; byte-identical twice', () => {
  assert.equal(resA.code, 0, resA.stderr);
  assert.equal(resB.code, 0, resB.stderr);
  assert.deepEqual(readdirSync(outA).sort(), FILES);
  for (const f of FILES) assert.ok(readFileSync(join(outA, f)).equals(readFileSync(join(outB, f))), `${f} differs between two runs`);
  for (const f of FILES.filter((n) => n.endsWith('.png'))) {
    const svg = readFileSync(join(outA, f.replace('.png', '.svg')), 'utf8');
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    const info = pngInfo(readFileSync(join(outA, f)));
    assert.ok(Math.abs(info.width - (w! * 150) / 96) <= 1 && Math.abs(info.height - (h! * 150) / 96) <= 1, `${f}: ${info.width}×${info.height}`);
  }
  // stdout: the verdict and the files; the alignment figure is skipped silently.
  assert.match(resA.stdout, /^72 runs; diagonal verdict on the final margins/);
  assert.match(resA.stdout, /^ {4}l2: holds — ngd − \w+ = /m);
  assert.ok(resA.stdout.includes(`wrote ${join(outA, 'index.html')}`) && resA.stdout.endsWith(`figures: ${outA}\n`));
  assert.equal(resA.stderr, '');
});

test('index.html is self-contained and references every figure, the tables, the verdict and the provenance', () => {
  const html = readFileSync(join(outA, 'index.html'), 'utf8');
  for (const name of ['figure1a', 'figure1b', 'figure2']) {
    assert.ok(html.includes(`<figure id="${name}">`), `${name} inline`);
    assert.ok(html.includes(`href="${name}.svg"`) && html.includes(`href="${name}.png"`), `${name} linked`);
    assert.ok(html.includes(readFileSync(join(outA, `${name}.svg`), 'utf8')), `${name}: the same SVG inline`);
  }
  for (const t of ['table.md', 'table.tex', 'table.csv']) assert.ok(html.includes(`href="${t}"`));
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'no external resources');
  assert.ok(html.includes('<strong>alignment</strong> not drawn: the CSVs have no KKT alignment columns'));
  assert.equal(html.match(/<table class="margins">/g)?.length, 8);
  assert.equal(html.match(/<table class="verdict">/g)?.length, 8);
  assert.ok(html.includes('Diagonal verdict (final margins, paired by seed)'));
  // Provenance: folder, config, engine, versions, commit, dates.
  const summary = JSON.parse(readFileSync(join(FIXTURE, 'relu_ngd_b0.9_s0.json'), 'utf8'));
  for (const s of [summary.engine, summary.git_commit, summary.config_hash.slice(0, 12), summary.versions.node, '&quot;steps&quot;: 300', 'vega-lite@']) {
    assert.ok(html.includes(s), `provenance: ${s}`);
  }
  assert.match(html, /<strong>run dates<\/strong>: \d{4}-\d\d-\d\dT/);
});

test('partial seeds: the notes reach stderr, the captions and the tables; default output folder <dir>/figures', () => {
  assert.equal(partial.code, 0, partial.stderr);
  const out = join(partialDir, 'figures');
  assert.deepEqual(readdirSync(out).sort(), FILES.filter((f) => !f.endsWith('.png')));
  const note = 'squared ReLU muon β = 0.9: 2 of 3 seeds (missing seed 1)';
  assert.ok(partial.stderr.includes(`margin-bench: note: ${note}`));
  assert.ok(readFileSync(join(out, 'table.md'), 'utf8').includes(`- ${note}`));
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.ok(html.includes('<h2>Incomplete results</h2>') && html.includes(note));
  assert.ok(readFileSync(join(out, 'figure1a.svg'), 'utf8').includes('missing seed 1'));
});

test('table prints Markdown, LaTeX or CSV on stdout', async () => {
  const [md, tex, csv, bad] = await Promise.all([
    runCli(['table', FIXTURE]),
    runCli(['table', FIXTURE, '--format', 'latex']),
    runCli(['table', FIXTURE, '--format', 'csv']),
    runCli(['table', FIXTURE, '--format', 'xlsx']),
  ]);
  assert.equal(md.code, 0, md.stderr);
  assert.equal(md.stdout, readFileSync(join(outA, 'table.md'), 'utf8'));
  assert.equal(tex.stdout, readFileSync(join(outA, 'table.tex'), 'utf8'));
  assert.equal(csv.stdout, readFileSync(join(outA, 'table.csv'), 'utf8'));
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format.*xlsx.*invalid/i);
});

test('bad inputs exit 2 with one line naming the folder or file (and line)', async () => {
  const empty = tempDir();
  const truncated = withEditedCsv('sqrelu_adam_b0_s1', (t) => t.slice(0, -25));
  const noColumns = withEditedCsv('relu_muon_b0_s2', (t) => t.replace('cos_to_last', 'cos_last'));
  const out = tempDir();
  const results = await Promise.all([
    runCli(['figures', empty, '--out', out]),
    runCli(['figures', truncated.dir, '--out', out]),
    runCli(['table', noColumns.dir]),
    runCli(['figures', copyFixture(), '--dpi', '10']),
  ]);
  const expected = [
    new RegExp(`^margin-bench: error: figures: ${empty}: no finished runs`),
    new RegExp(`^margin-bench: error: figures: ${truncated.csv}: line \\d+: \\d+ fields where the header has 16`),
    new RegExp(`^margin-bench: error: table: ${noColumns.csv}: line 1: missing column\\(s\\) cos_to_last`),
    /^margin-bench: error: figures: --dpi 10: expected a number from 50 to 1200/,
  ];
  results.forEach((r, i) => {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, expected[i]!);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(r.stdout, '');
  });
  assert.deepEqual(readdirSync(out), [], 'nothing written');
});

test('runs of different settings: figures and table exit 2 naming the key and the counts; --allow-mixed draws and tabulates them, labelled', async () => {
  // Adam trained with T = 200 beside the rest at T = 300.
  const dir = withEditedSummaries((id) => /_adam_b/.test(id) && !id.includes('muon_adam'), (s) => (s.config.train.steps = 200));
  const out = tempDir();
  const mixedOut = join(tempDir(), 'mixed');
  const [figures, table, figuresMixed, tableMixed] = await Promise.all([
    runCli(['figures', dir, '--out', out]),
    runCli(['table', dir]),
    runCli(['figures', dir, '--allow-mixed', '--out', mixedOut, '--no-png']),
    runCli(['table', dir, '--allow-mixed']),
  ]);
  for (const [r, command, verb] of [[figures, 'figures', 'draw'], [table, 'table', 'tabulate']] as const) {
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `margin-bench: error: ${command}: runs differ in train.steps (200: 12 runs, 300: 60 runs); pass --allow-mixed to ${verb} them anyway\n`);
    assert.equal(r.stdout, '');
  }
  assert.deepEqual(readdirSync(out), [], 'nothing written');

  assert.equal(figuresMixed.code, 0, figuresMixed.stderr);
  assert.match(figuresMixed.stderr, /note: Runs of different settings are shown together \(--allow-mixed\): they differ in train\.steps \(200: 12 runs, 300: 60 runs\)/);
  assert.match(figuresMixed.stdout, /linf: holds — adam \(steps=200\) − muon_adam \(steps=300\)/);
  const svg = readFileSync(join(mixedOut, 'figure2.svg'), 'utf8');
  const legend = texts(svg, 'legend-label');
  assert.deepEqual(legend.slice(-4), ['β = 0.9 · steps=300', 'β = 0 · steps=300', 'β = 0.9 · steps=200', 'β = 0 · steps=200']);
  assert.ok(texts(svg, 'title-subtitle').join(' ').includes('Mixed settings (--allow-mixed): runs differ in train.steps (200: 12 runs, 300: 60 runs)'));
  assert.ok(texts(readFileSync(join(mixedOut, 'figure1b.svg'), 'utf8'), 'axis-title').some((t) => t.includes('T = 200, 300 steps')));

  assert.equal(tableMixed.code, 0, tableMixed.stderr);
  assert.ok(tableMixed.stdout.includes('| adam (steps=200) (ℓ∞) |'), tableMixed.stdout.slice(0, 2000));
  assert.ok(tableMixed.stdout.includes('| signum (steps=300) (ℓ∞) |'));
  assert.ok(tableMixed.stdout.includes('**Mixed settings.**'));
  assert.equal(readFileSync(join(mixedOut, 'table.md'), 'utf8'), tableMixed.stdout);
  const csv = readFileSync(join(mixedOut, 'table.csv'), 'utf8');
  assert.ok(csv.split('\n')[0]!.endsWith(',settings') && csv.includes(',adam,linf,') && csv.includes(',steps=200\n'));
});

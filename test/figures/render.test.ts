// The figures (src/figures/figures.ts, specs.ts, render.ts): built from the fixture, rendered
// headlessly, inspected as SVG text, rasterized to PNG; the same input gives the same bytes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { coverage } from '../../src/figures/coverage.js';
import { figureDefs, type FigureDef } from '../../src/figures/figures.js';
import { FontMetrics } from '../../src/figures/fontMetrics.js';
import { loadResults } from '../../src/results/load.js';
import { fontFiles, pngInfo, renderSvg, svgToPng } from '../../src/figures/render.js';
import { logTicks, symlogTicks } from '../../src/figures/specs.js';
import { FIXTURE, cleanup, withAlignmentColumns, withoutRuns } from './fixtures.js';
import { texts } from './svg.js';

after(cleanup);

let figures: FigureDef[];
const svgs = new Map<string, string>();
before(async () => {
  const set = loadResults([FIXTURE]);
  figures = figureDefs(set, coverage(set)).figures;
  for (const f of figures) svgs.set(f.name, await renderSvg(f.spec));
});

const OPTIMIZERS_1 = ['ngd', 'signum', 'muon', 'muon_signum'];
const NORM_TITLES = ['ℓ2', 'ℓ∞', 'spectral', 'hybrid'];
const panelTitles = (what: string) => ['ReLU', 'squared ReLU'].flatMap((a) => NORM_TITLES.map((n) => `${n} ${what} · ${a}`));

test('figure 1(a): a row of four norm panels per activation, 8 mean lines and bands each, a legend of 4 optimizers and 2 β, axis titles', () => {
  assert.deepEqual(figures.map((f) => f.name), ['figure1a', 'figure1b', 'figure2']);
  const svg = svgs.get('figure1a')!;
  assert.ok(svg.startsWith('<svg') && svg.includes('viewBox'));
  // Panel titles first, the figure's title last (scene-graph order).
  assert.deepEqual(texts(svg, 'title-text'), [...panelTitles('margin'), 'Figure 1(a): normalized margins of the steepest-descent optimizers']);
  for (let panel = 0; panel < 8; panel++) {
    // 4 optimizers × 2 β: one line (mean) and one area (95% band) each.
    assert.equal(svg.split(`class="mark-line role-mark concat_${panel}_layer_1_marks"`).length - 1, 8, `panel ${panel} lines`);
    assert.equal(svg.split(`class="mark-area role-mark concat_${panel}_layer_0_marks"`).length - 1, 8, `panel ${panel} bands`);
  }
  assert.deepEqual(texts(svg, 'legend-title'), ['optimizer', 'momentum']);
  assert.deepEqual(texts(svg, 'legend-label'), [...OPTIMIZERS_1, 'β = 0.9', 'β = 0']);
  const axisTitles = texts(svg, 'axis-title');
  assert.equal(axisTitles.filter((t) => t.startsWith('log₁₀ training loss')).length, 8);
  assert.equal(axisTitles.filter((t) => t.startsWith('normalized margin γ')).length, 8);
  const subtitle = texts(svg, 'title-subtitle').join(' ');
  assert.ok(subtitle.includes('95% confidence interval (Student t)') && subtitle.includes('≤ 0'));
  assert.ok(subtitle.includes('One row per activation (ReLU, squared ReLU, top to bottom).'));
  assert.ok(!subtitle.includes('Incomplete'), 'the fixture is complete');
  assert.ok(svg.includes('font-family="DejaVu Sans'));
});

test('figure 1(b) and figure 2: panels and legends', () => {
  const b = svgs.get('figure1b')!;
  assert.deepEqual(texts(b, 'title-text').slice(0, -1), ['ReLU', 'squared ReLU']);
  assert.deepEqual(texts(b, 'legend-label'), [...OPTIMIZERS_1, 'β = 0.9', 'β = 0']);
  assert.ok(texts(b, 'axis-title').some((t) => t.startsWith('normalized time t/T (T = 300 steps)')));
  const two = svgs.get('figure2')!;
  assert.deepEqual(texts(two, 'title-text').slice(0, -1), panelTitles('margin'));
  assert.deepEqual(texts(two, 'legend-label'), ['adam', 'muon_adam', 'signum', 'muon_signum', 'β = 0.9', 'β = 0']);
});

test('SVG and PNG are deterministic; the PNG has the SVG’s size at the requested dpi and records it', async () => {
  const again = await renderSvg(figures[0]!.spec);
  assert.equal(again, svgs.get('figure1a'));
  const svg = svgs.get('figure1b')!;
  const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
  const png = svgToPng(svg, 150);
  assert.deepEqual(png, svgToPng(svg, 150));
  const info = pngInfo(png);
  assert.ok(Math.abs(info.width - (w! * 150) / 96) <= 1 && Math.abs(info.height - (h! * 150) / 96) <= 1, `${info.width}×${info.height} for ${w}×${h}`);
  assert.ok(Math.abs(info.dpi! - 150) < 0.05); // pHYs stores whole pixels per metre
  assert.ok(info.width >= 1000, 'print size: over 1000 px wide at 150 dpi');
});

test('partial seeds are named in the figure’s subtitle; alignment is drawn only when the CSVs have align_* columns', async () => {
  const set = loadResults([withoutRuns(['relu_signum_b0_s2'])]);
  const { figures: partial } = figureDefs(set, coverage(set));
  const svg = await renderSvg(partial.find((f) => f.name === 'figure1a')!.spec);
  assert.ok(texts(svg, 'title-subtitle').join(' ').includes('Incomplete: ReLU signum β = 0: 2 of 3 seeds (missing seed 2)'));
  assert.ok(partial.find((f) => f.name === 'figure1a')!.caption.includes('missing seed 2'));
  // Figure 1(b) uses signum too; Figure 2's caption also mentions it (signum is its reference).
  assert.ok(partial.every((f) => f.caption.includes('missing seed 2')));

  const aligned = loadResults([withAlignmentColumns()]);
  const defs = figureDefs(aligned, coverage(aligned));
  assert.deepEqual(defs.figures.map((f) => f.name), ['figure1a', 'figure1b', 'figure2', 'alignment']);
  const a = await renderSvg(defs.figures[3]!.spec);
  assert.deepEqual(texts(a, 'title-text').slice(0, -1), panelTitles('alignment'));
  // All six optimizers of the fixture, Adam and Muon-Adam included, not only Figure 1's four.
  assert.match(defs.figures[3]!.caption, /for ngd, signum, adam, muon, muon_signum, muon_adam;/);
  assert.deepEqual(texts(a, 'legend-label'), ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam', 'β = 0.9', 'β = 0']);
  assert.match(figureDefs(set, coverage(set)).skipped[0]!.reason, /no KKT alignment columns/);
});

test('axis ticks and font metrics', () => {
  assert.deepEqual(symlogTicks(-240, 0.36), [-100, -30, -10, -3, -1, 0]);
  assert.deepEqual(logTicks(0.002, 30), [0.01, 0.1, 1, 10]);
  assert.deepEqual(logTicks(0.15, 3), [0.2, 0.5, 1, 2]);
  const m = new FontMetrics(fontFiles().regular);
  // DejaVu Sans advance widths (units per em 2048): "i" 569, "W" 2025.
  assert.ok(Math.abs(m.width('i', 2048) - 569) < 1e-9 && Math.abs(m.width('W', 2048) - 2025) < 1e-9);
  assert.ok(m.width('ℓ∞ β γ', 12) > 0);
});

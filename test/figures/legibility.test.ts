// Figures a reader can tell apart: colours per panel, a legend of what is drawn, one tick format
// per axis, a subtitle true to the number of seeds, and an alignment axis fitted to its data.
// Built from the fixture and copies of it (test/figures/fixtures.ts), rendered to SVG, read back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Curve } from '../../src/figures/align.js';
import { colourPairs } from '../../src/figures/color.js';
import { coverage } from '../../src/figures/coverage.js';
import { figureDefs, type FigureDef } from '../../src/figures/figures.js';
import { loadResults } from '../../src/results/load.js';
import { renderSvg } from '../../src/figures/render.js';
import { figureSpec, logTickLabels } from '../../src/figures/specs.js';
import { MIN_DELTA_E, MIN_DELTA_L } from '../../src/figures/style.js';
import { FIXTURE, cleanup, oneSeed, withAlignmentColumns, withUnseparated } from './fixtures.js';
import { panelCount, panelLines, textGroups, texts } from './svg.js';

after(cleanup);

const figuresOf = (dir: string): FigureDef[] => {
  const set = loadResults([dir]);
  return figureDefs(set, coverage(set)).figures;
};

/** name → { def, svg } for every figure of the fixture and of the derived folders. */
const rendered = new Map<string, { def: FigureDef; svg: string }>();
before(async () => {
  const sources: [string, string][] = [
    ['full', FIXTURE],
    // Alignment values in narrow bands (from cos_to_last c ∈ [0, 1]), one of them negative.
    ['aligned', withAlignmentColumns((c) => [0.2 + 0.1 * c, 0.5 + 0.05 * c, -0.3 + 0.2 * c, 0.1 * c])],
    ['one-seed', oneSeed()],
    ['ngd-unseparated', withUnseparated('ngd')],
  ];
  for (const [tag, dir] of sources) {
    for (const def of figuresOf(dir)) rendered.set(`${tag}/${def.name}`, { def, svg: await renderSvg(def.spec) });
  }
});

test('every panel: any two series colours differ by ΔE00 ≥ MIN_DELTA_E and |ΔL*| ≥ MIN_DELTA_L; no two lines share colour and dash', () => {
  let panels = 0;
  for (const [name, { svg }] of rendered) {
    for (let i = 0; i < panelCount(svg); i++) {
      const lines = panelLines(svg, i);
      const styles = new Set(lines.map((l) => `${l.stroke} ${l.dash}`));
      assert.equal(styles.size, lines.length, `${name} panel ${i}: two lines look the same`);
      for (const p of colourPairs([...new Set(lines.map((l) => l.stroke))])) {
        assert.ok(p.deltaE >= MIN_DELTA_E, `${name} panel ${i}: ${p.a} / ${p.b} ΔE00 ${p.deltaE.toFixed(1)}`);
        assert.ok(p.deltaL >= MIN_DELTA_L, `${name} panel ${i}: ${p.a} / ${p.b} ΔL* ${p.deltaL.toFixed(1)} in greyscale`);
      }
      panels++;
    }
  }
  // 1(a), 2, alignment: 8 panels (4 norms × 2 activations); 1(b): 2.
  assert.equal(panelCount(rendered.get('aligned/alignment')!.svg), 8);
  assert.equal(panelLines(rendered.get('aligned/alignment')!.svg, 0).length, 12, 'six optimizers × two β in one panel');
  assert.ok(panels >= 4 * (8 + 2 + 8) + 8, `${panels} panels checked`);
});

test('the legend lists only series some panel draws; a series that never separates is named, with why', () => {
  // Every ngd run has margin ≤ 0 throughout: no ngd line on the log axes, so no ngd in the legend.
  const svg = rendered.get('ngd-unseparated/figure1a')!.svg;
  const legend = texts(svg, 'legend-label');
  assert.ok(!legend.some((l) => l.startsWith('ngd')), `legend: ${legend.join(', ')}`);
  const subtitle = texts(svg, 'title-subtitle').join(' ');
  assert.ok(
    subtitle.includes('Not drawn (mean margin ≤ 0 throughout, i.e. not separated in T = 300 steps) — ReLU: ngd (β = 0.9, 0); squared ReLU: ngd (β = 0.9, 0).'),
    subtitle,
  );
  assert.deepEqual(legend, ['signum', 'muon', 'muon_signum', 'β = 0.9', 'β = 0']);
  for (let i = 0; i < panelCount(svg); i++) assert.equal(panelLines(svg, i).length, 6, `panel ${i}`);
  // The cosine figure draws ngd as before: its legend keeps it.
  assert.deepEqual(texts(rendered.get('ngd-unseparated/figure1b')!.svg, 'legend-label'), ['ngd', 'signum', 'muon', 'muon_signum', 'β = 0.9', 'β = 0']);
  const full = rendered.get('full/figure1a')!.svg;
  assert.deepEqual(texts(full, 'legend-label'), ['ngd', 'signum', 'muon', 'muon_signum', 'β = 0.9', 'β = 0']);
  assert.ok(!texts(full, 'title-subtitle').join(' ').includes('Not drawn'));
});

const PLAIN = /^−?\d+(\.\d+)?$/;
const POWER = /^(\d+(\.\d+)?×)?10⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+$/;

/** Every axis of a figure labels its ticks in one format: all plain decimals, or all powers of ten. */
function assertOneFormatPerAxis(name: string, svg: string): number {
  const axes = textGroups(svg, 'axis-label');
  for (const labels of axes) {
    const plain = labels.every((l) => PLAIN.test(l));
    const power = labels.every((l) => POWER.test(l));
    assert.ok(plain || power, `${name}: one axis labelled ${JSON.stringify(labels)}`);
  }
  return axes.length;
}

test('one tick format per axis: plain decimals, or powers of ten for every tick of the axis', async () => {

  // A margin axis spanning 1e-8 … 0.1: powers of ten throughout, not 0.00001 beside 1e-7.
  const points = [-8, -6, -4, -1].map((k, i) => ({ x: -0.5 - i, mean: 10 ** k, lo: 10 ** k, hi: 10 ** k, n: 1 }));
  const curve: Curve = { activation: 'relu', optimizer: 'signum', beta: 0.9, variant: '', seeds: [0], steps: 300, points };
  const spec = figureSpec({
    title: 'wide',
    subtitle: [],
    panels: [{ title: 'p', row: 'ReLU', curves: [curve] }],
    columns: 1,
    x: { title: 'x', reverse: true, symlog: true },
    y: { title: 'y', log: true },
    optimizers: ['signum'],
  });
  const svg = await renderSvg(spec);
  assertOneFormatPerAxis('1e-8 … 0.1', svg);
  const y = textGroups(svg, 'axis-label').find((labels) => labels.some((l) => l.includes('10')) && labels.length >= 5)!;
  assert.deepEqual(y, ['10⁻⁸', '10⁻⁷', '10⁻⁶', '10⁻⁵', '10⁻⁴', '10⁻³', '10⁻²', '10⁻¹']);

  let axes = 0;
  for (const [name, { svg }] of rendered) axes += assertOneFormatPerAxis(name, svg);
  assert.ok(axes >= 4 * (16 + 4 + 16), `${axes} axes checked`);

  assert.deepEqual(logTickLabels([0.001, 0.01, 0.1, 1, 10, 100, 1000]), ['0.001', '0.01', '0.1', '1', '10', '100', '1000']);
  assert.deepEqual(logTickLabels([2e-4, 5e-4, 0.001, 0.002]), ['2×10⁻⁴', '5×10⁻⁴', '10⁻³', '2×10⁻³']);
  assert.deepEqual(logTickLabels([1, 10, 1e4]), ['10⁰', '10¹', '10⁴']);
});

test('one seed: the subtitle says "1 seed, no band" and no band is drawn; three seeds promise and draw the 95% band', () => {
  for (const name of ['figure1a', 'figure1b', 'figure2']) {
    const { def, svg } = rendered.get(`one-seed/${name}`)!;
    const subtitle = texts(svg, 'title-subtitle').join(' ');
    assert.ok(subtitle.startsWith('Line: 1 seed, no band.'), `${name}: ${subtitle}`);
    assert.ok(!subtitle.includes('95%') && !def.caption.includes('95%'), `${name} promises no band`);
    assert.ok(!subtitle.includes('Incomplete'), 'a sweep of one seed is complete');
    assert.ok(def.caption.includes('Line: 1 seed, no band.'));
    assert.ok(!svg.includes('class="mark-area'), `${name}: no band drawn`);
  }
  const { svg } = rendered.get('full/figure1a')!;
  assert.ok(texts(svg, 'title-subtitle').join(' ').startsWith('Line: mean over 3 seeds; band: 95% confidence interval (Student t)'));
  assert.equal(svg.split('class="mark-area role-mark concat_0_layer_0_marks"').length - 1, 8, 'a band per line');
});

test('alignment: each panel’s y range fits its data (padded, rounded to 0.05), not the whole [−1, 1]', () => {
  const { def } = rendered.get('aligned/alignment')!;
  const panels = (def.spec as unknown as { concat: { title: string; data: { values: { mean: number; lo: number; hi: number; n: number }[] }; layer: { encoding: { y: { scale: { domain: [number, number] } } } }[] }[] }).concat;
  for (const p of panels) {
    const values = p.data.values.flatMap((v) => (v.n > 1 ? [v.mean, v.lo, v.hi] : [v.mean]));
    const [lo, hi] = [Math.min(...values), Math.max(...values)];
    const [d0, d1] = p.layer[1]!.encoding.y.scale.domain;
    assert.ok(d0 <= lo && d1 >= hi, `${p.title}: [${d0}, ${d1}] must hold [${lo}, ${hi}]`);
    assert.ok(d0 >= lo - 0.15 && d1 <= hi + 0.15, `${p.title}: [${d0}, ${d1}] much wider than [${lo}, ${hi}]`);
    assert.ok(d1 - d0 < 1, `${p.title}: not the whole [−1, 1]`);
  }
  assert.equal(panels.length, 8);
});

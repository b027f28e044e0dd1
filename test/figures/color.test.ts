// Colour differences (src/figures/color.ts) against published test data, and the optimizer palette
// against the minimum contrast every panel must keep (src/figures/style.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { colourPairs, deltaE2000, hexToLab, lightness, type Lab } from '../../src/figures/color.js';
import { COMPOSED_COLOR, MIN_DELTA_E, MIN_DELTA_L, OPTIMIZER_COLOR } from '../../src/figures/style.js';

test('CIEDE2000 reproduces the test pairs of Sharma, Wu & Dalal (2005), Table 1', () => {
  // [L1, a1, b1], [L2, a2, b2], ΔE00 as printed (pairs 1, 7, 13, 17–20, 22, 25, 34).
  const pairs: [Lab, Lab, number][] = [
    [[50, 2.6772, -79.7751], [50, 0, -82.7485], 2.0425],
    [[50, 0, 0], [50, -1, 2], 2.3669],
    [[50, 2.49, -0.001], [50, -2.49, 0.0011], 7.2195],
    [[50, 2.5, 0], [73, 25, -18], 27.1492],
    [[50, 2.5, 0], [61, -5, 29], 22.8977],
    [[50, 2.5, 0], [56, -27, -3], 31.903],
    [[50, 2.5, 0], [58, 24, 15], 19.4535],
    [[50, 2.5, 0], [50, 3.1736, 0.5854], 1.0],
    [[60.2574, -34.0099, 36.2677], [60.4626, -34.1751, 39.4387], 1.2644],
    [[2.0776, 0.0795, -1.135], [0.9033, -0.0636, -0.5514], 0.9082],
  ];
  for (const [a, b, expected] of pairs) {
    assert.ok(Math.abs(deltaE2000(a, b) - expected) < 5e-5, `${a} / ${b}: ${deltaE2000(a, b)} vs ${expected}`);
    assert.ok(Math.abs(deltaE2000(b, a) - expected) < 5e-5, 'symmetric');
  }
});

test('sRGB → CIELAB: white, black, mid grey, pure red', () => {
  const near = (x: number, y: number, tol: number) => Math.abs(x - y) < tol;
  assert.ok(near(lightness('#FFFFFF'), 100, 1e-4) && near(lightness('#000000'), 0, 1e-9));
  // By hand: #808080 is 0.2158605 linear; L* = 116·Y^(1/3) − 16 = 53.585.
  assert.ok(near(lightness('#808080'), 53.585, 1e-3));
  // sRGB red is L*a*b* ≈ (53.24, 80.09, 67.20) (the usual published value).
  const [L, a, b] = hexToLab('#FF0000');
  assert.ok(near(L, 53.24, 0.01) && near(a, 80.09, 0.02) && near(b, 67.2, 0.02), `${L} ${a} ${b}`);
  assert.throws(() => hexToLab('red'), /not a #rrggbb colour/);
});

test('the optimizer palette: every pair at least MIN_DELTA_E apart in CIEDE2000 and MIN_DELTA_L in lightness', () => {
  // Any two optimizers can share a panel (the alignment figure shows all six).
  const pairs = colourPairs(Object.values(OPTIMIZER_COLOR));
  assert.equal(pairs.length, 15);
  for (const p of pairs) {
    assert.ok(p.deltaE >= MIN_DELTA_E, `${p.a} / ${p.b}: ΔE00 ${p.deltaE.toFixed(1)}`);
    assert.ok(p.deltaL >= MIN_DELTA_L, `${p.a} / ${p.b}: ΔL* ${p.deltaL.toFixed(1)} (greyscale)`);
  }
  // The pair the old palette drew side by side in Figure 2 (signum · ReLU, adam · ReLU) fails the bar.
  assert.ok(colourPairs(['#AA4B00', '#B87F00'])[0]!.deltaE < MIN_DELTA_E);
  // The same colour twice is a pair at distance 0, not one colour.
  assert.equal(colourPairs(['#123456', '#123456'])[0]!.deltaE, 0);
});

test('the composed optimizers\' colour stays apart from every preset colour it shares a panel with', () => {
  for (const [name, hex] of Object.entries(OPTIMIZER_COLOR)) {
    const [p] = colourPairs([COMPOSED_COLOR, hex]);
    assert.ok(p!.deltaE >= MIN_DELTA_E && Math.abs(lightness(COMPOSED_COLOR) - lightness(hex)) >= MIN_DELTA_L, `${name}: ΔE00 ${p!.deltaE.toFixed(1)}`);
  }
});

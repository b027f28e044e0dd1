import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cosineToOptimum, optimaFor, optimumRatio } from '../../src/linear/optima.js';
import { assertClose } from '../helpers.js';

// Two points, x_1 = (1, 0) with y = +1 and x_2 = (0, 1) with y = −1: the margins are w_1 and −w_2,
// so by hand γ*_ℓ2 = 1/√2 at w = (1, −1)/√2, γ*_ℓ∞ = 1 at (1, −1), γ*_ℓ1 = 1/2 at (1/2, −1/2).
const twoPoints = { X: Float64Array.from([1, 0, 0, 1]), y: Int32Array.from([1, -1]), n: 2, d: 2, numClasses: 1 };

test('max-margin optima by HiGHS on two points equal the hand solutions, with a certified gap, and are cached', async () => {
  const out = mkdtempSync(join(tmpdir(), 'optima-'));
  try {
    const optima = await optimaFor(twoPoints, ['l2', 'linf', 'l1'], out);
    const want = { l2: [Math.SQRT1_2, [Math.SQRT1_2, -Math.SQRT1_2]], linf: [1, [1, -1]], l1: [0.5, [0.5, -0.5]] } as const;
    for (const [norm, [gamma, W]] of Object.entries(want)) {
      const o = optima[norm]!;
      assertClose(o.gamma, gamma, 1e-9, `${norm} γ*`);
      assert.ok(o.gap <= 1e-6 && o.gap >= -1e-12, `${norm} gap ${o.gap}`);
      W.forEach((w, k) => assert.ok(Math.abs(o.W[k]! - w) < 1e-9, `${norm} W*[${k}]`));
      // The solution's own ratio is 1 and it points along itself.
      assertClose(optimumRatio(o.lower, 1, o), 1, 1e-9, `${norm} ratio of W*`);
      assertClose(cosineToOptimum(Float64Array.from(o.W, (v) => 3 * v), o), 1, 1e-12, `${norm} cos`);
    }
    assert.equal(readdirSync(join(out, 'optima')).length, 3);
    const again = await optimaFor(twoPoints, ['l2'], out); // from the cache
    assert.deepEqual(again.l2, optima.l2);
    // A worse classifier: w = (1, 0) has q_min = 0, ratio 0; w = (1, −0.5) in ℓ2: 0.5/‖w‖ over 1/√2.
    assertClose(optimumRatio(0.5, Math.hypot(1, 0.5), optima.l2!), 0.5 / Math.hypot(1, 0.5) / Math.SQRT1_2, 1e-12, 'ratio');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('multiclass: three points on the axes, one per class: the values of the symmetric solutions, certified', async () => {
  const data = { X: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), y: Int32Array.from([0, 1, 2]), n: 3, d: 3, numClasses: 3 };
  const out = mkdtempSync(join(tmpdir(), 'optima-'));
  try {
    const optima = await optimaFor(data, ['l2', 'linf', 'l1'], out);
    // By symmetry W* ∝ I − 11ᵀ/3 for ℓ2: margins (W_yy − W_ky) = 1 for ‖W‖_F = √2 → γ* = 1/√2.
    assertClose(optima.l2!.gamma, Math.SQRT1_2, 1e-9, 'ℓ2 γ*');
    // ℓ∞: W = 2I − 11ᵀ (entries ±1) gives margins 2, the most any |W| ≤ 1 can: γ* = 2.
    assertClose(optima.linf!.gamma, 2, 1e-9, 'ℓ∞ γ*');
    for (const o of Object.values(optima)) assert.ok(o.gap <= 1e-6, `${o.norm} gap ${o.gap}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

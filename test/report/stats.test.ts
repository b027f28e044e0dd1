// Student-t quantiles and intervals (src/report/stats.ts) against published table values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanCI, meanStd, regularizedIncompleteBeta, studentTCdf, studentTQuantile } from '../../src/report/stats.js';

test('t quantiles match standard tables (two-sided 95%, 99%, one-sided 90%)', () => {
  // t_{0.975, ν}: e.g. NIST/SEMATECH e-Handbook §1.3.6.7.2, given to 10 digits by R's qt(0.975, ν).
  const t975: [number, number][] = [
    [1, 12.706204736],
    [2, 4.302652730],
    [3, 3.182446305],
    [4, 2.776445105],
    [9, 2.262157163],
    [29, 2.045229642],
    [100, 1.983971519],
  ];
  for (const [df, t] of t975) assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 1e-8, `t_0.975,${df} = ${studentTQuantile(0.975, df)}, table ${t}`);
  assert.ok(Math.abs(studentTQuantile(0.995, 9) - 3.249835542) < 1e-8); // qt(0.995, 9)
  assert.ok(Math.abs(studentTQuantile(0.9, 5) - 1.475884049) < 1e-8); // qt(0.9, 5)
  // ν → ∞: the normal quantile 1.959963985.
  assert.ok(Math.abs(studentTQuantile(0.975, 1e7) - 1.959963985) < 1e-6);
  // ν = 1 is Cauchy: quantile tan(π(p − ½)) in closed form.
  assert.ok(Math.abs(studentTQuantile(0.9, 1) - Math.tan(Math.PI * 0.4)) < 1e-9);
});

test('t CDF: symmetric, 1/2 at 0, inverse of the quantile', () => {
  for (const df of [1, 2, 5, 9, 30]) {
    assert.equal(studentTCdf(0, df), 0.5);
    for (const t of [0.3, 1, 2.5, 7]) {
      assert.ok(Math.abs(studentTCdf(t, df) + studentTCdf(-t, df) - 1) < 1e-14);
    }
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      assert.ok(Math.abs(studentTCdf(studentTQuantile(p, df), df) - p) < 1e-12);
      assert.ok(Math.abs(studentTQuantile(1 - p, df) + studentTQuantile(p, df)) < 1e-9);
    }
  }
  // I_x(1, 1) = x; I_x(a, b) = 1 − I_{1−x}(b, a).
  assert.ok(Math.abs(regularizedIncompleteBeta(0.3, 1, 1) - 0.3) < 1e-14);
  assert.ok(Math.abs(regularizedIncompleteBeta(0.2, 2.5, 0.5) + regularizedIncompleteBeta(0.8, 0.5, 2.5) - 1) < 1e-14);
  assert.ok(Number.isNaN(studentTQuantile(1, 3)) && Number.isNaN(studentTQuantile(0.5, 0)));
});

test('meanCI: mean ± t·s/√n, by hand', () => {
  // by hand: values 1, 2, 3, 4 → mean 2.5, s² = 5/3, half-width t_{0.975,3} · s / 2.
  const ci = meanCI([1, 2, 3, 4]);
  const half = (3.182446305 * Math.sqrt(5 / 3)) / 2;
  assert.equal(ci.mean, 2.5);
  assert.ok(Math.abs(ci.std - Math.sqrt(5 / 3)) < 1e-15);
  assert.ok(Math.abs(ci.halfWidth - half) < 1e-8 && Math.abs(ci.lo - (2.5 - half)) < 1e-8 && Math.abs(ci.hi - (2.5 + half)) < 1e-8);
  const one = meanCI([7]);
  assert.equal(one.mean, 7);
  assert.ok(Number.isNaN(one.halfWidth) && Number.isNaN(meanStd([7]).std));
});

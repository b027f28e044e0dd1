import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F64Engine } from '../../src/engine/f64.js';
import { allDualNorms, angleBetweenUnit, kktAlignments } from '../../src/metrics/alignment.js';
import { allNorms, dualNormOf, NORM_NAMES, type NormName } from '../../src/metrics/norms.js';
import type { LayerShape, Params } from '../../src/model/mlp.js';
import { Rng } from '../../src/rng.js';
import { assertClose, toyNet } from '../helpers.js';

/** align_N for every norm at θ, from a gradient ∇L (any positive scale). */
function alignAll(gradL: Params, theta: Params, shapes: LayerShape[], isMuon: boolean[]) {
  return kktAlignments(gradL, theta, shapes, isMuon, allNorms(theta, shapes, isMuon));
}

// ---------------------------------------------------------------------------------------------
// A linear model f(x) = ⟨w, x⟩ on two points, logistic loss, written out by hand: the KKT points of
// min N(w) s.t. y_i ⟨w, x_i⟩ ≥ 1 are known in closed form. w is one [1, 2] "layer".

/** ∇L of the mean logistic loss (1/n) Σ log(1 + e^{−⟨w, z_i⟩}), z_i = y_i x_i: −(1/n) Σ σ(−q_i) z_i. */
function logisticGrad(w: number[], z: number[][]): Params {
  const g = [0, 0];
  for (const zi of z) {
    const q = w[0]! * zi[0]! + w[1]! * zi[1]!;
    const weight = 1 / (1 + Math.exp(q)); // σ(−q)
    g[0]! -= (weight * zi[0]!) / z.length;
    g[1]! -= (weight * zi[1]!) / z.length;
  }
  return [Float64Array.from(g)];
}

const linear: LayerShape[] = [{ out: 1, in: 2 }];
const linearAlign = (w: number[], z: number[][]) => alignAll(logisticGrad(w, z), [Float64Array.from(w)], linear, [false]);

test('alignment is 1 at an ℓ2 KKT point of a linear model on two points, < 1 off it', () => {
  // z_1 = (1, 0), z_2 = (0.6, 0.8), both of norm 1: the ℓ2 max-margin direction is z_1 + z_2 ∝ (2, 1),
  // where both margins equal 2, so −∇L ∝ z_1 + z_2 exactly (equal logistic weights): a KKT point.
  const z = [[1, 0], [0.6, 0.8]];
  const at = linearAlign([2, 1], z);
  assertClose(at.l2, 1, 1e-15, 'align_l2 at the ℓ2 KKT point');
  // by hand: −∇L ∝ (1.6, 0.8): ⟨(1.6, 0.8), (2, 1)⟩ = 4, ‖·‖₁ = 2.4, ‖(2, 1)‖∞ = 2 → 4/4.8
  assertClose(at.linf, 5 / 6, 1e-15, 'align_linf at the ℓ2 KKT point');
  // Off it: margins 2 and 2.6 (unequal weights), and w not ∝ z_1 + z_2.
  const off = linearAlign([2, 1.5], z);
  assert.ok(off.l2 < 1 - 1e-3, `align_l2 off the KKT point: ${off.l2}`);
  // Any scale of a KKT direction is a KKT direction (equal margins stay equal).
  assertClose(linearAlign([20, 10], z).l2, 1, 1e-15, 'align_l2 at 10 × the KKT point');
});

test('alignment is 1 at an ℓ∞ KKT point of a linear model on two points, < 1 off it', () => {
  // z_1 = (1, 0), z_2 = (0.25, 0.75); w = (1, 1): margins 1 and 1, and −∇L ∝ z_1 + z_2 = (1.25, 0.75)
  // = 2 · (0.625, 0.375), a point of the simplex = ∂‖·‖∞ at (1, 1): a KKT point of min ‖w‖∞.
  const z = [[1, 0], [0.25, 0.75]];
  const at = linearAlign([1, 1], z);
  assertClose(at.linf, 1, 1e-15, 'align_linf at the ℓ∞ KKT point');
  // by hand: ⟨(1.25, 0.75), (1, 1)⟩ = 2, ‖(1.25, 0.75)‖₂ = √2.125, ‖(1, 1)‖₂ = √2 → 2/√4.25
  assertClose(at.l2, 2 / Math.sqrt(4.25), 1e-15, 'align_l2 at the ℓ∞ KKT point');
  const off = linearAlign([1, 0.8], z); // the second coordinate is off the max but still gets gradient
  assert.ok(off.linf < 1 - 1e-3, `align_linf off the KKT point: ${off.linf}`);
});

// ---------------------------------------------------------------------------------------------
// A depth-2 ReLU network, one sample x (label 0 of 2 classes), run through the real engine: for a
// single sample −∇L = σ(−q) ∇q exactly, so θ is a KKT point for N iff ∇q is in N's normal cone at θ.
// Derivation, with W_2 = [v; −v], h = relu(W_1 x): q = 2 vᵀh, ∇_{W_1} q = 2 (v ⊙ 1[W_1 x > 0]) xᵀ,
// ∇_{W_2} q = [hᵀ; −hᵀ].

const x = [1, 2, 0.5]; // non-constant, so the ℓ2 and ℓ∞ KKT points differ
const m = 4;
const shapes: LayerShape[] = [{ out: m, in: 3 }, { out: 2, in: m }];
const isMuon = [true, false];
const norm = (v: number[]) => Math.hypot(...v);
const engine = new F64Engine({ X: Float64Array.from(x), y: Int32Array.from([0]), n: 1, d: 3, numClasses: 2 }, shapes, 'relu');
const outer = (a: number[], b: number[]) => Float64Array.from(a.flatMap((ai) => b.map((bj) => ai * bj)));

/**
 * ℓ2 (and spectral) KKT point: W_1 = α u xᵀ, W_2 = ν [uᵀ; −uᵀ] with u > 0 a unit vector and
 * ν = α‖x‖/√2. Then ∇q = (2ν u xᵀ, α‖x‖² [u; −u]) = √2 ‖x‖ · θ (ℓ2 KKT), and both
 * layers are rank 1 with σ_max(W_1) = α‖x‖ = √2 ν = σ_max(W_2), each layer's gradient along its own
 * top singular pair (spectral KKT).
 */
function l2Point(alpha: number): Params {
  const u = [1, 2, 3, 4].map((v) => v / Math.sqrt(30));
  const nu = (alpha * norm(x)) / Math.SQRT2;
  return [outer(u.map((v) => alpha * v), x), Float64Array.from([...u.map((v) => nu * v), ...u.map((v) => -nu * v)])];
}

/** ℓ∞ KKT point: every entry ±a, and ∇q has the sign of θ wherever it is non-zero (x ≥ 0). */
function linfPoint(a: number): Params {
  return [new Float64Array(m * 3).fill(a), Float64Array.from([...new Array(m).fill(a), ...new Array(m).fill(-a)])];
}

/**
 * Hybrid KKT point (W_1 a Muon layer, W_2 not): W_1 = a · 1 x̂ᵀ/√m (rank 1, σ_max = a) and W_2 with
 * entries ±a (max|·| = a). Both layers attain the hybrid norm a; ∇_{W_1} q = 2a 1 xᵀ lies along
 * W_1's singular pair and ∇_{W_2} q = [hᵀ; −hᵀ] has W_2's signs.
 */
function hybridPoint(a: number): Params {
  const xn = norm(x);
  return [outer(new Array(m).fill(a / Math.sqrt(m)), x.map((v) => v / xn)), linfPoint(a)[1]!];
}

function engineAlign(theta: Params) {
  const ev = engine.evaluate([theta], true)[0]!;
  return { align: alignAll(ev.grad!, theta, shapes, isMuon), logLoss: ev.logLoss };
}

test('alignment is 1 at KKT points of a ReLU network for each norm, < 1 for the other norms', () => {
  const cases: [string, Params, NormName[], NormName[]][] = [
    ['ℓ2/spectral point', l2Point(0.7), ['l2', 'spectral'], ['linf', 'hybrid']],
    ['ℓ∞ point', linfPoint(0.7), ['linf'], ['l2', 'spectral', 'hybrid']],
    ['hybrid point', hybridPoint(0.7), ['hybrid'], ['l2', 'linf', 'spectral']],
  ];
  for (const [what, theta, kkt, not] of cases) {
    const { align } = engineAlign(theta);
    for (const n of kkt) assertClose(align[n], 1, 1e-13, `${what}: align_${n}`);
    for (const n of not) assert.ok(align[n] < 0.99 && align[n] > 0, `${what}: align_${n} = ${align[n]} should be in (0, 0.99)`);
  }
});

test('alignment stays exact where the loss underflows (log-domain gradient)', () => {
  // q = √2 α² ‖x‖³ (ℓ2 point); α chosen for q = 1000: loss e^{-1000} ≈ 1e-434, 0 as a float.
  const alpha = Math.sqrt(1000 / (Math.SQRT2 * norm(x) ** 3));
  const { align, logLoss } = engineAlign(l2Point(alpha));
  assertClose(logLoss, -1000, 1e-9, 'log-loss');
  assert.equal(Math.exp(logLoss), 0); // the plain float loss is gone …
  assertClose(align.l2, 1, 1e-13, 'align_l2 at L ≈ 1e-434'); // … the alignment is not
  assertClose(align.spectral, 1, 1e-13, 'align_spectral at L ≈ 1e-434');
  const hyb = engineAlign(hybridPoint(40)); // q = 2a²√m‖x‖ ≈ 1.5e4
  assert.ok(hyb.logLoss < -1e4);
  assertClose(hyb.align.hybrid, 1, 1e-13, 'align_hybrid at L ≈ e^{-15000}');
});

test('alignment drops below 1 when θ is moved off a KKT point', () => {
  const rng = new Rng(5);
  for (const [point, n] of [[l2Point(0.7), 'l2'], [linfPoint(0.7), 'linf'], [hybridPoint(0.7), 'hybrid']] as const) {
    const moved = point.map((w) => w.map((v) => v * (1 + 0.2 * (rng.uniform() - 0.5))));
    const { align } = engineAlign(moved);
    assert.ok(align[n] < 1 - 1e-4, `align_${n} after moving off: ${align[n]}`);
  }
});

test('no gradient, no alignment: NaN for every norm', () => {
  const theta = l2Point(1);
  const nan = kktAlignments(null, theta, shapes, isMuon, allNorms(theta, shapes, isMuon));
  const zero = kktAlignments(theta.map((w) => new Float64Array(w.length)), theta, shapes, isMuon, allNorms(theta, shapes, isMuon));
  for (const n of NORM_NAMES) {
    assert.ok(Number.isNaN(nan[n]));
    assert.ok(Number.isNaN(zero[n]));
  }
});

// ---------------------------------------------------------------------------------------------
// Dual norms against brute force: N*(G) = max ⟨G, X⟩ over the unit ball of N, and the max of a
// linear function over a compact convex set is attained at an extreme point. Enumerate them.

/** Extreme points of the ℓ∞ unit ball of a k-vector: all 2^k sign vectors. */
function signVertices(k: number): number[][] {
  return Array.from({ length: 2 ** k }, (_, b) => Array.from({ length: k }, (_, i) => ((b >> i) & 1 ? 1 : -1)));
}

/** Extreme points of the spectral unit ball of 2×2 matrices, the orthogonal matrices: rotations and reflections on a grid of angles. */
function orthogonal2x2(steps: number): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const c = Math.cos((2 * Math.PI * k) / steps);
    const s = Math.sin((2 * Math.PI * k) / steps);
    out.push([c, -s, s, c], [c, s, s, -c]);
  }
  return out;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum += a[k]! * b[k]!;
  return sum;
};

/** max over the product of per-layer extreme-point sets (the unit ball of a max over layers), enumerated jointly. */
function bruteDual(g: Params, candidates: number[][][]): number {
  const values = candidates.map((set, l) => Float64Array.from(set.map((xk) => dot(g[l]!, xk))));
  let best = -Infinity;
  const [a, b] = values as [Float64Array, Float64Array];
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) if (a[i]! + b[j]! > best) best = a[i]! + b[j]!;
  return best;
}

const randomParams = (sh: LayerShape[], seed: number): Params => {
  const rng = new Rng(seed);
  return sh.map((s) => Float64Array.from({ length: s.out * s.in }, () => rng.normal()));
};

test('dual norms match brute force over the unit ball on small matrices', () => {
  const grid = 2048; // angle step 2π/2048: the grid max is below the true max by at most ~1.2e-6 relative
  for (const seed of [1, 2, 3]) {
    // ℓ∞ → ℓ1: a [2, 2] and a [1, 3] layer, all 16 × 8 sign-vertex pairs; exact.
    const sh = [{ out: 2, in: 2 }, { out: 1, in: 3 }];
    const g = randomParams(sh, seed);
    assertClose(bruteDual(g, [signVertices(4), signVertices(3)]), dualNormOf('linf', g, sh, [false, false]), 1e-14, 'ℓ1');
    // spectral → Σ nuclear: two [2, 2] layers, orthogonal matrices on a grid, jointly.
    const sq = [{ out: 2, in: 2 }, { out: 2, in: 2 }];
    const g2 = randomParams(sq, seed + 10);
    const nuclear = dualNormOf('spectral', g2, sq, [true, true]);
    const bruteSpectral = bruteDual(g2, [orthogonal2x2(grid), orthogonal2x2(grid)]);
    assert.ok(bruteSpectral <= nuclear * (1 + 1e-14) && bruteSpectral >= nuclear * (1 - 3e-6), `spectral*: ${bruteSpectral} vs ${nuclear}`);
    // hybrid → nuclear on the Muon layer + ℓ1 on the other: [2, 2] Muon layer, [1, 3] ℓ∞ layer.
    const hybrid = dualNormOf('hybrid', g, sh, [true, false]);
    const bruteHybrid = bruteDual(g, [orthogonal2x2(grid), signVertices(3)]);
    assert.ok(bruteHybrid <= hybrid * (1 + 1e-14) && bruteHybrid >= hybrid * (1 - 3e-6), `hybrid*: ${bruteHybrid} vs ${hybrid}`);
  }
  // ℓ2 → ℓ2 on three entries: the unit sphere on a (polar, azimuth) grid.
  const g = [Float64Array.from([0.3, -1.2]), Float64Array.from([0.7])];
  let best = -Infinity;
  for (let i = 0; i <= 1000; i++) {
    const t = (Math.PI * i) / 1000;
    for (let j = 0; j < 2000; j++) {
      const p = (2 * Math.PI * j) / 2000;
      best = Math.max(best, g[0]![0]! * Math.sin(t) * Math.cos(p) + g[0]![1]! * Math.sin(t) * Math.sin(p) + g[1]![0]! * Math.cos(t));
    }
  }
  const l2 = dualNormOf('l2', g, [{ out: 1, in: 2 }, { out: 1, in: 1 }], [false, false]);
  assert.ok(best <= l2 * (1 + 1e-14) && best >= l2 * (1 - 1e-5), `ℓ2*: ${best} vs ${l2}`);
});

test('allDualNorms shares the SVDs and agrees with dualNormOf for every norm', () => {
  const { shapes: sh, params } = toyNet('relu', 3, 4); // [6, 12], [6, 6], [4, 6]
  for (const muon of [[true, true, false], [false, true, true], [false, false, false]]) {
    const all = allDualNorms(params, sh, muon);
    for (const n of NORM_NAMES) assertClose(all[n], dualNormOf(n, params, sh, muon), 1e-13, `${n}* with muon ${muon}`);
  }
});

test('angleBetweenUnit: right at large angles, accurate at tiny ones', () => {
  const e1 = Float64Array.from([1, 0]);
  assertClose(angleBetweenUnit(e1, Float64Array.from([0, 1])), Math.PI / 2, 1e-15, 'π/2');
  assertClose(angleBetweenUnit(e1, Float64Array.from([-1, 0])), Math.PI, 1e-15, 'π');
  assert.equal(angleBetweenUnit(e1, e1), 0);
  for (const eps of [1e-3, 1e-9, 1e-12]) {
    // acos(cos ε) returns 0 (or ~1.5e-8) for ε ≲ 1e-8; the chord form keeps ε.
    assertClose(angleBetweenUnit(e1, Float64Array.from([Math.cos(eps), Math.sin(eps)])), eps, 1e-9, `ε = ${eps}`);
  }
});

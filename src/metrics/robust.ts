import type { Activation, RobustConfig } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { denseForward, inputGradient, type LayerShape, type Params } from '../model/mlp.js';
import { Rng } from '../rng.js';

/** The perturbation balls of docs/science.md §13.2, by the names of `log.robust`. */
export const ATTACK_BALLS = ['linf', 'l2'] as const;
export type AttackBall = (typeof ATTACK_BALLS)[number];

/** A trained network as the attack sees it: θ, its layer shapes and σ. */
export interface Network {
  params: Params;
  shapes: readonly LayerShape[];
  activation: Activation;
}

/** The labelled samples attacked: inputs X [n, d], labels as in Dataset (class index, or ±1 when numClasses is 1). */
export type AttackSet = Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>;

/** One attack of docs/science.md §13.2. */
export interface PgdSettings {
  ball: AttackBall;
  /** ε > 0: the attack moves each input by at most ε in the ball's norm. */
  radius: number;
  /** Gradient steps per restart, of size α = 2.5 ε / steps. */
  steps: number;
  /** Random starts per sample. */
  restarts: number;
  /** Seed of the random starts. */
  seed: number;
  /** Keep every attacked input in the pixel box [0, 1]^d (the data's range, docs/science.md §2). */
  box: boolean;
}

/** What one attack found, per sample and overall. */
export interface PgdResult {
  /** 1 where the sample is classified correctly at its clean input and at every iterate of every restart. */
  robust: Uint8Array;
  /** The smallest sample margin q_i seen for each sample, its clean input included. */
  worstMargins: Float64Array;
  /** Fraction of robust samples: the robust accuracy at this radius (docs/science.md §13.2). */
  accuracy: number;
  /** The largest ‖x' − x‖ in the ball's norm over every input evaluated (at most `radius`). */
  maxPerturbation: number;
}

/** PGD's step size α = 2.5 ε / steps (Madry et al. 2018): enough to cross the ball from any start. */
export function pgdStepSize(radius: number, steps: number): number {
  return (2.5 * radius) / steps;
}

/**
 * Sample margins q_i (docs/science.md §5) of outputs [n, C] and, in `dOut`, the output gradient of
 * each q_i: e_y − e_j* for the best other class j* (multiclass), y (binary).
 */
function marginsWithGradient(outputs: Float64Array, labels: Int32Array, rows: Int32Array, C: number, q: Float64Array, dOut: Float64Array): void {
  dOut.fill(0);
  for (let r = 0; r < rows.length; r++) {
    const y = labels[rows[r]!]!;
    if (C === 1) {
      q[r] = y * outputs[r]!;
      dOut[r] = y;
      continue;
    }
    const row = r * C;
    let best = -1;
    for (let j = 0; j < C; j++) if (j !== y && (best < 0 || outputs[row + j]! > outputs[row + best]!)) best = j;
    q[r] = outputs[row + y]! - outputs[row + best]!;
    dOut[row + y] = 1;
    dOut[row + best] = -1;
  }
}

/**
 * docs/science.md §13.2: projected gradient descent on each sample's margin q_i within the ball
 * ‖x' − x_i‖ ≤ ε (ℓ∞ or ℓ2), in float64. Each restart starts at a uniform random point of the
 * ball, then takes `steps` steps x' ← Π(x' − α d), d = sign(∇q) (ℓ∞) or ∇q/‖∇q‖₂ (ℓ2), Π the
 * projection onto the ball and then (with `box`) the clip to [0, 1]^d, which keeps x' in the ball.
 * The margin is checked at every iterate; a sample is broken as soon as one has q ≤ 0, and is
 * attacked no further. Robust = correct at the clean input and never broken.
 */
export function pgdAttack(net: Network, set: AttackSet, settings: PgdSettings): PgdResult {
  const { ball, radius, steps, restarts, box } = settings;
  if (!(radius > 0) || !Number.isInteger(steps) || steps < 1 || !Number.isInteger(restarts) || restarts < 1) {
    throw new Error(`pgdAttack: radius ${radius}, steps ${steps}, restarts ${restarts}; expected ε > 0 and whole counts ≥ 1`);
  }
  const { X, y, n, d, numClasses: C } = set;
  const alpha = pgdStepSize(radius, steps);
  const rng = new Rng(settings.seed);
  const worst = new Float64Array(n).fill(Infinity);
  let maxPerturbation = 0;

  // Evaluate the margins of `rows` at inputs Xr; update the worst margins; return which rows are still correct.
  const evaluate = (rows: Int32Array, Xr: Float64Array, wantGrad: boolean) => {
    const pass = denseForward(net.params, net.shapes, net.activation, Xr, rows.length);
    const q = new Float64Array(rows.length);
    const dOut = new Float64Array(rows.length * C);
    marginsWithGradient(pass.outputs, y, rows, C, q, dOut);
    rows.forEach((g, r) => {
      if (q[r]! < worst[g]!) worst[g] = q[r]!;
    });
    return { q, grad: wantGrad ? inputGradient(net.params, net.shapes, pass, dOut) : null };
  };

  const all = Int32Array.from({ length: n }, (_, i) => i);
  evaluate(all, X, false);
  for (let restart = 0; restart < restarts; restart++) {
    let rows = all.filter((g) => worst[g]! > 0);
    if (rows.length === 0) break;
    let origin: Float64Array = gatherRows(X, d, rows);
    let Xr: Float64Array = origin.slice();
    for (let r = 0; r < rows.length; r++) randomStart(Xr.subarray(r * d, (r + 1) * d), ball, radius, rng);
    project(Xr, origin, d, ball, radius, box);
    for (let t = 0; ; t++) {
      maxPerturbation = Math.max(maxPerturbation, largestPerturbation(Xr, origin, d, ball));
      const { q, grad } = evaluate(rows, Xr, t < steps);
      const alive = q.map((v) => (v > 0 ? 1 : 0));
      if (t === steps || alive.every((a) => a === 0)) break;
      for (let r = 0; r < rows.length; r++) {
        if (!alive[r]) continue;
        step(Xr.subarray(r * d, (r + 1) * d), grad!.subarray(r * d, (r + 1) * d), ball, alpha);
      }
      project(Xr, origin, d, ball, radius, box);
      if (alive.some((a) => a === 0)) {
        const keep = rows.map((_, r) => r).filter((r) => alive[r]);
        rows = Int32Array.from(keep, (r) => rows[r]!);
        origin = gatherRows(origin, d, keep);
        Xr = gatherRows(Xr, d, keep);
      }
    }
  }
  const robust = Uint8Array.from(worst, (q) => (q > 0 ? 1 : 0));
  return { robust, worstMargins: worst, accuracy: robust.reduce((s, v) => s + v, 0) / n, maxPerturbation };
}

function gatherRows(A: Float64Array, d: number, rows: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows.length * d);
  for (let r = 0; r < rows.length; r++) out.set(A.subarray(rows[r]! * d, (rows[r]! + 1) * d), r * d);
  return out;
}

/** x += a uniform random point of the ε-ball: a uniform cube (ℓ∞), or a Gaussian direction at radius ε u^{1/d} (ℓ2). */
function randomStart(x: Float64Array, ball: AttackBall, radius: number, rng: Rng): void {
  if (ball === 'linf') {
    for (let k = 0; k < x.length; k++) x[k]! += radius * (2 * rng.uniform() - 1);
    return;
  }
  const z = Float64Array.from({ length: x.length }, () => rng.normal());
  const norm = Math.sqrt(z.reduce((s, v) => s + v * v, 0));
  const r = radius * rng.uniform() ** (1 / x.length);
  if (norm > 0) for (let k = 0; k < x.length; k++) x[k]! += (r * z[k]!) / norm;
}

/** One descent step on the margin: x −= α sign(g) (ℓ∞) or α g/‖g‖₂ (ℓ2; no step where g = 0). */
function step(x: Float64Array, g: Float64Array, ball: AttackBall, alpha: number): void {
  if (ball === 'linf') {
    for (let k = 0; k < x.length; k++) x[k]! -= alpha * Math.sign(g[k]!);
    return;
  }
  let sq = 0;
  for (let k = 0; k < g.length; k++) sq += g[k]! * g[k]!;
  if (sq === 0) return;
  const scale = alpha / Math.sqrt(sq);
  for (let k = 0; k < x.length; k++) x[k]! -= scale * g[k]!;
}

/**
 * Each row of Xr onto the ε-ball around its row of `origin` (clip each coordinate for ℓ∞, rescale
 * the perturbation for ℓ2), then, with `box`, each coordinate into [0, 1]. The clip moves a
 * coordinate toward [0, 1], which holds the origin's, so the perturbation stays in the ball.
 */
function project(Xr: Float64Array, origin: Float64Array, d: number, ball: AttackBall, radius: number, box: boolean): void {
  for (let r = 0; r * d < Xr.length; r++) {
    const o = r * d;
    if (ball === 'linf') {
      for (let k = o; k < o + d; k++) Xr[k] = Math.min(origin[k]! + radius, Math.max(origin[k]! - radius, Xr[k]!));
    } else {
      let sq = 0;
      for (let k = o; k < o + d; k++) sq += (Xr[k]! - origin[k]!) ** 2;
      if (sq > radius * radius) {
        const scale = radius / Math.sqrt(sq);
        for (let k = o; k < o + d; k++) Xr[k] = origin[k]! + scale * (Xr[k]! - origin[k]!);
      }
    }
    if (box) for (let k = o; k < o + d; k++) Xr[k] = Math.min(1, Math.max(0, Xr[k]!));
  }
}

/** max over rows of ‖x' − x‖ in the ball's norm. */
function largestPerturbation(Xr: Float64Array, origin: Float64Array, d: number, ball: AttackBall): number {
  let largest = 0;
  for (let r = 0; r * d < Xr.length; r++) {
    let acc = 0;
    for (let k = r * d; k < (r + 1) * d; k++) {
      const v = Math.abs(Xr[k]! - origin[k]!);
      acc = ball === 'linf' ? Math.max(acc, v) : acc + v * v;
    }
    largest = Math.max(largest, ball === 'linf' ? acc : Math.sqrt(acc));
  }
  return largest;
}

/** Robust accuracy at one radius of one ball (docs/science.md §13.2). */
export interface RobustPoint {
  ball: AttackBall;
  radius: number;
  accuracy: number;
}

/**
 * docs/science.md §13.2 at the end of a run: the robust accuracy of `net` on `set` at every radius
 * of `settings` (ℓ∞ radii first, then ℓ2, each list in its order), pixels kept in [0, 1]. Each
 * radius draws its random starts from its own stream seeded with `seed`, so one radius's result
 * does not depend on which others are listed. Empty lists: no attack, an empty result.
 */
export function robustAccuracies(net: Network, set: AttackSet, settings: RobustConfig, seed: number): RobustPoint[] {
  return ATTACK_BALLS.flatMap((ball) =>
    settings[ball].map((radius) => ({
      ball,
      radius,
      accuracy: pgdAttack(net, set, { ball, radius, steps: settings.steps, restarts: settings.restarts, seed, box: true }).accuracy,
    })),
  );
}

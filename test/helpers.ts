import assert from 'node:assert/strict';
import type { Activation, Config } from '../src/config/types.js';
import type { Dataset } from '../src/data/dataset.js';
import type { Engine } from '../src/engine/types.js';
import { F64Engine } from '../src/engine/f64.js';
import { initParams, layerShapes, type LayerShape, type Params } from '../src/model/mlp.js';
import { Rng } from '../src/rng.js';
import { NORM_NAMES } from '../src/metrics/norms.js';
import type { LogRow, RunSpec } from '../src/results/runs.js';
import type { RunSummary } from '../src/results/summary.js';
import { executeRuns, type RunOptions } from '../src/sweep/execute.js';
import { trainRuns, type RunResult, type TrainOptions } from '../src/train/train.js';

/** A small random problem: n samples of d non-negative, partly zero features (like pixels). */
export function toyData(n: number, d: number, numClasses: number, seed: number) {
  const rng = new Rng(seed);
  const X = new Float64Array(n * d);
  for (let k = 0; k < X.length; k++) X[k] = rng.uniform() < 0.4 ? 0 : rng.uniform();
  const y = Int32Array.from({ length: n }, () => rng.int(0, numClasses - 1));
  return { X, y, n, d, numClasses };
}

export function toyNet(activation: Activation, depth: number, seed = 1, d = 12, width = 6, classes = 4) {
  const shapes = layerShapes({ inputDim: d, width, outputDim: classes, depth });
  const params = initParams(shapes, 1, seed);
  return { shapes, params };
}

/** Textbook forward pass, written as plainly as possible: the oracle for the engine. */
export function denseForward(params: Params, shapes: LayerShape[], X: Float64Array, n: number, activation: Activation): Float64Array[] {
  const sigma = (z: number) => (z > 0 ? (activation === 'relu' ? z : z * z) : 0);
  const out: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    let h = Array.from(X.subarray(i * shapes[0]!.in, (i + 1) * shapes[0]!.in));
    shapes.forEach((s, l) => {
      const z = new Array<number>(s.out).fill(0);
      for (let k = 0; k < s.out; k++) for (let j = 0; j < s.in; j++) z[k]! += params[l]![k * s.in + j]! * h[j]!;
      h = l === shapes.length - 1 ? z : z.map(sigma);
    });
    out.push(Float64Array.from(h));
  }
  return out;
}

export function scaleParams(params: Params, c: number): Params {
  return params.map((w) => w.map((v) => v * c));
}

export function engineFor(data: ReturnType<typeof toyData>, shapes: LayerShape[], activation: Activation) {
  return new F64Engine(data, shapes, activation);
}

/** Central differences (f(θ + h e_k) − f(θ − h e_k)) / 2h of a scalar function, every coordinate, flattened. */
export function centralDifferences(params: Params, f: (p: Params) => number, h: number): number[] {
  const out: number[] = [];
  params.forEach((w, l) =>
    w.forEach((_, j) => {
      const plus = params.map((v) => v.slice());
      const minus = params.map((v) => v.slice());
      plus[l]![j]! += h;
      minus[l]![j]! -= h;
      out.push((f(plus) - f(minus)) / (2 * h));
    }),
  );
  return out;
}

export function assertClose(actual: number, expected: number, rel: number, what = ''): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  if (!(err <= rel)) throw new Error(`${what}: ${actual} vs ${expected} (relative error ${err} > ${rel})`);
}

/** Every normalized margin of the log row `got` within `rel` of `want`'s (relative to want's). */
export function assertMarginsClose(got: Partial<Record<keyof LogRow, number | null>>, want: LogRow, rel: number, what: string): void {
  for (const norm of NORM_NAMES) {
    const key = `margin_${norm}` as const;
    const g = got[key] ?? NaN;
    assert.ok(Math.abs(g - want[key]) < rel * Math.abs(want[key]), `${what} ${key}: ${g} vs ${want[key]}`);
  }
}

/**
 * Runs `fn` with everything written to process.stderr (console.warn and console.error included)
 * collected instead of printed; returns its result and what was written. Synchronous code only.
 */
export async function captureStderr<T>(fn: () => T | Promise<T>): Promise<{ result: T; stderr: string }> {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  try {
    const result = await fn();
    return { result, stderr: chunks.join('') };
  } finally {
    process.stderr.write = write;
  }
}

/** One run through the one driver (trainRuns), for tests that train a single run. */
export async function trainOne(
  config: Readonly<Config>,
  spec: RunSpec,
  engine: Engine,
  shapes: LayerShape[],
  init: Params,
  options: TrainOptions = {},
): Promise<RunResult> {
  const [result] = await trainRuns(config, [spec], engine, shapes, [init], [options]);
  return result!;
}

/** One run through the one executor (executeRuns), for tests that write a single run's files. */
export async function executeOne(config: Readonly<Config>, spec: RunSpec, data: Dataset, outDir: string, options: RunOptions = {}): Promise<RunSummary> {
  const [summary] = await executeRuns(config, [spec], data, outDir, options);
  return summary!;
}

/** M = U diag(s) Vᵀ with random orthonormal U [r, k], V [c, k] (Gram–Schmidt in float64). */
export function withSpectrum(rng: Rng, r: number, c: number, s: number[]): Float64Array {
  const orthonormal = (n: number) => {
    const cols: Float64Array[] = [];
    for (let e = 0; e < s.length; e++) {
      const v = Float64Array.from({ length: n }, () => rng.normal());
      for (let pass = 0; pass < 2; pass++) {
        for (const u of cols) {
          const dot = v.reduce((acc, x, i) => acc + x * u[i]!, 0);
          for (let i = 0; i < n; i++) v[i]! -= dot * u[i]!;
        }
      }
      const norm = Math.hypot(...v);
      cols.push(v.map((x) => x / norm));
    }
    return cols;
  };
  const U = orthonormal(r);
  const V = orthonormal(c);
  const M = new Float64Array(r * c);
  s.forEach((sigma, e) => {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) M[i * c + j]! += sigma * U[e]![i]! * V[e]![j]!;
  });
  return M;
}

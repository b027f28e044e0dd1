import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../data/dataset.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { sha256Of } from '../results/hash.js';
import { solveWithHighs, type SolvedMargin } from './highs.js';
import { solveSchattenDual } from './schattenDual.js';
import { linearNorm, type LinearNorm } from './norms.js';
import { inDataSpan, onLivePixels, smallestMargin, type MarginOperator } from './problem.js';

type LinearData = Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>;

/** docs/science.md §14: the max-margin value γ*_N of a dataset for one norm, its solution and its certificate. */
export interface Optimum {
  norm: string;
  /** γ*_N as the certified upper bound N*(Σ λ_j A_j): a ratio γ_N(θ)/γ* ≤ 1 then holds for every θ. */
  gamma: number;
  /** min_j ⟨A_j, W*⟩ of the returned W* (N(W*) = 1), recomputed on every pixel. */
  lower: number;
  upper: number;
  /** (upper − lower)/upper. */
  gap: number;
  solver: string;
  seconds: number;
  /** The dual Newton solver's iterations and whether it met its tolerance (spectral, Schatten-p); absent for HiGHS. */
  iterations?: number;
  converged?: boolean;
  /** W* [rows, cols] row-major over every pixel, N(W*) = 1. */
  rows: number;
  cols: number;
  W: number[];
}

/** The full-pixel operator of the data (coordinates = pixels), for checking W* where it lives. */
function pixelOperator(data: LinearData): MarginOperator {
  const C = data.numClasses;
  return { n: data.n, r: data.d, C, perSample: C === 1 ? 1 : C - 1, X: data.X, y: data.y };
}

/** The Schatten p of a norm name: spectral → ∞, schatten<p> → p, others null. */
function schattenP(name: string): number | null {
  if (name === 'spectral') return Infinity;
  const m = /^schatten([0-9]*\.?[0-9]+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Solves the max-margin problem of docs/science.md §14.2 for one norm, certified (§14.3): l2, linf
 * and l1 by HiGHS; Schatten-p by the dual Newton solver (src/linear/schattenDual.ts), started from
 * its own solution of the q = 2 problem (the ℓ2 one, solved in one Newton step); spectral by the
 * primal barrier method it hands p = ∞ to (src/linear/spectralBarrier.ts).
 */
export async function solveOptimum(data: LinearData, norm: LinearNorm): Promise<Optimum> {
  const start = performance.now();
  const reduced = norm.rotationInvariant ? inDataSpan(data) : onLivePixels(data);
  const p = schattenP(norm.name);
  let solved: SolvedMargin & { iterations?: number; converged?: boolean };
  if (p !== null) {
    const warm = solveSchattenDual(reduced.op, 2, linearNorm('l2'));
    solved = solveSchattenDual(reduced.op, p, norm, warm.lambda, 1e-9, 200);
  } else if (norm.name === 'l2' || norm.name === 'linf' || norm.name === 'l1') {
    solved = await solveWithHighs(reduced.op, norm);
  } else {
    throw new Error(`no max-margin solver for the norm ${norm.name} (l2, linf, l1, spectral and schatten<p> are solved)`);
  }
  const W = reduced.lift(solved.K);
  const C = data.numClasses;
  const nW = norm.norm(W, C, data.d);
  const lower = smallestMargin(pixelOperator(data), W) / nW;
  const upper = solved.upper;
  return {
    norm: norm.name,
    gamma: upper,
    lower,
    upper,
    gap: (upper - lower) / upper,
    solver: p === Infinity ? 'barrier-newton' : p !== null ? 'dual-newton' : norm.name === 'l2' ? 'highs-qp' : 'highs-lp',
    seconds: (performance.now() - start) / 1000,
    ...(solved.iterations !== undefined ? { iterations: solved.iterations, converged: solved.converged! } : {}),
    rows: C,
    cols: data.d,
    W: Array.from(W, (v) => v / nW),
  };
}

/** Raised whenever a solver changes what it returns, so that optima cached by an older one are solved again. */
const SOLVERS_VERSION = 2;

/** The cache key of a dataset and a norm: sha256 of the inputs, the labels, the class count, the norm's name and the solvers' version. */
export function optimumKey(data: LinearData, norm: string): string {
  const x = new Uint8Array(data.X.buffer, data.X.byteOffset, data.X.byteLength);
  const y = new Uint8Array(data.y.buffer, data.y.byteOffset, data.y.byteLength);
  return sha256Of(`${sha256Of(x)}:${sha256Of(y)}:${data.n}:${data.d}:${data.numClasses}:${norm}:${SOLVERS_VERSION}`).slice(0, 24);
}

/** Where optimaFor caches the optimum of a dataset and a norm. */
const optimumFile = (data: LinearData, norm: string, outDir: string): string => join(outDir, 'optima', `${optimumKey(data, norm)}.json`);

/** Whether optimaFor would read the optimum back rather than solve it. */
export const optimumCached = (data: LinearData, norm: string, outDir: string): boolean => existsSync(optimumFile(data, linearNorm(norm).name, outDir));

/**
 * The optima of a dataset for each named norm: read from <outDir>/optima/<key>.json where solved
 * before, else solved and written there (atomically). What a depth-1 run's logging calls once per sweep.
 */
export async function optimaFor(data: LinearData, norms: readonly string[], outDir: string): Promise<Record<string, Optimum>> {
  const dir = join(outDir, 'optima');
  const out: Record<string, Optimum> = {};
  for (const name of norms) {
    const norm = linearNorm(name);
    const file = optimumFile(data, norm.name, outDir);
    if (existsSync(file)) {
      out[name] = JSON.parse(readFileSync(file, 'utf8')) as Optimum;
      continue;
    }
    const optimum = await solveOptimum(data, norm);
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(file, optimum);
    out[name] = optimum;
  }
  return out;
}

/** docs/science.md §14.5: the fraction of the optimum reached, γ_N(θ)/γ*_N with γ_N(θ) = q_min/N(θ) (degree 1). */
export function optimumRatio(qmin: number, normOfTheta: number, optimum: Pick<Optimum, 'gamma'>): number {
  return qmin / normOfTheta / optimum.gamma;
}

/** docs/science.md §14.5: cos∠(θ, W*) = ⟨θ, W*⟩/(‖θ‖_F ‖W*‖_F), the Euclidean angle to the optimal direction. */
export function cosineToOptimum(W: Float64Array, optimum: { readonly W: ArrayLike<number> }): number {
  let dot = 0;
  let a = 0;
  let b = 0;
  for (let k = 0; k < W.length; k++) {
    const o = optimum.W[k]!;
    dot += W[k]! * o;
    a += W[k]! * W[k]!;
    b += o * o;
  }
  return dot / Math.sqrt(a * b);
}

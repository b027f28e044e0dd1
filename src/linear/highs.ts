import highsModule, { type Highs } from 'highs';
import type { LinearNorm } from './norms.js';
import { combine, marginCount, marginRows, margins, type MarginOperator } from './problem.js';

// The package's declarations describe its ES module's default export, which this project's CommonJS-style type resolution misreads.
const loadHighs = highsModule as unknown as () => Promise<Highs>;
type HighsRuntime = Highs;
let runtime: Promise<HighsRuntime> | null = null;
/** HiGHS compiled to WebAssembly, loaded once per process from the package's own files (no network). */
const highs = (): Promise<HighsRuntime> => (runtime ??= loadHighs());

/** A max-margin solution in the operator's coordinates, with the multipliers that certify it. */
export interface SolvedMargin {
  K: Float64Array; // [C, r], N(K) = 1
  lower: number;
  upper: number;
  lambda: Float64Array;
}

/**
 * docs/science.md §14.4, by HiGHS: ℓ2 as the QP min ½‖K‖² s.t. ⟨A_j, K⟩ ≥ 1 (γ* = 1/‖K*‖);
 * ℓ∞ as the LP max t s.t. ⟨A_j, K⟩ ≥ t, −1 ≤ K ≤ 1; ℓ1 as the LP max t s.t. ⟨A_j, U − V⟩ ≥ t,
 * Σ (U + V) ≤ 1, U, V ≥ 0. The row duals, normalized to the simplex, give the upper bound
 * N*(Σ λ_j A_j); the primal, scaled to N = 1, the lower bound min_j ⟨A_j, K⟩.
 */
export async function solveWithHighs(op: MarginOperator, norm: LinearNorm): Promise<SolvedMargin> {
  const h = await highs();
  const { C, r } = op;
  const m = marginCount(op);
  const P = C * r;
  const kind = norm.name;
  if (kind !== 'l2' && kind !== 'linf' && kind !== 'l1') throw new Error(`HiGHS solves l2, linf and l1 here, not ${kind}`);
  const split = kind === 'l1'; // K = U − V
  const numCols = kind === 'l2' ? P : (split ? 2 * P : P) + 1;
  const tCol = numCols - 1;
  const starts = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (let j = 0; j < m; j++) {
    const { sample, rows } = marginRows(op, j);
    for (const [row, coef] of [...rows].sort((a, b) => a[0] - b[0])) {
      for (let k = 0; k < r; k++) {
        const v = coef * op.X[sample * r + k]!;
        if (v === 0) continue;
        indices.push(row * r + k);
        values.push(v);
      }
    }
    if (split) {
      const n0 = indices.length - (starts.at(-1) ?? 0);
      for (let e = 0; e < n0; e++) {
        indices.push(P + indices[indices.length - n0]!);
        values.push(-values[values.length - n0]!);
      }
    }
    if (kind !== 'l2') {
      indices.push(tCol);
      values.push(-1);
    }
    starts.push(indices.length);
  }
  const rowLower = new Array<number>(m).fill(kind === 'l2' ? 1 : 0);
  const rowUpper = new Array<number>(m).fill(h.infinity);
  if (split) {
    for (let c = 0; c < 2 * P; c++) indices.push(c), values.push(1);
    starts.push(indices.length);
    rowLower.push(-h.infinity);
    rowUpper.push(1);
  }
  const colCost = new Array<number>(numCols).fill(0);
  if (kind !== 'l2') colCost[tCol] = 1;
  const colLower = new Array<number>(numCols).fill(kind === 'linf' ? -1 : kind === 'l1' ? 0 : -h.infinity);
  const colUpper = new Array<number>(numCols).fill(kind === 'linf' ? 1 : h.infinity);
  if (kind !== 'l2') {
    colLower[tCol] = -h.infinity;
    colUpper[tCol] = h.infinity;
  }
  const model = h.createModel({
    numCols,
    numRows: rowLower.length,
    sense: kind === 'l2' ? h.constants.objectiveSense.minimize : h.constants.objectiveSense.maximize,
    colCost,
    colLower,
    colUpper,
    rowLower,
    rowUpper,
    matrix: { format: 'csr', numRows: rowLower.length, numCols, starts: Int32Array.from(starts), indices: Int32Array.from(indices), values: Float64Array.from(values) },
    ...(kind === 'l2'
      ? { hessian: { format: 'triangular' as const, dimension: P, starts: Int32Array.from({ length: P + 1 }, (_, i) => i), indices: Int32Array.from({ length: P }, (_, i) => i), values: new Float64Array(P).fill(1) } }
      : {}),
  });
  try {
    model.options.set({ output_flag: false });
    model.run();
    const status = model.getModelStatus();
    if (status !== h.constants.modelStatus.optimal) {
      throw new Error(`HiGHS ended with model status ${status} (the data may not be linearly separable)`);
    }
    const { colValue, rowDual } = model.getSolution();
    let K = split ? Float64Array.from({ length: P }, (_, i) => colValue[i]! - colValue[P + i]!) : Float64Array.from(colValue.subarray(0, P));
    const nK = norm.norm(K, C, r);
    K = K.map((v) => v / nK);
    const dual = Float64Array.from(rowDual.subarray(0, m), Math.abs);
    const total = dual.reduce((s, v) => s + v, 0);
    const lambda = dual.map((v) => v / total);
    return { K, lower: Math.min(...margins(op, K)), upper: norm.dual(combine(op, lambda), C, r), lambda };
  } finally {
    model.dispose();
  }
}

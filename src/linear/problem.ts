import type { Dataset } from '../data/dataset.js';

/**
 * docs/science.md §14.1: the margins of a linear classifier as linear functions of W [C, d]. Binary
 * (one output, labels ±1): q_i(w) = y_i ⟨w, x_i⟩. Multiclass: one margin per (sample, wrong class)
 * pair, q_(i,k)(W) = ⟨W_{y_i} − W_k, x_i⟩, k ≠ y_i, so q_i = min_k q_(i,k). Each is ⟨A_j, W⟩ for
 * a fixed A_j; `margins` evaluates all of them and `combine` forms Σ_j λ_j A_j (the adjoint).
 *
 * The features are coordinates of the samples in some basis of dimension r (the data's span, or
 * the live pixels): X [n, r].
 */
export interface MarginOperator {
  n: number;
  r: number;
  /** Rows of W: 1 for the binary task, else the number of classes. */
  C: number;
  /** Margins per sample: 1 (binary) or C − 1. */
  perSample: number;
  X: Float64Array; // [n, r]
  y: Int32Array; // ±1 (binary) or class labels
}

/** Number of margins ⟨A_j, W⟩: n (binary) or n (C − 1). */
export const marginCount = (op: MarginOperator): number => op.n * op.perSample;

/** The other classes of a label, in order: margin j = i·(C − 1) + s belongs to class wrong(y_i)[s]. */
function wrongClass(y: number, s: number): number {
  return s < y ? s : s + 1;
}

/** All margins ⟨A_j, W⟩ of W [C, r], into `out` [n · perSample]. */
export function margins(op: MarginOperator, W: Float64Array, out = new Float64Array(marginCount(op))): Float64Array {
  const { n, r, C, X, y } = op;
  const z = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += W[c * r + k]! * X[i * r + k]!;
      z[c] = s;
    }
    if (C === 1) out[i] = y[i]! * z[0]!;
    else for (let s = 0; s < C - 1; s++) out[i * (C - 1) + s] = z[y[i]!]! - z[wrongClass(y[i]!, s)]!;
  }
  return out;
}

/** Σ_j λ_j A_j [C, r], the adjoint of `margins`. */
export function combine(op: MarginOperator, lambda: Float64Array, out = new Float64Array(op.C * op.r)): Float64Array {
  const { n, r, C, X, y } = op;
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const add = (row: number, coef: number) => {
      if (coef === 0) return;
      for (let k = 0; k < r; k++) out[row * r + k]! += coef * X[i * r + k]!;
    };
    if (C === 1) add(0, lambda[i]! * y[i]!);
    else {
      let total = 0;
      for (let s = 0; s < C - 1; s++) {
        const l = lambda[i * (C - 1) + s]!;
        total += l;
        add(wrongClass(y[i]!, s), -l);
      }
      add(y[i]!, total);
    }
  }
  return out;
}

/** The (class, coefficient) pairs of A_j: W's rows it touches, with ±1 (multiclass) or y_i (binary). */
export function marginRows(op: MarginOperator, j: number): { sample: number; rows: [number, number][] } {
  if (op.C === 1) return { sample: j, rows: [[0, op.y[j]!]] };
  const i = Math.floor(j / (op.C - 1));
  return { sample: i, rows: [[op.y[i]!, 1], [wrongClass(op.y[i]!, j % (op.C - 1)), -1]] };
}

/** The smallest margin of W: q_min = min_j ⟨A_j, W⟩. */
export function smallestMargin(op: MarginOperator, W: Float64Array): number {
  let m = Infinity;
  for (const q of margins(op, W)) if (q < m) m = q;
  return m;
}

/** A basis of features and the way from its coordinates back to W [C, d] over every pixel. */
export interface Reduced {
  op: MarginOperator;
  /** W [C, d] from coordinates K [C, r]. */
  lift(K: Float64Array): Float64Array;
}

type LinearData = Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>;

/**
 * The data's span: an orthonormal basis q_1 … q_r of the samples' linear span (modified
 * Gram–Schmidt, twice, dropping samples already in the span of the earlier ones), coordinates
 * X Qᵀ [n, r], and W = K Q. Exact for every norm invariant under W ↦ W U for orthogonal U
 * (ℓ2, spectral, Schatten-p): W's part orthogonal to the data changes no margin and only adds
 * to such a norm (docs/science.md §14.2).
 */
export function inDataSpan(data: LinearData): Reduced {
  const { n, d, X } = data;
  const basis: Float64Array[] = [];
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    v.set(X.subarray(i * d, (i + 1) * d));
    let before = 0;
    for (let j = 0; j < d; j++) before += v[j]! * v[j]!;
    for (let pass = 0; pass < 2; pass++) {
      for (const q of basis) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += q[j]! * v[j]!;
        for (let j = 0; j < d; j++) v[j]! -= dot * q[j]!;
      }
    }
    let after = 0;
    for (let j = 0; j < d; j++) after += v[j]! * v[j]!;
    // A sample within rounding of the earlier ones' span adds no direction.
    if (after > 1e-20 * before && after > 0) basis.push(v.map((x) => x / Math.sqrt(after)));
  }
  const r = basis.length;
  const coords = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += basis[k]![j]! * X[i * d + j]!;
      coords[i * r + k] = dot;
    }
  }
  const C = outputs(data);
  return {
    op: { n, r, C, perSample: C === 1 ? 1 : C - 1, X: coords, y: data.y },
    lift(K) {
      const W = new Float64Array(C * d);
      for (let c = 0; c < C; c++) for (let k = 0; k < r; k++) for (let j = 0; j < d; j++) W[c * d + j]! += K[c * r + k]! * basis[k]![j]!;
      return W;
    },
  };
}

/**
 * The live pixels (non-zero in some sample) as the features, W = 0 on the others: exact for the
 * entrywise norms ℓ1 and ℓ∞, where a dead pixel's weight changes no margin and only adds to ℓ1
 * (for ℓ∞ any value in [−1, 1] is as good as 0).
 */
export function onLivePixels(data: LinearData): Reduced {
  const { n, d, X } = data;
  const live: number[] = [];
  for (let j = 0; j < d; j++) {
    let lit = false;
    for (let i = 0; i < n && !lit; i++) lit = X[i * d + j] !== 0;
    if (lit) live.push(j);
  }
  const r = live.length;
  const coords = new Float64Array(n * r);
  for (let i = 0; i < n; i++) live.forEach((j, k) => (coords[i * r + k] = X[i * d + j]!));
  const C = outputs(data);
  return {
    op: { n, r, C, perSample: C === 1 ? 1 : C - 1, X: coords, y: data.y },
    lift(K) {
      const W = new Float64Array(C * d);
      for (let c = 0; c < C; c++) live.forEach((j, k) => (W[c * d + j] = K[c * r + k]!));
      return W;
    },
  };
}

/** W's rows: one for the binary task (numClasses 1), else one per class. */
function outputs(data: Pick<Dataset, 'numClasses'>): number {
  return data.numClasses;
}

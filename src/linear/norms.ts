import { thinSvd } from '../numerics/linalg.js';

/**
 * What the max-margin solvers need of a norm on W [rows, cols]: N, its dual N*, and the linear
 * minimization oracle lmo(M) = argmax_{N(D) ≤ 1} ⟨M, D⟩, which satisfies ⟨M, lmo(M)⟩ = N*(M)
 * (docs/science.md §14.3). A small interface on purpose: the layer-norm table can stand in for it.
 */
export interface LinearNorm {
  /** The name used for cache files and reports: l2, linf, l1, spectral, schatten<p>. */
  readonly name: string;
  norm(W: Float64Array, rows: number, cols: number): number;
  dual(M: Float64Array, rows: number, cols: number): number;
  lmo(M: Float64Array, rows: number, cols: number): Float64Array;
  /** Invariant under W ↦ W U for orthogonal U, so the max-margin problem may be solved in the data's span. */
  readonly rotationInvariant: boolean;
}

const sumAbs = (a: Float64Array) => a.reduce((s, v) => s + Math.abs(v), 0);
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const frobenius = (a: Float64Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

/** ‖σ‖_p of a vector of non-negative values, scaled so that large or small entries neither overflow nor underflow. */
function pNorm(s: Float64Array, p: number): number {
  const top = maxAbs(s);
  if (top === 0) return 0;
  if (p === Infinity) return top;
  return top * s.reduce((acc, v) => acc + (v / top) ** p, 0) ** (1 / p);
}

/** U diag(f(σ)) Vᵀ for M [rows, cols]. */
function spectralMap(M: Float64Array, rows: number, cols: number, f: (s: Float64Array) => Float64Array): Float64Array {
  const { U, s, V, k } = thinSvd(M, rows, cols);
  const g = f(s);
  const out = new Float64Array(rows * cols);
  for (let e = 0; e < k; e++) {
    if (g[e] === 0) continue;
    for (let i = 0; i < rows; i++) {
      const u = U[i * k + e]! * g[e]!;
      for (let j = 0; j < cols; j++) out[i * cols + j]! += u * V[j * k + e]!;
    }
  }
  return out;
}

const singularValues = (M: Float64Array, rows: number, cols: number) => thinSvd(M, rows, cols).s;

/** ℓ2 of W flattened (Frobenius); self-dual, lmo M/‖M‖. */
export const L2: LinearNorm = {
  name: 'l2',
  rotationInvariant: true,
  norm: (W) => frobenius(W),
  dual: (M) => frobenius(M),
  lmo: (M) => {
    const f = frobenius(M);
    return M.map((v) => (f === 0 ? 0 : v / f));
  },
};

/** ℓ∞ entrywise; dual ℓ1, lmo sign(M). */
export const LINF: LinearNorm = {
  name: 'linf',
  rotationInvariant: false,
  norm: (W) => maxAbs(W),
  dual: (M) => sumAbs(M),
  lmo: (M) => M.map(Math.sign),
};

/** ℓ1 entrywise; dual ℓ∞, lmo: sign at one largest |M| entry. */
export const L1: LinearNorm = {
  name: 'l1',
  rotationInvariant: false,
  norm: (W) => sumAbs(W),
  dual: (M) => maxAbs(M),
  lmo: (M) => {
    let at = 0;
    M.forEach((v, k) => Math.abs(v) > Math.abs(M[at]!) && (at = k));
    const D = new Float64Array(M.length);
    D[at] = Math.sign(M[at]!);
    return D;
  },
};

/** Spectral σ_max; dual nuclear Σσ, lmo the polar factor U Vᵀ (on the non-zero singular values). */
export const SPECTRAL: LinearNorm = {
  name: 'spectral',
  rotationInvariant: true,
  norm: (W, r, c) => maxAbs(singularValues(W, r, c)),
  dual: (M, r, c) => sumAbs(singularValues(M, r, c)),
  lmo: (M, r, c) => spectralMap(M, r, c, (s) => s.map((v) => (v > 0 ? 1 : 0))),
};

/** Schatten-p, 1 < p < ∞: ‖σ‖_p; dual ‖σ‖_q (1/p + 1/q = 1), lmo U diag(σ^{q−1}) Vᵀ / ‖σ‖_q^{q−1}. */
export function schatten(p: number): LinearNorm {
  if (!(p > 1 && p < Infinity)) throw new Error(`Schatten-p needs 1 < p < ∞, got ${p}`);
  const q = p / (p - 1);
  return {
    name: `schatten${p}`,
    rotationInvariant: true,
    norm: (W, r, c) => pNorm(singularValues(W, r, c), p),
    dual: (M, r, c) => pNorm(singularValues(M, r, c), q),
    lmo: (M, r, c) =>
      spectralMap(M, r, c, (s) => {
        const nq = pNorm(s, q);
        return s.map((v) => (nq === 0 ? 0 : (v / nq) ** (q - 1)));
      }),
  };
}

/** A norm by its name: l2, linf, l1, spectral, schatten<p> (e.g. schatten4, schatten1.5). */
export function linearNorm(name: string): LinearNorm {
  const fixed = { l2: L2, linf: LINF, l1: L1, spectral: SPECTRAL }[name];
  if (fixed) return fixed;
  const m = /^schatten([0-9]*\.?[0-9]+)$/.exec(name);
  if (m) return schatten(Number(m[1]));
  throw new Error(`unknown norm ${JSON.stringify(name)} (expected l2, linf, l1, spectral or schatten<p>)`);
}

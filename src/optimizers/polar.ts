import { checkFits, gramOfRowsIn, leftSingular, shapeBounds, transpose, transposeInto, type ShapeBounds } from '../numerics/linalg.js';
import { f64s, i32s, KernelArena, type Blocks } from '../numerics/wasm/kernels.js';

/**
 * docs/science.md §6: the polar factor U Vᵀ of a matrix M = U Σ Vᵀ, the update direction of spectral descent
 * and Muon. Singular values below POLAR_RANK_CUTOFF · σ_max are dropped (their directions get no
 * step), so a rank-deficient M gives a partial isometry.
 */
export const POLAR_RANK_CUTOFF = 1e-10;

/**
 * The route used on every step is the Gram one: for M [r, c] with r ≤ c,
 * U Vᵀ = (M Mᵀ)^{−1/2} M, from an r × r symmetric eigendecomposition, about 3 r² c flops against
 * ~4× that for an SVD. Forming M Mᵀ squares the condition number: its eigenvalues carry an
 * absolute rounding error of about r · ε · λ_max, so a singular value below ~3e-7 σ_max cannot be
 * told from zero there. The momentum matrices of these networks are rank deficient in exactly that
 * way (the output layer's rows sum to zero because softmax gradients do; hidden layers lose a
 * direction later in training): their spectra show a clean gap, singular values ≥ 1e-4 σ_max and
 * then one at 1e-16 (measured on the docs/science.md §9 runs). So the Gram route
 *   - keeps eigenvalues ≥ GRAM_TRUSTED · λ_max (σ ≥ 1e-5 σ_max), where it is accurate,
 *   - treats eigenvalues ≤ GRAM_NOISE · λ_max (σ ≤ 3e-7 σ_max) as exact zeros,
 * and hands anything in between to a full SVD, which resolves singular values down to the
 * cutoff of docs/science.md §6. The one thing it does NOT do: a true singular value between 1e-10 and 3e-7 σ_max that
 * sits in the noise band is dropped instead of stepped on. `polar: svd` always takes the SVD.
 */
const GRAM_TRUSTED = 1e-10;
const GRAM_NOISE = 1e-13;

export type PolarRoute = 'gram' | 'svd' | 'zero';

/**
 * Every matrix of one polar factor, in one kernel arena (so the products read their operands where
 * they were written), for matrices up to short × long: r ≤ c after orienting M wide, and the live
 * part [k, n] (k ≤ r, n ≤ c) or its transpose, whichever is wide, [a, b] with a ≤ b.
 */
function polarLayout({ short, long, area }: ShapeBounds) {
  return {
    M: f64s(area), // M [r, c]
    rowMax: f64s(short), // [r]
    colMax: f64s(long), // [c]
    rows: i32s(short), // the live rows [k]
    cols: i32s(long), // the live columns [n]
    iota: i32s(long), // 0, 1, …: the term indices of the products (kd ≤ b ≤ long)
    sub: f64s(area), // the live part [k, n], scaled
    subT: f64s(area), // its transpose [n, k]
    gram: f64s(short * short), // [a, a]
    values: f64s(short), // its eigenvalues λ_e, ascending [a]
    VT: f64s(short * short), // its eigenvectors as rows, Vᵀ [a, a]
    scratch: f64s(short), // the eigensolver's [a]
    scaledV: f64s(short * short), // [a, a]
    P: f64s(short * short), // [a, a]
    QLive: f64s(area), // U Vᵀ of the wide live part [a, b]
    QLiveT: f64s(area), // its transpose [b, a], when the live part was tall
    Q: f64s(area), // U Vᵀ of M [r, c]
  };
}

/**
 * The kernel arena the polar factor works in, sized once for the largest matrix it will be handed
 * (the Optimizer holds one for its polar layers, so no step sets up an arena); a smaller matrix
 * uses the beginnings of its blocks.
 */
export class PolarWorkspace {
  readonly bounds: ShapeBounds;
  readonly arena: KernelArena;
  readonly blocks: Blocks<ReturnType<typeof polarLayout>>;

  constructor(shapes: readonly { out: number; in: number }[]) {
    this.bounds = shapeBounds(shapes);
    const { arena, blocks } = KernelArena.create(polarLayout(this.bounds));
    this.arena = arena;
    this.blocks = blocks;
    blocks.iota.view.forEach((_, j, iota) => (iota[j] = j));
  }

  /** Throws unless an r × c matrix (either way round) fits. */
  check(r: number, c: number): void {
    checkFits(this.bounds, r, c, 'polar workspace');
  }

  /** X Xᵀ [r, r] of a wide X [r, c] (Newton–Schulz), in this arena's blocks; a fresh array. */
  gramOfRows(X: Float64Array, r: number, c: number): Float64Array {
    this.check(r, c);
    const { sub, subT, gram, iota } = this.blocks;
    return gramOfRowsIn(this.arena, { X: sub, XT: subT, gram, iota }, X, r, c);
  }
}

/**
 * docs/science.md §6: exact polar factor of M [r, c] (row-major); reports which route computed it.
 * method 'gram' tries the Gram route first (see above); 'svd' always factors M itself. `workspace`:
 * one sized for at least this shape (a one-off one by default).
 */
export function polarFactorExact(
  M: Float64Array,
  r: number,
  c: number,
  method: 'gram' | 'svd' = 'gram',
  out?: Float64Array,
  workspace: PolarWorkspace = new PolarWorkspace([{ out: r, in: c }]),
): { Q: Float64Array; route: PolarRoute } {
  if (M.length !== r * c) throw new Error(`polar factor of a ${r} × ${c} matrix handed ${M.length} entries`);
  if (r > c) {
    const { Q, route } = polarFactorExact(transpose(M, r, c), c, r, method, undefined, workspace);
    const Qt = transpose(Q, c, r);
    if (!out) return { Q: Qt, route };
    out.set(Qt);
    return { Q: out, route };
  }
  workspace.check(r, c);
  const Q = out ?? new Float64Array(r * c);
  const { arena, blocks: w } = workspace;
  w.M.view.set(M);
  // Exactly-zero rows and columns stay zero in U Vᵀ; dropping them first makes the Gram route
  // cheaper (pixels that are black in every image give zero columns of W_1's momentum) and keeps
  // known rank deficiency out of the conditioning test below.
  arena.lineMaxAbs(w.M, r, c, w.rowMax, w.colMax);
  const rowMax = w.rowMax.view.subarray(0, r);
  const rowList = liveIndices(rowMax);
  const colList = liveIndices(w.colMax.view.subarray(0, c));
  if (rowList.length === 0) return { Q: Q.fill(0), route: 'zero' };
  const maxAbs = Math.max(...rowMax);
  const k = rowList.length;
  const n = colList.length;
  w.rows.view.set(rowList);
  w.cols.view.set(colList);
  // U Vᵀ does not depend on M's scale; max|entry| = 1 keeps the squares in the Gram matrix (and
  // σ² below) clear of overflow and underflow for a matrix of any size.
  arena.gatherSub(w.sub, w.subT, w.M, c, w.rows, k, w.cols, n, 1 / maxAbs);
  // The live part [k, n] is factored wide, as A [a, b] with a ≤ b: itself, or its transpose when
  // dead columns left it taller than wide (the polar factor of Aᵀ is that of A, transposed). The
  // Gram matrix then has the smaller side, and the SVD gets a matrix of the shape it expects.
  const wide = k <= n;
  const [a, b] = wide ? [k, n] : [n, k];
  const A = wide ? w.sub : w.subT;
  const AT = wide ? w.subT : w.sub;

  let route: PolarRoute = 'svd';
  let spectrum: Spectrum | null = null;
  if (method === 'gram') {
    arena.gram(w.gram, A, AT, w.iota, a, b); // A Aᵀ
    // its eigendecomposition (src/numerics/eigen.ts) in place: λ ascending, Vᵀ
    arena.symmetricEigen(w.gram, w.VT, w.values, w.scratch, a);
    const values = w.values.view.subarray(0, a);
    const lambdaMax = Math.max(...values);
    if (values.every((v) => v >= GRAM_TRUSTED * lambdaMax || v <= GRAM_NOISE * lambdaMax)) {
      spectrum = { values, keepFrom: GRAM_TRUSTED * lambdaMax };
      route = 'gram';
    }
  }
  spectrum ??= svdSpectrum(A.view.subarray(0, a * b), a, b, w.VT.view);
  // (A Aᵀ)^{−1/2} A over the kept eigenvalues: P = Σ_kept v_e v_eᵀ / √λ_e = (V W) Vᵀ [a, a]
  // with W = diag(1/√λ_e, 0 for the dropped), then P · A.
  inverseRootFactors(spectrum.values, w.VT.view, spectrum.keepFrom, a, w.scaledV.view);
  arena.rowCombine(w.P, a, w.VT, w.scaledV, w.iota, a, a);
  arena.rowCombine(w.QLive, b, A, w.P, w.iota, a, a);
  if (!wide) transposeInto(w.QLive.view, a, b, w.QLiveT.view);
  const Qb = w.Q.view.subarray(0, r * c);
  Qb.fill(0);
  arena.scatterSub(w.Q, c, wide ? w.QLive : w.QLiveT, w.rows, k, w.cols, n);
  Q.set(Qb);
  return { Q, route };
}

/** Indices of the positive entries (the live rows or columns, from their max |entry|). */
function liveIndices(lineMax: Float64Array): number[] {
  const live: number[] = [];
  lineMax.forEach((v, i) => {
    if (v > 0) live.push(i);
  });
  return live;
}

/** Eigenvalues λ_e of a k × k Gram matrix (their eigenvectors are the rows of the workspace's VT); those ≥ keepFrom are kept. */
interface Spectrum {
  values: Float64Array;
  keepFrom: number;
}

/**
 * The first factor of P = Σ_{e: λ_e ≥ keepFrom} v_e v_eᵀ / √λ_e = (V W) Vᵀ, the eigenvectors v_e
 * the rows of VT (the columns of V) and W = diag(1/√λ_e) over the kept ones (0 for the others):
 * scaledV = V W [k, k], overwritten. The product with VT sums over e in order, as the formula does.
 */
function inverseRootFactors(lambda: Float64Array, VT: Float64Array, keepFrom: number, k: number, scaledV: Float64Array): void {
  for (let e = 0; e < k; e++) {
    const w = lambda[e]! >= keepFrom ? 1 / Math.sqrt(lambda[e]!) : 0;
    for (let a = 0; a < k; a++) scaledV[a * k + e] = VT[e * k + a]! * w;
  }
}

/**
 * The SVD route: M's singular values and left singular vectors from a backward-stable SVD of Mᵀ
 * (its n × k factor is never formed), then U Vᵀ = Σ_kept u_e u_eᵀ M / σ_e. Each σ_e and u_e is
 * accurate to ε σ_max in absolute terms, so a kept direction with σ_e ≥ 1e-10 σ_max carries a
 * relative error of at most ~ε σ_max/σ_e ≤ 1e-6, and the dropped ones are exactly those below the
 * docs/science.md §6 cutoff. Returned as the spectrum of M Mᵀ (λ = σ², eigenvectors u_e, written as the rows of VT) for inverseRootFactors.
 */
function svdSpectrum(M: Float64Array, k: number, c: number, VT: Float64Array): Spectrum {
  const { s, U } = leftSingular(M, k, c);
  const sMax = Math.max(...s);
  transposeInto(U, k, k, VT);
  return { values: s.map((v) => v * v), keepFrom: (POLAR_RANK_CUTOFF * sMax) ** 2 * (1 + 1e-12) };
}

/** Muon's quintic Newton–Schulz coefficients (Keller Jordan's Muon, `zeropower_via_newtonschulz5`). */
const NS_A = 3.4445;
const NS_B = -4.775;
const NS_C = 2.0315;
const NS_STEPS = 5;

/**
 * docs/science.md §6: Muon's usual approximation of the polar factor: 5 steps of the quintic
 * X ← a X + (b A + c A²) X, A = X Xᵀ, from X = M / ‖M‖_F. It does NOT produce U Vᵀ: the
 * coefficients trade convergence for speed, and singular values land roughly in [0.7, 1.2]; it is
 * also known to stall short of the spectral max-margin. An option, never the default.
 */
export function polarFactorNewtonSchulz(M: Float64Array, r: number, c: number, workspace: PolarWorkspace = new PolarWorkspace([{ out: r, in: c }])): Float64Array {
  if (r > c) return transpose(polarFactorNewtonSchulz(transpose(M, r, c), c, r, workspace), c, r);
  let fro = 0;
  for (let i = 0; i < M.length; i++) fro += M[i]! * M[i]!;
  fro = Math.sqrt(fro);
  let X = new Float64Array(M.length);
  if (fro === 0) return X;
  for (let i = 0; i < M.length; i++) X[i] = M[i]! / fro;
  for (let step = 0; step < NS_STEPS; step++) {
    const A = workspace.gramOfRows(X, r, c); // [r, r]
    const B = new Float64Array(r * r); // b A + c A²
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let a2 = 0;
        for (let l = 0; l < r; l++) a2 += A[i * r + l]! * A[l * r + j]!;
        B[i * r + j] = NS_B * A[i * r + j]! + NS_C * a2;
      }
    }
    const next = new Float64Array(r * c);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) next[i * c + j] = NS_A * X[i * c + j]!;
      for (let l = 0; l < r; l++) {
        const b = B[i * r + l]!;
        for (let j = 0; j < c; j++) next[i * c + j]! += b * X[l * c + j]!;
      }
    }
    X = next;
  }
  return X;
}

/**
 * The symmetric eigenproblem S = V Λ Vᵀ on flat row-major Float64Arrays, by the textbook route:
 * Householder reduction to tridiagonal form with the transformations accumulated, then the QL
 * algorithm with implicit Wilkinson-type shifts on the tridiagonal matrix (the EISPACK pair
 * tred2 / tql2; Wilkinson & Reinsch, "Linear Algebra", Handbook for Automatic Computation II).
 *
 * It performs the same floating-point operations in the same order as ml-matrix's
 * EigenvalueDecomposition for a symmetric input, so the two agree bit for bit (the tests check
 * this); what differs is only the storage: one flat array the solver owns and reuses, instead of an
 * array of row arrays, which is where the library spends most of its time on the 50 × 50 Gram
 * matrices of the polar factor (docs/performance.md).
 *
 * Storage: `Z[i·n + k]` holds V(k, i), i.e. row i of Z is column i of V. The hot loops of both
 * phases run along a column of V, which is then one contiguous row of Z.
 */
export class SymmetricEigenSolver {
  /** Eigenvalues in ascending order, after solve. [n] */
  readonly values: Float64Array;
  /** Eigenvectors as the ROWS of this [n, n] array (row e belongs to values[e]), after solve. */
  readonly vectorRows: Float64Array;
  private readonly offDiagonal: Float64Array; // e: the tridiagonal matrix's off-diagonal, then scratch

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`SymmetricEigenSolver: size must be a positive integer, got ${n}`);
    this.values = new Float64Array(n);
    this.vectorRows = new Float64Array(n * n);
    this.offDiagonal = new Float64Array(n);
  }

  /**
   * Decompose the symmetric S [n, n] (row-major; only symmetric inputs are meaningful, and S is
   * read as given, not symmetrized). Fills `values` (ascending) and `vectorRows`.
   */
  solve(S: Float64Array): void {
    const { n, vectorRows: Z } = this;
    if (S.length < n * n) throw new Error(`SymmetricEigenSolver.solve: expected ${n * n} entries, got ${S.length}`);
    // Z = Sᵀ (= S for a symmetric S): Z[i·n + k] = S[k, i] is V(k, i) of the V = S start.
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) Z[i * n + k] = S[k * n + i]!;
    householderTridiagonalize(n, Z, this.values, this.offDiagonal);
    implicitQl(n, Z, this.values, this.offDiagonal);
  }

  /** The eigenvectors as the COLUMNS of V [n, n] row-major (the layout of symmetricEigen), into `out`. */
  vectorsAsColumns(out: Float64Array = new Float64Array(this.n * this.n)): Float64Array {
    const { n, vectorRows: Z } = this;
    for (let a = 0; a < n; a++) for (let e = 0; e < n; e++) out[a * n + e] = Z[e * n + a]!;
    return out;
  }
}

/** √(a² + b²) without overflow or destructive underflow, as the reference implementation forms it. */
function hypot(a: number, b: number): number {
  const aa = Math.abs(a);
  const ab = Math.abs(b);
  if (aa > ab) {
    const r = b / a;
    return aa * Math.sqrt(1 + r * r);
  }
  if (b !== 0) {
    const r = a / b;
    return ab * Math.sqrt(1 + r * r);
  }
  return 0;
}

/**
 * Householder tridiagonalization (tred2). On entry Z holds S (Z[i·n + k] = S[k, i]); on exit it
 * holds the orthogonal Q with Qᵀ S Q tridiagonal (Z[i·n + k] = Q(k, i)), d its diagonal and e its
 * off-diagonal (e[i] couples i − 1 and i; e[0] = 0).
 *
 * Step i (from the last row up) annihilates row i left of the subdiagonal with the reflector
 * P = I − u uᵀ / H, u built from that row scaled by its ℓ1 norm (so the squares neither overflow nor
 * underflow), and applies it from both sides as the rank-2 update A ← A − u wᵀ − w uᵀ.
 */
function householderTridiagonalize(n: number, Z: Float64Array, d: Float64Array, e: Float64Array): void {
  const last = (n - 1) * n;
  for (let j = 0; j < n; j++) d[j] = Z[last + j]!;

  for (let i = n - 1; i > 0; i--) {
    const rowI = i * n;
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);

    if (scale === 0) {
      // Row i is already reduced: nothing to reflect.
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = Z[(i - 1) * n + j]!;
        Z[rowI + j] = 0;
        Z[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      const f0 = d[i - 1]!;
      const g0 = f0 > 0 ? -Math.sqrt(h) : Math.sqrt(h);
      e[i] = scale * g0;
      h -= f0 * g0;
      d[i - 1] = f0 - g0; // d[0..i) is now u
      for (let j = 0; j < i; j++) e[j] = 0;

      // e ← A u over the leading i × i block (A symmetric: only its lower half is read)
      for (let j = 0; j < i; j++) {
        const rowJ = j * n;
        const f = d[j]!;
        Z[rowI + j] = f;
        let g = e[j]! + Z[rowJ + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += Z[rowJ + k]! * d[k]!;
          e[k]! += Z[rowJ + k]! * f;
        }
        e[j] = g;
      }
      // p = A u / H, K = uᵀ p / 2H, w = p − K u (in e)
      let f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      // A ← A − u wᵀ − w uᵀ on the lower half
      for (let j = 0; j < i; j++) {
        const rowJ = j * n;
        const fj = d[j]!;
        const gj = e[j]!;
        for (let k = j; k <= i - 1; k++) Z[rowJ + k]! -= fj * e[k]! + gj * d[k]!;
        d[j] = Z[rowJ + i - 1]!;
        Z[rowJ + i] = 0;
      }
    }
    d[i] = h;
  }

  // Accumulate the reflectors into Q, from the first one on.
  for (let i = 0; i < n - 1; i++) {
    const rowI = i * n;
    const rowNext = (i + 1) * n;
    Z[rowI + n - 1] = Z[rowI + i]!;
    Z[rowI + i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = Z[rowNext + k]! / h;
      for (let j = 0; j <= i; j++) {
        const rowJ = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += Z[rowNext + k]! * Z[rowJ + k]!;
        for (let k = 0; k <= i; k++) Z[rowJ + k]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) Z[rowNext + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = Z[j * n + n - 1]!;
    Z[j * n + n - 1] = 0;
  }
  Z[last + n - 1] = 1;
  e[0] = 0;
}

/**
 * The QL algorithm with implicit shifts on the tridiagonal (d, e) (tql2), rotating Z's rows along:
 * on exit d holds the eigenvalues in ascending order and row e of Z the matching eigenvector.
 * A sub-diagonal entry counts as zero below ε · (the largest |d_l| + |e_l| seen so far), which
 * splits the matrix; each block is swept with Givens rotations from the bottom up, the shift from
 * the leading 2 × 2 (Wilkinson & Reinsch's variant, with the shift accumulated in f).
 */
function implicitQl(n: number, Z: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;

  let f = 0;
  let tst1 = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n && !(Math.abs(e[m]!) <= eps * tst1)) m++;

    if (m > l) {
      do {
        // Shift from the 2 × 2 at l.
        const g0 = d[l]!;
        let p = (d[l + 1]! - g0) / (2 * e[l]!);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g0 - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;

        // Implicit QL sweep from m − 1 up to l.
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const g = c * e[i]!;
          h = c * p;
          r = hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          // Rotate rows i and i + 1 of Z (columns i and i + 1 of V).
          const rowA = i * n;
          const rowB = rowA + n;
          for (let k = 0; k < n; k++) {
            const zb = Z[rowB + k]!;
            const za = Z[rowA + k]!;
            Z[rowB + k] = s * za + c * zb;
            Z[rowA + k] = c * za - s * zb;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }

  // Selection sort into ascending order, swapping the matching rows of Z.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i]!;
    for (let j = i + 1; j < n; j++) {
      if (d[j]! < p) {
        k = j;
        p = d[j]!;
      }
    }
    if (k !== i) {
      d[k] = d[i]!;
      d[i] = p;
      const rowI = i * n;
      const rowK = k * n;
      for (let j = 0; j < n; j++) {
        const t = Z[rowI + j]!;
        Z[rowI + j] = Z[rowK + j]!;
        Z[rowK + j] = t;
      }
    }
  }
}

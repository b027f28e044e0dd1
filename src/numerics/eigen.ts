import { f64s, KernelArena, type Blocks } from './wasm/kernels.js';

/**
 * The symmetric eigenproblem S = V Λ Vᵀ on flat row-major Float64Arrays, by the textbook route:
 * Householder reduction to tridiagonal form with the transformations accumulated, then the QL
 * algorithm with implicit Wilkinson-type shifts on the tridiagonal matrix (the EISPACK pair
 * tred2 / tql2; Wilkinson & Reinsch, "Linear Algebra", Handbook for Automatic Computation II),
 * then the eigenvalues sorted ascending.
 *
 * It runs in the WebAssembly kernel (KernelArena.symmetricEigen, src/numerics/wasm/kernels.wat)
 * and performs the same floating-point operations in the same order as ml-matrix's
 * EigenvalueDecomposition for a symmetric input, so the two agree bit for bit (the tests check
 * this): sums run one term at a time in the reference's order, and only the element-wise updates
 * (the rank-2 updates, the Givens rotations of two rows of V) go two SIMD lanes at a time. What
 * differs is speed: one flat memory the solver owns and reuses, instead of an array of row arrays.
 *
 * Storage: row e of `vectorRows` is the eigenvector of values[e] (vectorRows = Vᵀ): the hot
 * loops run along a column of V, which is one contiguous row there.
 */
export class SymmetricEigenSolver {
  /** Eigenvalues in ascending order, after solve. [n] */
  readonly values: Float64Array;
  /** Eigenvectors as the ROWS of this [n, n] array (row e belongs to values[e]), after solve. */
  readonly vectorRows: Float64Array;
  private readonly arena: KernelArena;
  private readonly blocks: Blocks<ReturnType<typeof eigenLayout>>;

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`SymmetricEigenSolver: size must be a positive integer, got ${n}`);
    const { arena, blocks } = KernelArena.create(eigenLayout(n));
    this.arena = arena;
    this.blocks = blocks;
    this.values = blocks.d.view;
    this.vectorRows = blocks.Z.view;
  }

  /**
   * Decompose the symmetric S [n, n] (row-major; only symmetric inputs are meaningful, and S is
   * read as given, not symmetrized). Fills `values` (ascending) and `vectorRows`.
   */
  solve(S: Float64Array): void {
    const { n, blocks: b } = this;
    if (S.length < n * n) throw new Error(`SymmetricEigenSolver.solve: expected ${n * n} entries, got ${S.length}`);
    b.S.view.set(S.subarray(0, n * n));
    this.arena.symmetricEigen(b.S, b.Z, b.d, b.e, n);
  }

  /** The eigenvectors as the COLUMNS of V [n, n] row-major (ml-matrix's eigenvectorMatrix layout), into `out`. */
  vectorsAsColumns(out: Float64Array = new Float64Array(this.n * this.n)): Float64Array {
    const { n, vectorRows: Z } = this;
    for (let a = 0; a < n; a++) for (let e = 0; e < n; e++) out[a * n + e] = Z[e * n + a]!;
    return out;
  }
}

/** The solver's blocks: S [n, n] copied in, Z = Vᵀ [n, n], d = Λ [n], e [n] scratch. */
function eigenLayout(n: number) {
  return { S: f64s(n * n), Z: f64s(n * n), d: f64s(n), e: f64s(n) };
}

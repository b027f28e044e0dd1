import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { GramWorkspace } from '../../src/numerics/linalg.js';
import { KERNELS_WASM_BASE64 } from '../../src/numerics/wasm/kernels.wasm.js';
import { f64s, i32s, KernelArena, sparseRows, type F64Block } from '../../src/numerics/wasm/kernels.js';
import { assembleKernels } from '../../scripts/wasm-assemble.js';

/** Deterministic test values with zeros, negatives and a spread of magnitudes. */
const values = (length: number, seed: number) =>
  Float64Array.from({ length }, (_, i) => (i % 7 === 3 ? 0 : Math.sin(seed + i * 1.618) * 10 ** ((i % 5) - 2)));

/** The oracle: the textbook triple loop, summing in the same order as the kernel (over k, left to right). */
function naiveProduct(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < c; j++) {
      let acc = 0;
      for (let l = 0; l < k; l++) acc += A[i * k + l]! * B[l * c + j]!;
      out[i * c + j] = acc;
    }
  }
  return out;
}

test('the committed kernel bytes are exactly what kernels.wat assembles to (run scripts/build-wasm.ts after editing it)', async () => {
  const wat = readFileSync(new URL('../../src/numerics/wasm/kernels.wat', import.meta.url), 'utf8');
  const bytes: Uint8Array = await assembleKernels(wat);
  assert.equal(Buffer.from(bytes).toString('base64'), KERNELS_WASM_BASE64);
});

/** A · B [r, c] of A [r, k] and B [k, c] by the kernel's dense rowCombine, in an arena of its own. */
function kernelProduct(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const { arena, blocks } = KernelArena.create({ A: f64s(r * k), B: f64s(k * c), out: f64s(r * c), iota: i32s(k) });
  blocks.A.view.set(A);
  blocks.B.view.set(B);
  blocks.iota.view.forEach((_, j, iota) => (iota[j] = j));
  arena.rowCombine(blocks.out, c, blocks.B, blocks.A, blocks.iota, r, k);
  return blocks.out.view.slice();
}

test('dense products equal the textbook loop bit for bit, for every column blocking (m = 1 … 37, and 50, 63, 100, 130)', () => {
  for (const [r, k] of [[1, 1], [3, 5], [7, 16]] as const) {
    for (const c of [...Array.from({ length: 37 }, (_, j) => j + 1), 50, 63, 100, 130]) {
      const A = values(r * k, r + c);
      const B = values(k * c, 3 * k + c);
      // Same terms added in the same order: identical, not merely close.
      assert.deepEqual(kernelProduct(A, B, r, k, c), naiveProduct(A, B, r, k, c), `r=${r} k=${k} c=${c}`);
    }
  }
});

test('a GramWorkspace forms X Xᵀ in the kernel, bit for bit the full product; the Gram matrix is exactly symmetric', () => {
  const c = 60;
  const workspace = new GramWorkspace([{ out: 50, in: c }]);
  // rows past the first start right of column 0 and get the entries left of them mirrored (KernelArena.gram)
  for (const r of [1, 2, 3, 6, 16, 17, 33, 50]) {
    const A = values(r * c, r);
    const At = Float64Array.from({ length: c * r }, (_, q) => A[(q % r) * c + Math.floor(q / r)]!);
    const G = workspace.gramOfRows(A, r, c);
    assert.deepEqual(G, naiveProduct(A, At, r, c, r), `r=${r}`);
    assert.deepEqual(G, kernelProduct(A, At, r, c, r), `r=${r}: the full product, bit for bit`);
    for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) assert.equal(G[a * r + b], G[b * r + a]);
  }
  assert.throws(() => workspace.gramOfRows(values(51 * 60, 1), 51, 60), /a Gram workspace for shapes up to 50 × 60 \(3000 entries\) cannot take a 51 × 60 matrix/);
  assert.throws(() => workspace.gramOfRows(values(12, 1), 4, 3), /gramOfRows takes a wide matrix, got 4 × 3/);
});

test('sparse rows (CSR) equal the dense product with the missing terms as zeros, empty rows included', () => {
  // rows: 0 has three terms, 1 none, 2 one, 3 four (a source row used twice)
  const start = Int32Array.from([0, 3, 3, 4, 8]);
  const index = Int32Array.from([4, 0, 2, 1, 3, 3, 0, 4]);
  const value = Float64Array.from([0.5, -2, 1.25, 3, 1e-3, 7, -0.75, 2]);
  const nSrc = 5;
  for (const m of [1, 2, 3, 10, 12, 13, 16, 17, 24, 26, 50, 51]) {
    const src = values(nSrc * m, m);
    const { arena, blocks } = KernelArena.create({ A: sparseRows({ start, index, value }), src: f64s(nSrc * m), out: f64s(4 * m) });
    assert.equal(blocks.A.maxIndex, 4);
    blocks.src.view.set(src);
    blocks.out.view.fill(Number.NaN); // every element must be written, the empty row's with zeros
    arena.rowCombineSparse(blocks.out, m, blocks.src, blocks.A);
    const expected = new Float64Array(4 * m);
    for (let row = 0; row < 4; row++) {
      for (let q = start[row]!; q < start[row + 1]!; q++) {
        for (let j = 0; j < m; j++) expected[row * m + j]! += value[q]! * src[index[q]! * m + j]!;
      }
    }
    assert.deepEqual(blocks.out.view, expected, `m=${m}`);
  }
});

test('an arena holds exactly the blocks of its layout, nested as declared, zero-filled and apart', () => {
  const { arena, blocks } = KernelArena.create({ a: f64s(3), list: [f64s(5), null, i32s(7)], rec: { b: f64s(0) } });
  assert.equal(blocks.a.view.length, 3);
  assert.equal(blocks.list[1], null);
  assert.equal(blocks.list[2]!.view.length, 7);
  assert.equal(blocks.rec.b.view.length, 0);
  const all = [blocks.a, blocks.list[0]!, blocks.list[2]!];
  for (const b of all) assert.ok(b.view.every((v) => v === 0));
  // 16-byte aligned, in order, none overlapping, all inside the memory
  for (let i = 0; i < all.length; i++) {
    assert.equal(all[i]!.ptr % 16, 0);
    if (i > 0) assert.ok(all[i]!.ptr >= all[i - 1]!.ptr + all[i - 1]!.view.byteLength);
    assert.ok(all[i]!.ptr + all[i]!.view.byteLength <= arena.capacity);
  }
  assert.throws(() => KernelArena.create({ a: f64s(-1) }), /cannot hold a block of -1 elements/);
  assert.throws(() => KernelArena.create([i32s(2.5)]), /cannot hold a block of 2.5 elements/);
});

test('sparse rows are checked once, when copied in: offsets from 0 to nnz, never decreasing, no negative index', () => {
  const make = (start: number[], index: number[], value = index.map(() => 1)) =>
    KernelArena.create({ A: sparseRows({ start: Int32Array.from(start), index: Int32Array.from(index), value: Float64Array.from(value) }) });
  assert.equal(make([0, 0, 0], []).blocks.A.maxIndex, -1);
  assert.throws(() => make([], []), /start is empty/);
  assert.throws(() => make([0, 2], [1, 2], [1]), /1 values for 2 indices/);
  assert.throws(() => make([1, 2], [1, 2]), /start runs from 1 to 2, expected 0 to 2/);
  assert.throws(() => make([0, 3], [1, 2]), /start runs from 0 to 3, expected 0 to 2/);
  assert.throws(() => make([0, 2, 1, 3], [1, 2, 0]), /start decreases after row 1/);
  assert.throws(() => make([0, 2], [1, -4]), /term 1 reads source row -4/);
});

test('every kernel entry point refuses arguments that do not fit, naming the kernel, its dimensions and the block, before touching memory', () => {
  const { arena, blocks: b } = KernelArena.create({
    A: f64s(2 * 5), // [2, 5]
    src: f64s(5 * 3), // [5, 3]
    out: f64s(2 * 3),
    iota: i32s(5),
    short: i32s(4),
    v1: f64s(1),
    v4: f64s(4),
    v5: f64s(5),
    S: sparseRows({ start: Int32Array.from([0, 1, 2]), index: Int32Array.from([0, 6]), value: Float64Array.from([1, 1]) }), // reads source rows 0 and 6
  });
  const other = KernelArena.create({ x: f64s(6), S: sparseRows({ start: Int32Array.from([0]), index: new Int32Array(0), value: new Float64Array(0) }) });
  b.A.view.set(values(10, 1));
  b.src.view.set(values(15, 2));
  b.iota.view.set([0, 1, 2, 3, 4]);
  b.short.view.set([0, 1, 2, 3]);
  arena.rowCombine(b.out, 3, b.src, b.A, b.iota, 2, 5); // fits
  assert.deepEqual(b.out.view, naiveProduct(b.A.view, b.src.view, 2, 5, 3));
  b.out.view.fill(7); // no refused call below may write here

  assert.throws(() => arena.rowCombine(b.out, 3, b.src, b.A, b.short, 2, 5), /^KernelArgumentError: kernel rowCombine\(m 3, nrows 2, kd 5\): idx holds 4 indices, needs kd = 5$/);
  assert.throws(() => arena.rowCombine(b.out, 3, b.src, b.A, b.iota, 3, 5), /rowCombine\(m 3, nrows 3, kd 5\): A holds 10 doubles, needs nrows·kd = 15/);
  assert.throws(() => arena.rowCombine(b.out, 4, b.src, b.A, b.iota, 2, 5), /src holds 15 doubles, needs m·\(largest idx \+ 1\) = 20/);
  b.short.view[2] = 9;
  assert.throws(() => arena.rowCombine(b.out, 3, b.src, b.A, b.short, 2, 4), /src holds 15 doubles, needs m·\(largest idx \+ 1\) = 30/);
  b.short.view[2] = -1;
  assert.throws(() => arena.rowCombine(b.out, 3, b.src, b.A, b.short, 2, 4), /idx\[2\] = -1 is negative/);
  assert.throws(() => arena.rowCombine(b.v4, 3, b.src, b.A, b.iota, 2, 5), /out holds 4 doubles, needs nrows·m = 6/);
  assert.throws(() => arena.rowCombine(b.out, 3, other.blocks.x, b.A, b.iota, 2, 1), /src is not a block of this kernel arena/);
  assert.throws(() => arena.rowCombine(b.src, 3, b.src, b.A, b.iota, 1, 5), /out overlaps src/);
  assert.throws(() => arena.rowCombine(b.out, 3.5, b.src, b.A, b.iota, 2, 5), /m = 3.5 is not a count/);
  assert.throws(() => arena.rowCombine(b.out, 3, b.src, b.A, b.iota, -1, 5), /nrows = -1 is not a count/);
  const forged = { ptr: b.src.ptr + 8, view: b.src.view };
  assert.throws(() => arena.rowCombine(b.out, 3, forged, b.A, b.iota, 2, 5), /src is not a block of this kernel arena/);

  arena.rowCombineSparse(b.v4, 2, b.src, b.S); // fits: source row 6 of [·, 2] ends at 14 ≤ 15
  assert.throws(() => arena.rowCombineSparse(b.out, 3, b.src, b.S), /^KernelArgumentError: kernel rowCombineSparse\(m 3, rows 2, nnz 2\): src holds 15 doubles, needs m·\(largest index \+ 1\) = 21$/);
  assert.throws(() => arena.rowCombineSparse(b.v1, 1, b.src, b.S), /out holds 1 doubles, needs rows·m = 2/);
  assert.throws(() => arena.rowCombineSparse(b.out, 1, b.src, other.blocks.S), /A is not a block of this kernel arena/);

  assert.throws(() => arena.gram(b.v4, b.A, b.v5, b.iota, 2, 5), /^KernelArgumentError: kernel gram\(k 2, n 5\): AT holds 5 doubles, needs k·\(largest iota \+ 1\) = 10$/);
  assert.throws(() => arena.gram(b.out, b.A, b.src, b.short, 2, 5), /kernel gram\(k 2, n 5\): iota holds 4 indices, needs n = 5/);
  assert.throws(() => arena.gram(b.v1, b.A, b.src, b.iota, 2, 5), /out holds 1 doubles, needs k·k = 4/);

  assert.throws(() => arena.ema(b.v4, b.v5, 1, 1), /^KernelArgumentError: kernel ema\(n 4\): g holds 5 doubles, expected n = 4$/);
  assert.throws(() => arena.rmsEma(b.v5, b.v4, 1, 1), /kernel rmsEma\(n 5\): g holds 4 doubles/);
  assert.throws(() => arena.scaleInto(b.v4, b.v5, 2), /kernel scaleInto\(n 5\): out holds 4 doubles/);
  assert.throws(() => arena.sign(b.v4, b.v5), /kernel sign\(n 5\): out holds 4 doubles/);
  assert.throws(() => arena.adamDiv(b.v4, b.v4, b.v5, 1), /kernel adamDiv\(n 4\): r holds 5 doubles/);
  assert.throws(() => arena.descend(b.v4, b.v5, 1), /kernel descend\(n 4\): d holds 5 doubles/);
  assert.throws(() => arena.maxAbs(other.blocks.x), /kernel maxAbs\(n 6\): x is not a block of this kernel arena/);
  assert.throws(() => arena.sumSquares(other.blocks.x), /kernel sumSquares\(n 6\): x is not a block/);

  arena.gatherColumns(b.src, b.A, 2, 5, b.iota); // fits: W [2, 5], dst [5, 2] in a block of 15
  assert.throws(() => arena.gatherColumns(b.src, b.A, 2, 4, b.iota), /^KernelArgumentError: kernel gatherColumns\(m 2, d 4, nidx 5\): cols holds index 4, not below d = 4$/);
  assert.throws(() => arena.gatherColumns(b.v4, b.A, 2, 5, b.iota), /dst holds 4 doubles, needs d·m = 10/);
  assert.throws(() => arena.scatterColumns(b.A, b.v4, 2, 5, b.iota, 1), /kernel scatterColumns\(m 2, d 5, nidx 5\): src holds 4 doubles, needs d·m = 10/);
  assert.throws(() => arena.scatterColumns(b.v4, b.src, 2, 5, b.iota, 1), /W holds 4 doubles, needs m·d = 10/);

  assert.throws(() => arena.lineMaxAbs(b.A, 2, 5, b.v4, b.v4), /kernel lineMaxAbs\(r 2, c 5\): colMax holds 4 doubles, needs c = 5/);
  assert.throws(() => arena.lineMaxAbs(b.A, 3, 5, b.v4, b.v5), /M holds 10 doubles, needs r·c = 15/);
  assert.throws(() => arena.lineMaxAbs(b.A, 2, 4, b.v4, b.v4), /rowMax overlaps colMax/);

  // M [2, 5]: rows 0, 1 and columns 0 … 4 exist
  assert.throws(() => arena.gatherSub(b.v4, b.v5, b.A, 5, b.iota, 3, b.iota, 1, 1), /^KernelArgumentError: kernel gatherSub\(c 5, k 3, n 1\): M holds 10 doubles, needs c·\(largest row \+ 1\) = 15$/);
  assert.throws(() => arena.gatherSub(b.v4, b.v5, b.A, 4, b.iota, 1, b.iota, 5, 1), /cols holds index 4, not below c = 4/);
  assert.throws(() => arena.gatherSub(b.v4, b.v5, b.A, 5, b.iota, 2, b.iota, 3, 1), /sub holds 4 doubles, needs k·n = 6/);
  assert.throws(() => arena.gatherSub(b.v4, b.v5, b.A, 5, b.iota, 1, b.iota, 6, 1), /cols holds 5 indices, needs n = 6/);
  assert.throws(() => arena.scatterSub(b.A, 5, b.v4, b.iota, 2, b.iota, 3), /^KernelArgumentError: kernel scatterSub\(c 5, k 2, n 3\): S holds 4 doubles, needs k·n = 6$/);
  assert.throws(() => arena.scatterSub(b.A, 5, b.v4, b.iota, 3, b.iota, 1), /Q holds 10 doubles, needs c·\(largest row \+ 1\) = 15/);
  assert.throws(() => arena.scatterSub(b.out, 3, b.v4, b.iota, 2, b.iota, 4), /cols holds index 3, not below c = 3/);

  // S [2, 2] in v4, Z [2, 2] in out's first 4, d and e in v1 / v5
  assert.throws(() => arena.symmetricEigen(b.v4, b.out, b.v1, b.v5, 2), /^KernelArgumentError: kernel symmetricEigen\(n 2\): d holds 1 doubles, needs n = 2$/);
  assert.throws(() => arena.symmetricEigen(b.v4, b.v4, b.v5, b.A, 2), /Z overlaps S/);
  assert.throws(() => arena.symmetricEigen(b.v1, b.out, b.v4, b.v5, 2), /S holds 1 doubles, needs n·n = 4/);

  assert.throws(() => arena.householderR(b.A, 2, 5, b.v5), /^KernelArgumentError: kernel householderR\(m 2, n 5\): the matrix must be at least as tall as wide$/);
  assert.throws(() => arena.householderR(b.A, 5, 3, b.v5), /cols holds 10 doubles, needs n·m = 15/);
  assert.throws(() => arena.householderR(b.src, 5, 3, b.v1), /rdiag holds 1 doubles, needs n = 3/);

  assert.ok(b.out.view.every((v) => v === 7), 'a refused call wrote into out');
});

/** Blocks of one arena filled with the given arrays. */
function blocksOf(...arrays: Float64Array[]) {
  const { arena, blocks } = KernelArena.create(arrays.map((a) => f64s(a.length)));
  blocks.forEach((b, i) => b.view.set(arrays[i]!));
  return { arena, blocks };
}

/** Test vectors: signs, zeros of both signs, tiny and huge magnitudes; odd and even lengths. */
function mixed(length: number, seed: number): Float64Array {
  const x = values(length, seed);
  if (length > 5) {
    x[1] = -0;
    x[4] = 1e-300;
    x[5] = -1e300;
  }
  return x;
}

test('elementwise kernels equal their JavaScript definitions bit for bit (ema, rmsEma, scaleInto, sign, adamDiv, descend), any length', () => {
  for (const n of [0, 1, 2, 7, 50, 51]) {
    const m0 = mixed(n, 1);
    const g = mixed(n, 2);
    const r0 = m0.map(Math.abs);
    const [ca, cb] = [0.9, 0.1 * Math.E];

    const { arena, blocks } = blocksOf(m0, g, r0, new Float64Array(n));
    const [m, gb, r, out] = blocks as [F64Block, F64Block, F64Block, F64Block];
    const wantM = m0.map((v, k) => ca * v + cb * g[k]!);
    const maxM = arena.ema(m, gb, ca, cb);
    assert.deepEqual(m.view, wantM, `ema n=${n}`);
    assert.equal(maxM, wantM.reduce((a, v) => Math.max(a, Math.abs(v)), 0));

    const wantR = r0.map((v, k) => {
      const x = ca * v;
      const y = cb * Math.abs(g[k]!);
      const big = Math.max(x, y);
      if (big === 0) return 0;
      const q = Math.min(x, y) / big;
      return big * Math.sqrt(1 + q * q);
    });
    const maxR = arena.rmsEma(r, gb, ca, cb);
    assert.deepEqual(r.view, wantR, `rmsEma n=${n}`);
    assert.equal(maxR, wantR.reduce((a, v) => Math.max(a, v), 0));

    arena.scaleInto(out, gb, 0.37);
    assert.deepEqual(out.view, g.map((v) => v * 0.37), `scaleInto n=${n}`);

    arena.sign(out, gb);
    // sign(-0) is +0 here (Math.sign gives -0): the same step, the same norms
    assert.deepEqual([...out.view].map((v) => v + 0), [...g].map((v) => Math.sign(v) + 0), `sign n=${n}`);

    arena.adamDiv(out, gb, r, 2.5);
    assert.deepEqual(out.view, g.map((v, k) => (r.view[k]! > 0 ? (v / r.view[k]!) * 2.5 : 0)), `adamDiv n=${n}`);

    const w0 = out.view.slice();
    arena.descend(out, gb, 0.01);
    assert.deepEqual(out.view, w0.map((w, k) => w - 0.01 * g[k]!), `descend n=${n}`);
  }
});

test('sumSquares keeps one partial sum per lane (the oracle sums even and odd indices apart); NaN: sign keeps it, maxima skip it, adamDiv gives 0 where r is 0 or NaN', () => {
  for (const n of [0, 1, 2, 9, 50]) {
    const x = mixed(n, 3).map((v) => (Math.abs(v) > 1e100 || Math.abs(v) < 1e-100 ? 0.5 : v));
    let even = 0;
    let odd = 0;
    for (let k = 0; k + 1 < n; k += 2) {
      even += x[k]! * x[k]!;
      odd += x[k + 1]! * x[k + 1]!;
    }
    const want = even + odd + (n % 2 === 1 ? x[n - 1]! * x[n - 1]! : 0);
    const { arena, blocks } = blocksOf(x);
    assert.equal(arena.sumSquares(blocks[0]!), want, `n=${n}`);
  }
  const g = Float64Array.from([Number.NaN, 2, -3, Number.NaN, 0]);
  const r = Float64Array.from([1, 0, Number.NaN, 2, 4]);
  const { arena, blocks } = blocksOf(g, r, new Float64Array(5), g.slice());
  const [gb, rb, out, m] = blocks as [F64Block, F64Block, F64Block, F64Block];
  arena.sign(out, gb);
  assert.deepEqual([...out.view], [Number.NaN, 1, -1, Number.NaN, 0]);
  assert.equal(arena.ema(m, gb, 1, 0), 3, 'NaN is not a maximum');
  arena.adamDiv(out, gb, rb, 1);
  assert.deepEqual([...out.view], [Number.NaN, 0, 0, Number.NaN, 0]);
});

test('gatherColumns / scatterColumns move the listed columns of W [m, d] to and from rows of Wᵀ and leave the rest alone; maxAbs skips NaN', () => {
  for (const [m, d] of [[1, 1], [3, 7], [50, 13]] as const) {
    const W = values(m * d, m + d);
    const cols = Int32Array.from({ length: d }, (_, j) => j).filter((j) => j % 3 !== 1);
    const { arena, blocks } = KernelArena.create({ w: f64s(m * d), t: f64s(d * m), idx: i32s(cols.length), back: f64s(m * d) });
    const { w, t, idx, back } = blocks;
    w.view.set(W);
    t.view.fill(-7);
    idx.view.set(cols);
    arena.gatherColumns(t, w, m, d, idx);
    for (let p = 0; p < d; p++) {
      for (let k = 0; k < m; k++) assert.equal(t.view[p * m + k], cols.includes(p) ? W[k * d + p] : -7, `gather m=${m} d=${d} p=${p} k=${k}`);
    }
    back.view.fill(5);
    arena.scatterColumns(back, t, m, d, idx, 0.5);
    for (let k = 0; k < m; k++) {
      for (let p = 0; p < d; p++) assert.equal(back.view[k * d + p], cols.includes(p) ? W[k * d + p]! * 0.5 : 5, `scatter m=${m} d=${d}`);
    }
    assert.equal(arena.maxAbs(w), W.reduce((a, v) => Math.max(a, Math.abs(v)), 0));
  }
  const { arena, blocks } = blocksOf(Float64Array.from([Number.NaN, -3, 2]));
  assert.equal(arena.maxAbs(blocks[0]!), 3);
});

test('lineMaxAbs gives every row\'s and column\'s max |entry|; gatherSub / scatterSub move a [rows, cols] submatrix (and its transpose) out and back', () => {
  for (const [r, c] of [[1, 1], [4, 9], [5, 16]] as const) {
    const M = values(r * c, r * c);
    const rowList = Array.from({ length: r }, (_, i) => i).filter((i) => i % 2 === 0);
    const colList = Array.from({ length: c }, (_, j) => j).filter((j) => j % 3 !== 2);
    const [k, n] = [rowList.length, colList.length];
    const { arena, blocks } = KernelArena.create({
      Mb: f64s(r * c),
      rowMax: f64s(r),
      colMax: f64s(c),
      rows: i32s(k),
      cols: i32s(n),
      sub: f64s(k * n),
      subT: f64s(n * k),
      Q: f64s(r * c),
    });
    const { Mb, rowMax, colMax, rows, cols, sub, subT, Q } = blocks;
    Mb.view.set(M);
    colMax.view.fill(99); // overwritten, not maxed with
    arena.lineMaxAbs(Mb, r, c, rowMax, colMax);
    for (let i = 0; i < r; i++) assert.equal(rowMax.view[i], Math.max(...M.subarray(i * c, (i + 1) * c).map(Math.abs)), `row ${i}`);
    for (let j = 0; j < c; j++) assert.equal(colMax.view[j], Math.max(...Array.from({ length: r }, (_, i) => Math.abs(M[i * c + j]!))), `col ${j}`);

    rows.view.set(rowList);
    cols.view.set(colList);
    arena.gatherSub(sub, subT, Mb, c, rows, k, cols, n, 0.25);
    rowList.forEach((i, a) =>
      colList.forEach((j, b) => {
        assert.equal(sub.view[a * n + b], M[i * c + j]! * 0.25);
        assert.equal(subT.view[b * k + a], M[i * c + j]! * 0.25);
      }),
    );
    Q.view.fill(3);
    arena.scatterSub(Q, c, sub, rows, k, cols, n);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        const inside = rowList.includes(i) && colList.includes(j);
        assert.equal(Q.view[i * c + j], inside ? M[i * c + j]! * 0.25 : 3, `Q[${i}, ${j}]`);
      }
    }
  }
});

test('householderR: the triangular factor of ml-matrix\'s QrDecomposition, bit for bit (tall shapes, a zero column, dependent columns)', () => {
  for (const [m, n] of [[1, 1], [3, 1], [7, 3], [9, 9], [51, 10], [522, 50]] as const) {
    for (const variant of ['random', 'zero column', 'dependent'] as const) {
      // cols = Bᵀ [n, m]: row j is column j of the tall B [m, n]
      const cols = values(n * m, m + n).map((v, k) => (k % 3 === 0 ? 0 : v));
      if (variant === 'zero column') cols.fill(0, 0, m);
      if (variant === 'dependent' && n > 1) cols.copyWithin(m, 0, m);
      const B = new Matrix(m, n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) B.set(i, j, cols[j * m + i]!);
      const R = new QrDecomposition(B).upperTriangularMatrix;
      const { arena, blocks } = KernelArena.create({ cols: f64s(n * m), rdiag: f64s(n) });
      blocks.cols.view.set(cols);
      arena.householderR(blocks.cols, m, n, blocks.rdiag);
      for (let i = 0; i < n; i++) {
        assert.ok(Object.is(blocks.rdiag.view[i], R.get(i, i)), `${m} × ${n} ${variant}: R[${i}, ${i}]`);
        for (let j = i + 1; j < n; j++) assert.ok(Object.is(blocks.cols.view[j * m + i], R.get(i, j)), `${m} × ${n} ${variant}: R[${i}, ${j}]`);
      }
    }
  }
});

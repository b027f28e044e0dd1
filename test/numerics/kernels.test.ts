import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gramOfRows, matmul } from '../../src/numerics/linalg.js';
import { KERNELS_WASM_BASE64 } from '../../src/numerics/wasm/kernels.wasm.js';
import { KernelArena, denseProduct, type F64Block } from '../../src/numerics/wasm/kernels.js';
// @ts-expect-error: a plain .mjs build script, no types
import { assembleKernels } from '../../scripts/wasm-assemble.mjs';

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

test('the committed kernel bytes are exactly what kernels.wat assembles to (run scripts/build-wasm.mjs after editing it)', async () => {
  const wat = readFileSync(new URL('../../src/numerics/wasm/kernels.wat', import.meta.url), 'utf8');
  const bytes: Uint8Array = await assembleKernels(wat);
  assert.equal(Buffer.from(bytes).toString('base64'), KERNELS_WASM_BASE64);
});

test('dense products equal the textbook loop bit for bit, for every column blocking (m = 1 … 37)', () => {
  for (const [r, k] of [[1, 1], [3, 5], [7, 16]] as const) {
    for (let c = 1; c <= 37; c++) {
      const A = values(r * k, r + c);
      const B = values(k * c, 3 * k + c);
      // Same terms added in the same order: identical, not merely close.
      assert.deepEqual(denseProduct(A, B, r, k, c), naiveProduct(A, B, r, k, c), `r=${r} k=${k} c=${c}`);
    }
  }
});

test('matmul and gramOfRows go through the kernel and agree with the oracle; the Gram matrix is exactly symmetric', () => {
  const c = 41;
  // r ≥ 17: rows past the first 16-column block skip blocks and get them mirrored (KernelArena.gram)
  for (const r of [1, 6, 16, 17, 33, 50]) {
    const A = values(r * c, r);
    const At = Float64Array.from({ length: c * r }, (_, q) => A[(q % r) * c + Math.floor(q / r)]!);
    const G = gramOfRows(A, r, c);
    assert.deepEqual(G, naiveProduct(A, At, r, c, r), `r=${r}`);
    assert.deepEqual(G, denseProduct(A, At, r, c, r), `r=${r}: the full product, bit for bit`);
    for (let a = 0; a < r; a++) for (let b = 0; b < r; b++) assert.equal(G[a * r + b], G[b * r + a]);
  }
  const r = 6;
  const A = values(r * c, 1);
  const P = values(r * r, 2);
  assert.deepEqual(matmul(P, A, r, r, c), naiveProduct(P, A, r, r, c));
});

test('sparse rows (CSR) equal the dense product with the missing terms as zeros, empty rows included', () => {
  // rows: 0 has three terms, 1 none, 2 one, 3 four (a source row used twice)
  const rowStart = [0, 3, 3, 4, 8];
  const idx = [4, 0, 2, 1, 3, 3, 0, 4];
  const val = [0.5, -2, 1.25, 3, 1e-3, 7, -0.75, 2];
  const nSrc = 5;
  for (const m of [1, 2, 3, 16, 17, 50]) {
    const src = values(nSrc * m, m);
    const arena = new KernelArena(KernelArena.bytesFor([val.length, nSrc * m, 4 * m], [rowStart.length, idx.length]));
    const v = arena.f64(val.length);
    v.view.set(val);
    const s = arena.f64(nSrc * m);
    s.view.set(src);
    const ix = arena.i32(idx.length);
    ix.view.set(idx);
    const rs = arena.i32(rowStart.length);
    rs.view.set(rowStart);
    const out = arena.f64(4 * m);
    out.view.fill(Number.NaN); // every element must be written, the empty row's with zeros
    arena.rowCombine(out, m, s, v, ix, rs, 4);
    const expected = new Float64Array(4 * m);
    for (let row = 0; row < 4; row++) {
      for (let q = rowStart[row]!; q < rowStart[row + 1]!; q++) {
        for (let j = 0; j < m; j++) expected[row * m + j]! += val[q]! * src[idx[q]! * m + j]!;
      }
    }
    assert.deepEqual(out.view, expected, `m=${m}`);
  }
});

test('an arena refuses a block larger than what is left, naming the sizes', () => {
  const arena = new KernelArena(1024);
  arena.f64(100);
  assert.throws(() => arena.f64(1e6), /kernel arena of \d+ bytes cannot hold 8000000 more/);
  arena.reset();
  assert.equal(arena.f64(100).view.length, 100);
});

/** Blocks of one arena filled with the given arrays. */
function blocksOf(...arrays: Float64Array[]) {
  const arena = new KernelArena(KernelArena.bytesFor(arrays.map((a) => a.length)));
  const blocks = arrays.map((a) => {
    const b = arena.f64(a.length);
    b.view.set(a);
    return b;
  });
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
    const arena = new KernelArena(KernelArena.bytesFor([m * d, d * m, m * d], [cols.length]));
    const w = arena.f64(m * d);
    w.view.set(W);
    const t = arena.f64(d * m);
    t.view.fill(-7);
    const idx = arena.i32(cols.length);
    idx.view.set(cols);
    arena.gatherColumns(t, w, m, d, idx);
    for (let p = 0; p < d; p++) {
      for (let k = 0; k < m; k++) assert.equal(t.view[p * m + k], cols.includes(p) ? W[k * d + p] : -7, `gather m=${m} d=${d} p=${p} k=${k}`);
    }
    const back = arena.f64(m * d);
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
    const arena = new KernelArena(KernelArena.bytesFor([r * c, r, c, r * c, r * c, r * c], [r, c]));
    const Mb = arena.f64(r * c);
    Mb.view.set(M);
    const rowMax = arena.f64(r);
    const colMax = arena.f64(c);
    colMax.view.fill(99); // overwritten, not maxed with
    arena.lineMaxAbs(Mb, r, c, rowMax, colMax);
    for (let i = 0; i < r; i++) assert.equal(rowMax.view[i], Math.max(...M.subarray(i * c, (i + 1) * c).map(Math.abs)), `row ${i}`);
    for (let j = 0; j < c; j++) assert.equal(colMax.view[j], Math.max(...Array.from({ length: r }, (_, i) => Math.abs(M[i * c + j]!))), `col ${j}`);

    const rowList = Array.from({ length: r }, (_, i) => i).filter((i) => i % 2 === 0);
    const colList = Array.from({ length: c }, (_, j) => j).filter((j) => j % 3 !== 2);
    const rows = arena.i32(rowList.length);
    rows.view.set(rowList);
    const cols = arena.i32(colList.length);
    cols.view.set(colList);
    const [k, n] = [rowList.length, colList.length];
    const sub = arena.f64(k * n);
    const subT = arena.f64(n * k);
    arena.gatherSub(sub, subT, Mb, c, rows, cols, 0.25);
    rowList.forEach((i, a) =>
      colList.forEach((j, b) => {
        assert.equal(sub.view[a * n + b], M[i * c + j]! * 0.25);
        assert.equal(subT.view[b * k + a], M[i * c + j]! * 0.25);
      }),
    );
    const Q = arena.f64(r * c);
    Q.view.fill(3);
    arena.scatterSub(Q, c, sub, rows, cols);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < c; j++) {
        const inside = rowList.includes(i) && colList.includes(j);
        assert.equal(Q.view[i * c + j], inside ? M[i * c + j]! * 0.25 : 3, `Q[${i}, ${j}]`);
      }
    }
  }
});

// The external oracle: margin-bench's own `run` against the same 48 runs recomputed in plain NumPy
// float64 by scripts/numpy-oracle.py (test/fixtures/oracle/numpy-oracle.json, committed, so this
// needs no Python). 20 digits, width 10, 50 steps; ReLU and squared ReLU × all six optimizers ×
// β ∈ {0.9, 0} × depth 2 and 3. At every step the fixture stores, log10_loss and the four margin_*
// columns must agree to 1e-10. The two sides share nothing but the digits and the initial weights,
// which both make from one integer formula (see the script's header).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';

const FIXTURE = new URL('../fixtures/oracle/numpy-oracle.json', import.meta.url);
const COLUMNS = ['log10_loss', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid'] as const;
type Column = (typeof COLUMNS)[number];
const TOLERANCE = 1e-10;

interface OracleRun extends Record<Column, number[]> {
  id: string;
  eta0: number;
}
interface Fixture {
  numpy_version: string;
  config: {
    data: { source: string; indices: number[] };
    model: { width: number; init_scale: number; activations: string[] };
    train: Record<string, unknown> & { steps: number };
  };
  init: { formula: string; salt: number };
  stored_steps: number[];
  depths: {
    depth: number;
    /** `train.polar` for margin-bench (the oracle always takes an SVD). */
    polar: string;
    init_check: { sum_squares: number[]; first: number[]; last: number[] };
    runs: OracleRun[];
  }[];
}

const fixture: Fixture = JSON.parse(readFileSync(FIXTURE, 'utf8'));
const root = mkdtempSync(join(tmpdir(), 'margin-bench-oracle-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** 32-bit integer mixer ("lowbias32", constants from Chris Wellons' hash prospector); as in the script. */
function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * The script's initial weights, bit for bit: entry k of layer l of the depth-L network is
 * (Σ_{r<12} u_r − 6) · s/√fan_in with u_r = lowbias32(((salt·64 + L·16 + l)·65536 + k)·16 + r) / 2^32.
 * Every step is integer arithmetic or one correctly rounded float64 operation, as in NumPy.
 * Returns the `train.init_from` format: [W_1, …, W_L], each [out][in].
 */
function oracleInit(depth: number, width: number, initScale: number, salt: number): number[][][] {
  const dims = [784, ...Array<number>(depth - 1).fill(width), 10];
  return Array.from({ length: depth }, (_, l) => {
    const [fanIn, fanOut] = [dims[l]!, dims[l + 1]!];
    const scale = initScale / Math.sqrt(fanIn);
    return Array.from({ length: fanOut }, (_, i) =>
      Array.from({ length: fanIn }, (_, j) => {
        const k = i * fanIn + j;
        let z = 0;
        for (let r = 0; r < 12; r++) z += lowbias32(((salt * 64 + depth * 16 + l) * 65536 + k) * 16 + r) / 4294967296;
        return (z - 6) * scale;
      }),
    );
  });
}

/** step → row of a run CSV (numbers only, as `run` writes them). */
function readRows(path: string): Map<number, Record<string, number>> {
  const [head, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const header = head!.split(',');
  return new Map(
    lines.map((line) => {
      const row = Object.fromEntries(line.split(',').map((cell, j) => [header[j]!, Number(cell)]));
      return [row.step!, row];
    }),
  );
}

test('the fixture covers the whole grid: 2 depths × 2 activations × 6 optimizers × 2 β, 50 steps', () => {
  assert.deepEqual(fixture.depths.map((d) => d.depth), [2, 3]);
  assert.equal(fixture.config.train.steps, 50);
  assert.equal(fixture.config.data.indices.length, 20);
  for (const d of fixture.depths) {
    assert.equal(d.runs.length, 24);
    assert.equal(new Set(d.runs.map((r) => r.id)).size, 24);
    for (const run of d.runs) for (const c of COLUMNS) assert.equal(run[c].length, fixture.stored_steps.length, `${run.id} ${c}`);
  }
  assert.match(fixture.numpy_version, /^\d+\.\d+/);
});


for (const { depth, polar, init_check: check, runs } of fixture.depths) {
  const name = `depth ${depth}: margin-bench run matches the NumPy oracle (24 runs, log10_loss and 4 margins, to ${TOLERANCE})`;
  test(name, async (t) => {
    const { data, model, train } = fixture.config;
    const layers = oracleInit(depth, model.width, model.init_scale, fixture.init.salt);
    // The same weights as the script's (a mismatch here is the formula's, not training's).
    layers.forEach((w, l) => {
      assert.equal(w[0]![0], check.first[l], `layer ${l + 1} first entry`);
      assert.equal(w.at(-1)!.at(-1), check.last[l], `layer ${l + 1} last entry`);
      const sq = w.flat().reduce((s, v) => s + v * v, 0);
      assert.ok(Math.abs(sq / check.sum_squares[l]! - 1) < 1e-12, `layer ${l + 1} Σ w²: ${sq} vs ${check.sum_squares[l]}`);
    });

    const dir = join(root, `depth${depth}`);
    const weights = join(root, `init-depth${depth}.weights.json`);
    const configPath = join(root, `oracle-depth${depth}.json`);
    writeFileSync(weights, JSON.stringify({ layers }));
    const config = {
      name: `oracle-depth${depth}`,
      data: { source: data.source, indices: data.indices },
      model: { depth, width: model.width, init_scale: model.init_scale, activations: model.activations },
      train: { ...train, polar, init_from: weights },
      log: { n_log: 200 }, // every step of 50 is a log point
    };
    writeFileSync(configPath, JSON.stringify(config));
    const code = await main(['node', 'margin-bench', 'run', configPath, '--out', dir, '--no-progress']);

    // Every run is compared, also after a failed one, so that one report shows all that differs:
    // one line per run that differs, with its first difference.
    const failures: string[] = code === 0 ? [] : [`margin-bench run exited ${code} (its stderr above names the failed runs)`];
    const worst: Record<Column, number> = { log10_loss: 0, margin_l2: 0, margin_linf: 0, margin_spectral: 0, margin_hybrid: 0 };
    for (const run of runs) {
      const summary = JSON.parse(readFileSync(join(dir, `${run.id}.json`), 'utf8'));
      if (summary.status !== 'ok') failures.push(`${run.id}: status ${summary.status}: ${summary.failure?.reason}`);
      if (!(Math.abs(summary.eta0 / run.eta0 - 1) <= TOLERANCE)) failures.push(`${run.id}: η_0 ${summary.eta0}, oracle ${run.eta0}`);
      const rows = readRows(join(dir, `${run.id}.csv`));
      const differ: { step: number; what: string }[] = [];
      for (const c of COLUMNS) {
        // Relative error, against the column's largest magnitude over the run: margins cross zero
        // when the digits become separated, where a pointwise relative error means nothing.
        const scale = Math.max(...run[c].map(Math.abs));
        fixture.stored_steps.forEach((step, i) => {
          const got = rows.get(step)?.[c];
          const want = run[c][i]!;
          if (got === undefined) return void differ.push({ step, what: `${c}: no row` });
          const err = Math.abs(got - want) / scale;
          worst[c] = Math.max(worst[c], err);
          if (!(err <= TOLERANCE)) differ.push({ step, what: `${c} ${got}, oracle ${want} (error ${err.toExponential(2)} of ${scale.toPrecision(3)})` });
        });
      }
      if (differ.length > 0) {
        const first = differ.reduce((a, b) => (b.step < a.step ? b : a));
        const total = COLUMNS.length * fixture.stored_steps.length;
        failures.push(`${run.id}: ${differ.length} of ${total} values differ, from step ${first.step}: ${first.what}`);
      }
    }
    t.diagnostic(`largest relative errors: ${COLUMNS.map((c) => `${c} ${worst[c].toExponential(1)}`).join(', ')}`);
    if (failures.length > 0) assert.fail(`depth ${depth}: margin-bench differs from the NumPy oracle:\n${failures.join('\n')}`);
  });
}

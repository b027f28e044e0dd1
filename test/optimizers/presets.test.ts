// The six optimizer names are presets of the composed optimizers (docs/science.md §12): they must
// write the same files as before the composition existed. test/fixtures/presets/ holds the CSVs
// and summaries that the code before it wrote for small grids covering every preset, both
// activations, β 0.9 and 0, both first-layer paths (engine_path full and span), depth 2 and 3,
// hybrid_ratio, adam_eps, muon_layers, Newton–Schulz and the loss-based schedule. Each grid is
// rerun here and compared: CSVs byte for byte, summaries whole but for timings and provenance.
// MARGIN_BENCH_WRITE_FIXTURES=1 rewrites the fixtures instead (only ever from unchanged presets).
//
// Byte identity holds on the Node major line that wrote the fixtures (test/fixtures/presets/NODE):
// V8's Math functions (Math.pow of the learning-rate schedule among them) differ in the last bit
// between lines, and 40 steps of Muon's polar factor and Signum's signs carry such bits forward, so
// on another line every number must agree to REL relative instead (and every other field exactly).
// The largest difference seen on Node 22 and 24 was 3e-9 (an angle between consecutive iterates).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/config/load.js';
import { runSweep } from '../../src/sweep/sweep.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/presets', import.meta.url));
const WRITE = process.env.MARGIN_BENCH_WRITE_FIXTURES === '1';
const NODE_FILE = join(FIXTURES, 'NODE');
const major = (v: string) => v.replace(/^v/, '').split('.')[0]!;
const SAME_LINE = WRITE || major(readFileSync(NODE_FILE, 'utf8').trim()) === major(process.versions.node);
const REL = 1e-7;

/** Two numbers (or numeric CSV cells) agree: the same, both NaN, or within REL of each other. */
function close(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return a === b || Math.abs(a - b) <= REL * Math.max(Math.abs(a), Math.abs(b));
}

/** Assert two values equal, numbers to REL (for another Node line; see the header). */
function assertClose(got: unknown, want: unknown, where: string): void {
  if (typeof got === 'number' && typeof want === 'number') return assert.ok(close(got, want), `${where}: ${got} vs ${want}`);
  if (Array.isArray(want) && Array.isArray(got)) {
    assert.equal(got.length, want.length, `${where}: length`);
    return want.forEach((w, i) => assertClose(got[i], w, `${where}[${i}]`));
  }
  if (typeof want === 'object' && want !== null && typeof got === 'object' && got !== null) {
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${where}: keys`);
    for (const k of Object.keys(want)) assertClose((got as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], `${where}.${k}`);
    return;
  }
  assert.deepEqual(got, want, where);
}

/** A CSV as its header and rows of cells, numeric cells as numbers. */
function cellsOf(path: string): unknown[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').map((line, i) =>
    i === 0 ? line : line.split(',').map((c) => (c === '' || (Number.isNaN(Number(c)) && c !== 'NaN') ? c : Number(c))),
  );
}
const root = mkdtempSync(join(tmpdir(), 'margin-bench-presets-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SIX = ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'];
const base = {
  data: { n_per_class: 3 },
  model: { depth: 2, width: 12, activations: ['relu', 'sqrelu'] },
  train: { optimizers: SIX, betas: [0.9, 0], steps: 40, seeds: [0] },
  log: { n_log: 6 },
};
/** Each grid: a folder of test/fixtures/presets and the config over `base`. */
export const PRESET_GRIDS: Record<string, Record<string, unknown>> = {
  base: {},
  'depth3-ratio-eps': {
    model: { depth: 3, width: 8, activations: ['relu', 'sqrelu'] },
    train: { betas: [0.9], adam_eps: 1e-3, lr: { hybrid_ratio: 0.5 } },
  },
  'muonlayers-ns-lossbased': {
    model: { activations: ['sqrelu'] },
    train: { muon_layers: [1], polar: 'newton_schulz', lr: { schedule: 'loss_based', loss_below: 0.5 } },
  },
};

function configOf(name: string) {
  const over = PRESET_GRIDS[name]!;
  const merged = {
    name: `presets-${name}`,
    data: base.data,
    model: { ...base.model, ...(over.model as object) },
    train: { ...base.train, ...(over.train as object) },
    log: base.log,
  };
  return resolveConfig(merged, 'presets.test');
}

const VOLATILE = ['wall_time_s', 'ms_per_step', 'started_at', 'finished_at', 'git_commit', 'versions'];
function summaryOf(dir: string, file: string): Record<string, unknown> {
  const s = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  for (const k of VOLATILE) delete s[k];
  return s;
}

for (const name of Object.keys(PRESET_GRIDS)) {
  test(`presets write the same files as before: ${name}`, async () => {
    const out = join(root, name);
    const result = await runSweep(configOf(name), out, { jobs: 1, progress: false });
    assert.ok(result.summaries.every((s) => s.status === 'ok'), 'every run ok');
    const want = join(FIXTURES, name);
    const runFiles = (dir: string) => readdirSync(dir).filter((f) => /\.(csv|json)$/.test(f) && f !== 'sweep.json').sort();
    if (WRITE) {
      rmSync(want, { recursive: true, force: true });
      for (const f of runFiles(out)) cpSync(join(out, f), join(want, f));
      writeFileSync(NODE_FILE, `${process.version}\n`);
      return;
    }
    assert.deepEqual(runFiles(out), runFiles(want));
    const paths = new Set<unknown>();
    for (const f of runFiles(want)) {
      if (f.endsWith('.csv')) {
        if (SAME_LINE) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(want, f))), `${name}/${f} differs`);
        else assertClose(cellsOf(join(out, f)), cellsOf(join(want, f)), `${name}/${f}`);
      } else {
        const got = summaryOf(out, f);
        if (SAME_LINE) assert.deepEqual(got, summaryOf(want, f), `${name}/${f} differs`);
        else {
          const { csv_sha256: _g, ...gotRest } = got; // the CSV's hash follows its last bits
          const { csv_sha256: _w, ...wantRest } = summaryOf(want, f);
          assertClose(gotRest, wantRest, `${name}/${f}`);
        }
        paths.add(got.engine_path);
      }
    }
    if (name === 'base') assert.deepEqual([...paths].sort(), ['full', 'span']);
  });
}

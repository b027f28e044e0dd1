// The six optimizer names are presets of the composed optimizers (docs/science.md §12): they must
// write the same files as before the composition existed. test/fixtures/presets/ holds the CSVs
// and summaries that the code before it wrote for small grids covering every preset, both
// activations, β 0.9 and 0, both first-layer paths (engine_path full and span), depth 2 and 3,
// hybrid_ratio, adam_eps, muon_layers, Newton–Schulz and the loss-based schedule. Each grid is
// rerun here and compared: CSVs byte for byte, summaries whole but for timings and provenance.
// MARGIN_BENCH_WRITE_FIXTURES=1 rewrites the fixtures instead (only ever from unchanged presets).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../../src/config/load.js';
import { runSweep } from '../../src/sweep/sweep.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/presets', import.meta.url));
const WRITE = process.env.MARGIN_BENCH_WRITE_FIXTURES === '1';
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
      return;
    }
    assert.deepEqual(runFiles(out), runFiles(want));
    const paths = new Set<unknown>();
    for (const f of runFiles(want)) {
      if (f.endsWith('.csv')) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(want, f))), `${name}/${f} differs`);
      else {
        const got = summaryOf(out, f);
        assert.deepEqual(got, summaryOf(want, f), `${name}/${f} differs`);
        paths.add(got.engine_path);
      }
    }
    if (name === 'base') assert.deepEqual([...paths].sort(), ['full', 'span']);
  });
}

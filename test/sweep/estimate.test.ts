import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { loadDataset } from '../../src/data/dataset.js';
import { STEP_COST_US } from '../../src/sweep/cost.js';
import { estimateSweep, formatDuration } from '../../src/sweep/estimate.js';
import { gridOf } from '../../src/sweep/grid.js';

test('a measured warm-up gives a per-step time and a total scaled by the cost table', async () => {
  const config = resolveConfig({ train: { steps: 4000, seeds: [0, 1], optimizers: ['ngd', 'muon'], betas: [0.9] }, model: { activations: ['relu'] } }, 'test');
  const data = loadDataset(config.data);
  const runs = gridOf(config);
  const est = (await estimateSweep(config, data, null, runs, 2))!;
  assert.match(est.measured, /^relu_muon_b0\.9_s0$/); // the most expensive run is timed
  assert.ok(est.secondsPerStep > 0 && est.secondsPerStep < 1);
  // two muon runs (ratio 1) and two ngd runs (each ngd/muon of the cost table), 4000 steps, over 2 workers
  const expected = (est.secondsPerStep * (2 + (2 * STEP_COST_US.ngd) / STEP_COST_US.muon) * 4000) / 2;
  assert.ok(Math.abs(est.totalSeconds - expected) < 1e-9 * expected);
  assert.equal(await estimateSweep(config, data, null, [], 2), null);
});

test('durations read like a person would say them', () => {
  assert.equal(formatDuration(40.2), '40 s');
  assert.equal(formatDuration(720), '12 min');
  assert.equal(formatDuration(3 * 3600 + 20 * 60), '3 h 20 min');
});

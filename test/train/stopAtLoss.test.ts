import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { loadDataset } from '../../src/data/dataset.js';
import { F64Engine } from '../../src/engine/f64.js';
import { initParams, shapesFor, type LayerShape, type Params } from '../../src/model/mlp.js';
import { toLog10 } from '../../src/numerics/logLoss.js';
import type { RunSpec } from '../../src/results/runs.js';
import { logSteps } from '../../src/train/schedule.js';
import { trainSteps } from '../../src/train/train.js';
import { executeOne, trainOne } from '../helpers.js';

// docs/science.md §11.3–§11.4: a run stops at the first step whose loss is at or below the target,
// and logs the step on each side of the first crossing of every loss level it is given.

const base = {
  data: { task: 'parity', classes: [0, 1, 2, 3, 4, 5], n_per_class: 4 },
  model: { width: 8 },
  train: { steps: 400, lr: { rel: 0.1, decay: 0.8 } },
  log: { n_log: 12 },
} as const;

const spec: RunSpec = { activation: 'relu', optimizer: 'signum', beta: 0.9, seed: 1 };

/** The oracle: drive the run's generator by hand, with no target, and record log10 L(θ_t) and q_min at every step. */
function everyStep(config: Readonly<Config>, shapes: LayerShape[], init: Params, engine: F64Engine): { log10: number[]; qmin: number[] } {
  const run = trainSteps(config, spec, shapes, init, undefined);
  const log10: number[] = [];
  const qmin: number[] = [];
  let st = run.next();
  while (!st.done) {
    const [ev] = engine.evaluate([st.value.run.params], true) as ReturnType<F64Engine['evaluate']> & unknown[];
    log10.push(toLog10(ev!.logLoss));
    qmin.push(Math.min(...ev!.margins));
    st = run.next({ ev: ev!, cosMomentumGrad: NaN, gradDotDirection: NaN });
  }
  return { log10, qmin };
}

test('train.target_log10_loss stops a run at the first step at or below the target; the last row is that step, the one before is logged too', async () => {
  const free = resolveConfig(base, 'test');
  const data = loadDataset(free.data);
  const shapes = shapesFor(free.model, data);
  const init = initParams(shapes, free.model.init_scale, spec.seed);
  const oracle = everyStep(free, shapes, init, new F64Engine(data, shapes, 'relu'));
  // A target the run crosses mid-way, between two of its geometric log points.
  const grid = logSteps(400, 12);
  const target = (oracle.log10[150]! + oracle.log10[151]!) / 2;
  const crossing = oracle.log10.findIndex((v) => v <= target);
  assert.ok(crossing > 10 && crossing < 390 && !grid.includes(crossing) && !grid.includes(crossing - 1), `crossing ${crossing} should fall between log points`);

  const config = resolveConfig({ ...base, train: { ...base.train, target_log10_loss: target } }, 'test');
  const r = await trainOne(config, spec, new F64Engine(data, shapes, 'relu'), shapes, init);
  assert.equal(r.failure, null);
  assert.deepEqual(r.stop, { reason: 'target_loss', step: crossing });
  assert.equal(r.stepsCompleted, crossing);
  const steps = r.rows.map((row) => row.step);
  assert.deepEqual(steps, [...grid.filter((t) => t < crossing - 1), crossing - 1, crossing]);
  const last = r.rows.at(-1)!;
  const before = r.rows.at(-2)!;
  assert.ok(last.log10_loss <= target && before.log10_loss > target);
  assert.equal(last.log10_loss, oracle.log10[crossing]);
  assert.equal(before.log10_loss, oracle.log10[crossing - 1]);
  assert.equal(last.qmin, oracle.qmin[crossing]);
  assert.equal(before.qmin, oracle.qmin[crossing - 1]);
  assert.ok(Math.abs(last.cos_to_last - 1) < 1e-14, 'cos_to_last at the stop'); // θ_T is the iterate the run stopped at
  for (const row of [before, last]) assert.ok(Number.isFinite(row.cos_m_g) && Number.isFinite(row.align_l2) && Number.isFinite(row.angle_prev));

  // The same run with no target but the same level in log.at_log10_loss: the two rows appear, the run goes on.
  const listed = resolveConfig({ ...base, log: { ...base.log, at_log10_loss: [target] } }, 'test');
  const full = await trainOne(listed, spec, new F64Engine(data, shapes, 'relu'), shapes, init);
  assert.deepEqual(full.stop, { reason: 'steps', step: 400 });
  assert.deepEqual(full.rows.map((row) => row.step), [...new Set([...grid, crossing - 1, crossing])].sort((a, b) => a - b));
  const at = full.rows.find((row) => row.step === crossing)!;
  for (const key of ['log10_loss', 'qmin', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid', 'norm_l2', 'align_linf', 'lr', 'cos_m_g'] as const) {
    assert.equal(at[key], last[key], key);
    assert.equal(full.rows.find((row) => row.step === crossing - 1)![key], before[key], `${key} before`);
  }
});

test('the summary says why and when a run stopped; a target never reached runs every step', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mb-stop-'));
  try {
    const reached = resolveConfig({ ...base, train: { ...base.train, target_log10_loss: -1 } }, 'test');
    const data = loadDataset(reached.data);
    const s = await executeOne(reached, spec, data, dir);
    assert.equal(s.status, 'ok');
    assert.equal(s.stop?.reason, 'target_loss');
    assert.equal(s.stop?.target_log10_loss, -1);
    assert.ok(s.stop!.log10_loss! <= -1);
    assert.equal(s.steps_completed, s.stop?.step);
    const lines = readFileSync(join(dir, s.files.csv), 'utf8').trim().split('\n');
    assert.equal(Number(lines.at(-1)!.split(',')[0]), s.stop?.step);

    const never = resolveConfig({ ...base, train: { ...base.train, steps: 30, target_log10_loss: -300 } }, 'test');
    const n = await executeOne(never, spec, data, dir);
    assert.deepEqual({ ...n.stop, log10_loss: null }, { reason: 'steps', step: 30, log10_loss: null, target_log10_loss: -300 });
    assert.equal(n.steps_completed, 30);
    assert.equal(n.final?.step, 30);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

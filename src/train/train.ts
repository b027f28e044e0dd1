import type { Activation, Config, OptimizerName } from '../config/types.js';
import type { Engine } from '../engine/types.js';
import { accuracyFromMargins, cosineToLast, minMargin, normalizedMargin } from '../metrics/margins.js';
import { allNorms, normOf, resolveMuonLayers, type NormName } from '../metrics/norms.js';
import { homogeneityDegree, type LayerShape, type Params, cloneParams } from '../model/mlp.js';
import { toLog10 } from '../numerics/logLoss.js';
import { Optimizer, OPTIMIZERS } from '../optimizers/registry.js';
import { learningRate, logSteps } from './schedule.js';

/** One cell of the grid: activation × optimizer × β × seed. */
export interface RunSpec {
  activation: Activation;
  optimizer: OptimizerName;
  beta: number;
  seed: number;
}

/** File stem of a run: `<act>_<opt>_b<beta>_s<seed>`, e.g. `relu_muon_b0.9_s3`. */
export function runId(spec: RunSpec): string {
  return `${spec.activation}_${spec.optimizer}_b${spec.beta}_s${spec.seed}`;
}

/** SPEC §8: the columns of a run's CSV, in order. */
export const LOG_COLUMNS = [
  'step',
  'lr',
  'loss',
  'log10_loss',
  'train_acc',
  'qmin',
  'margin_l2',
  'margin_linf',
  'margin_spectral',
  'margin_hybrid',
  'cos_m_g',
  'cos_to_last',
  'norm_l2',
  'norm_linf',
  'norm_spectral',
  'norm_hybrid',
] as const;
export type LogRow = Record<(typeof LOG_COLUMNS)[number], number>;

export interface RunFailure {
  step: number;
  reason: string;
}

export interface RunResult {
  spec: RunSpec;
  rows: LogRow[];
  initialParams: Params;
  finalParams: Params;
  eta0: number;
  /** The optimizer's own family norm of θ_0 (SPEC §7). */
  ownNormInit: number;
  family: NormName;
  degree: number;
  stepsCompleted: number;
  failure: RunFailure | null;
  wallTimeS: number;
}

export interface TrainOptions {
  /** Called after every update with (updates done, total); keep it cheap. */
  onStep?: (done: number, total: number) => void;
}

/**
 * Train one run from `init` (SPEC §6–§8): T updates θ_{t+1} = θ_t − η_t D(m_t), logging at the
 * log points. Stops early, recording where, if the loss or gradient turns non-finite.
 */
export function trainRun(
  config: Readonly<Config>,
  spec: RunSpec,
  engine: Engine,
  shapes: LayerShape[],
  init: Params,
  options: TrainOptions = {},
): RunResult {
  const started = performance.now();
  const T = config.train.steps;
  const depth = shapes.length;
  const isMuon = resolveMuonLayers(config.train.muon_layers, depth);
  const degree = homogeneityDegree(spec.activation, depth);
  const family = OPTIMIZERS[spec.optimizer].family;
  const params = cloneParams(init);
  const ownNormInit = normOf(family, params, shapes, isMuon);
  const eta0 = config.train.lr.eta0 ?? config.train.lr.rel! * ownNormInit;
  const optimizer = new Optimizer({
    name: spec.optimizer,
    beta: spec.beta,
    beta2: config.train.adam_beta2,
    polar: config.train.polar,
    isMuon,
    shapes,
  });
  const zeroGrad = shapes.map((s) => new Float64Array(s.out * s.in));
  const logAt = new Set(logSteps(T, config.log.n_log));
  const rows: LogRow[] = [];
  const directions: Float64Array[] = []; // θ_t/‖θ_t‖₂ at each logged step, for cos_to_last
  let failure: RunFailure | null = null;
  let stepsCompleted = 0;

  for (let t = 0; t <= T; t++) {
    const ev = engine.evaluate(params, true);
    if (!Number.isFinite(ev.logLoss) || Number.isNaN(ev.gradLogScale)) {
      failure = { step: t, reason: `non-finite ${Number.isFinite(ev.logLoss) ? 'gradient' : 'loss'} at step ${t}` };
      break;
    }
    // At t = T no update follows, but the buffer the next step would use still gives cos_m_g.
    const logged = logAt.has(t);
    const { direction, cosMomentumGrad } = optimizer.step(ev.grad ?? zeroGrad, ev.gradLogScale, logged);
    const eta = learningRate(eta0, config.train.lr.decay, t);
    if (logged) {
      rows.push(logRow(t, eta, ev.logLoss, ev.margins, cosMomentumGrad, params, shapes, isMuon, degree));
      directions.push(unitFlat(params));
    }
    if (t === T) break;
    for (let l = 0; l < depth; l++) {
      const w = params[l]!;
      const d = direction[l]!;
      for (let k = 0; k < w.length; k++) w[k]! -= eta * d[k]!;
    }
    stepsCompleted = t + 1;
    options.onStep?.(stepsCompleted, T);
  }

  // cos_to_last: against the last logged iterate (θ_T, or the last finite one of a failed run).
  const last = directions[directions.length - 1];
  if (last) rows.forEach((row, i) => (row.cos_to_last = cosineToLast(directions[i]!, last)));
  return {
    spec,
    rows,
    initialParams: cloneParams(init),
    finalParams: params,
    eta0,
    ownNormInit,
    family,
    degree,
    stepsCompleted,
    failure,
    wallTimeS: (performance.now() - started) / 1000,
  };
}

function logRow(
  step: number,
  lr: number,
  logLoss: number,
  margins: Float64Array,
  cosMG: number,
  params: Params,
  shapes: LayerShape[],
  isMuon: boolean[],
  degree: number,
): LogRow {
  const qmin = minMargin(margins);
  const norms = allNorms(params, shapes, isMuon);
  return {
    step,
    lr,
    loss: Math.exp(logLoss),
    log10_loss: toLog10(logLoss),
    train_acc: accuracyFromMargins(margins),
    qmin,
    margin_l2: normalizedMargin(qmin, norms.l2, degree),
    margin_linf: normalizedMargin(qmin, norms.linf, degree),
    margin_spectral: normalizedMargin(qmin, norms.spectral, degree),
    margin_hybrid: normalizedMargin(qmin, norms.hybrid, degree),
    cos_m_g: cosMG,
    cos_to_last: NaN,
    norm_l2: norms.l2,
    norm_linf: norms.linf,
    norm_spectral: norms.spectral,
    norm_hybrid: norms.hybrid,
  };
}

function unitFlat(params: Params): Float64Array {
  const n = params.reduce((s, w) => s + w.length, 0);
  const flat = new Float64Array(n);
  let o = 0;
  for (const w of params) {
    flat.set(w, o);
    o += w.length;
  }
  let sq = 0;
  for (let k = 0; k < n; k++) sq += flat[k]! * flat[k]!;
  const inv = 1 / Math.sqrt(sq);
  for (let k = 0; k < n; k++) flat[k]! *= inv;
  return flat;
}

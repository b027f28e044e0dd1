import type { Activation, Config } from '../config/types.js';
import type { LogRow, RunFailure, RunSpec } from '../results/runs.js';
import type { Engine, Evaluation, HeldRuns, StepOutcome, StepRequest, TransferPerStep } from '../engine/types.js';
import { angleBetweenUnit, kktAlignments } from '../metrics/alignment.js';
import { accuracyFromMargins, cosineToLast, minMargin, normalizedMargin } from '../metrics/margins.js';
import { allNorms, normOf, resolveMuonLayers, type NormName } from '../metrics/norms.js';
import { homogeneityDegree, type LayerShape, type Params, cloneParams } from '../model/mlp.js';
import { GramWorkspace } from '../numerics/linalg.js';
import { toLog10 } from '../numerics/logLoss.js';
import { OPTIMIZERS } from '../optimizers/families.js';
import { HostRun } from './runState.js';
import { ADAM_SAFE_FRACTION, adamSpeedLimit, logDescentRate, logSteps, makeSchedule } from './schedule.js';

export interface RunResult {
  spec: RunSpec;
  rows: LogRow[];
  initialParams: Params;
  finalParams: Params;
  eta0: number;
  /** The optimizer's own family norm of θ_0 (docs/science.md §7). */
  ownNormInit: number;
  family: NormName;
  degree: number;
  stepsCompleted: number;
  failure: RunFailure | null;
  wallTimeS: number;
  /** Part of wallTimeS spent on log points (margins, norms, alignment SVDs), not on training steps. */
  logTimeS: number;
  /** Host ↔ device traffic per step where the engine held the run (docs/engines.md); null for a host run. */
  transfer: TransferPerStep | null;
}

export interface TrainOptions {
  /** Called after every update with (updates done, total); keep it cheap. */
  onStep?: (done: number, total: number) => void;
}

/**
 * The one training driver (docs/science.md §6–§8): train every run of `specs` in lockstep on one
 * engine, each from its own initial weights. Every step, the runs still going take one step
 * together. Where the engine holds runs on its device (Engine.holdRuns: the TF.js engine), the
 * whole step of every run is one device computation. Otherwise the runs live on the host: their
 * parameters are evaluated in batches of at most engine.batchLimit sets (a batch of one is the
 * ordinary case) and each run takes its optimizer step on the host. The engine may answer
 * synchronously or with a promise; this awaits either. A run that stops early (non-finite loss)
 * drops out; the others go on. The runs must share the layer shapes and the activation the engine
 * was built for. Each run's wall time includes the batch's engine time; `options[i]` are run i's
 * (its progress callback).
 */
export async function trainRuns(
  config: Readonly<Config>,
  specs: readonly RunSpec[],
  engine: Engine,
  shapes: LayerShape[],
  inits: readonly Params[],
  options: readonly TrainOptions[] = [],
): Promise<RunResult[]> {
  if (specs.length !== inits.length) throw new Error(`${specs.length} runs but ${inits.length} initial weights`);
  if (specs.length > 1) batchActivation(specs);
  const held = engine.holdRuns?.();
  try {
    const runs = specs.map((spec, i) => trainSteps(config, spec, shapes, inits[i]!, held, options[i]));
    const states = runs.map((r) => r.next());
    const limit = held ? Number.POSITIVE_INFINITY : Math.max(1, engine.batchLimit);
    for (;;) {
      const live = states.flatMap((st, i) => (st.done ? [] : [i]));
      if (live.length === 0) break;
      for (let k = 0; k < live.length; k += limit) {
        const chunk = live.slice(k, k + limit);
        const requests = chunk.map((i) => states[i]!.value as StepRequest);
        const outcomes = held ? await held.step(requests) : await hostSteps(engine, requests);
        // Each run takes its outcome before the next engine call may overwrite the evaluation's arrays.
        chunk.forEach((i, j) => (states[i] = runs[i]!.next(outcomes[j]!)));
      }
    }
    return states.map((st) => st.value as RunResult);
  } finally {
    held?.dispose();
  }
}

/** Host runs: the engine evaluates their parameters, each run takes its optimizer step on the host. */
async function hostSteps(engine: Engine, requests: readonly StepRequest[]): Promise<StepOutcome[]> {
  const runs = requests.map((r) => r.run as HostRun);
  const evs = await engine.evaluate(runs.map((r) => r.params), true);
  return requests.map((request, j) => runs[j]!.step(evs[j]!, request));
}

/** The one activation every run of a batch shares (an engine is built for one); throws otherwise, or for no runs. */
export function batchActivation(specs: readonly RunSpec[]): Activation {
  const activations = new Set(specs.map((s) => s.activation));
  if (activations.size !== 1) throw new Error(`a batch runs one activation, got ${[...activations].join(', ') || 'no runs'}`);
  return specs[0]!.activation;
}

/**
 * docs/science.md §6–§8: one run as a generator, so that the driver (trainRuns) can step the runs
 * of a batch together: it yields a request for step t of its run (HostRun, or one that `held`
 * keeps on the engine's device), expects the step's outcome back, and returns the RunResult.
 */
export function* trainSteps(
  config: Readonly<Config>,
  spec: RunSpec,
  shapes: LayerShape[],
  init: Params,
  held: HeldRuns | undefined,
  options: TrainOptions = {},
): Generator<StepRequest, RunResult, StepOutcome> {
  const started = performance.now();
  const T = config.train.steps;
  const depth = shapes.length;
  const isMuon = resolveMuonLayers(config.train.muon_layers, depth);
  const degree = homogeneityDegree(spec.activation, depth);
  const family = OPTIMIZERS[spec.optimizer].family;
  const params = cloneParams(init);
  const gram = new GramWorkspace(shapes); // the σ_max of every log point's norms
  const ownNormInit = normOf(family, params, shapes, isMuon, gram);
  const eta0 = config.train.lr.eta0 ?? config.train.lr.rel! * ownNormInit;
  const settings = { name: spec.optimizer, beta: spec.beta, beta2: config.train.adam_beta2, polar: config.train.polar, isMuon, shapes };
  const run = held ? held.hold(settings, params) : new HostRun(settings, params);
  // A loss-based rate must not ask Adam-type layers to go faster than their √v̂ can follow.
  const hasAdam = shapes.some((_, l) => OPTIMIZERS[spec.optimizer].rule(isMuon[l]!) === 'adam');
  const schedule = makeSchedule(config.train.lr, eta0, hasAdam ? ADAM_SAFE_FRACTION * adamSpeedLimit(config.train.adam_beta2) : Infinity);
  const logAt = new Set(logSteps(T, config.log.n_log));
  const rows: LogRow[] = [];
  const directions: Float64Array[] = []; // θ_t/‖θ_t‖₂ at each logged step, for cos_to_last
  let failure: RunFailure | null = null;
  let stepsCompleted = 0;
  let logTimeMs = 0;

  for (let t = 0; t <= T; t++) {
    // At t = T no update follows, but the buffer the next step would use still gives cos_m_g.
    const logged = logAt.has(t);
    const { ev, cosMomentumGrad, gradDotDirection } = yield { run, logPoint: logged, descentRate: schedule.usesDescentRate };
    if (!Number.isFinite(ev.logLoss) || Number.isNaN(ev.gradLogScale)) {
      failure = { step: t, reason: `non-finite ${Number.isFinite(ev.logLoss) ? 'gradient' : 'loss'} at step ${t}` };
      break;
    }
    // The loss-based schedule reads how fast this very step lowers log L: ⟨G, D_t⟩ (one dot product).
    const logRate = schedule.usesDescentRate && ev.gradLogScale !== -Infinity ? logDescentRate(ev.gradLogScale, gradDotDirection, ev.logLoss) : NaN;
    const eta = schedule.rate(t, ev.logLoss, logRate);
    if (logged) {
      const logStarted = performance.now();
      const params = run.params;
      const unit = unitFlat(params);
      const prev = rows.length > 0 ? { unit: directions[directions.length - 1]!, normL2: rows[rows.length - 1]!.norm_l2 } : null;
      rows.push(logRow({ step: t, lr: eta, ev, cosMG: cosMomentumGrad, params, shapes, isMuon, degree, unit, prev, gram }));
      directions.push(unit);
      logTimeMs += performance.now() - logStarted;
    }
    if (t === T) break;
    run.descend(eta);
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
    finalParams: run.params,
    eta0,
    ownNormInit,
    family,
    degree,
    stepsCompleted,
    failure,
    wallTimeS: (performance.now() - started) / 1000,
    logTimeS: logTimeMs / 1000,
    transfer: run.transfer(),
  };
}

/** What one log point needs; `prev` is the previous log point (null at the first). */
interface LogPoint {
  step: number;
  lr: number;
  ev: Evaluation;
  cosMG: number;
  params: Params;
  shapes: LayerShape[];
  isMuon: boolean[];
  degree: number;
  /** θ_t/‖θ_t‖₂, flattened. */
  unit: Float64Array;
  prev: { unit: Float64Array; normL2: number } | null;
  gram: GramWorkspace;
}

function logRow({ step, lr, ev, cosMG, params, shapes, isMuon, degree, unit, prev, gram }: LogPoint): LogRow {
  const qmin = minMargin(ev.margins);
  const norms = allNorms(params, shapes, isMuon, gram);
  // From the scale-free direction G alone: e^gradLogScale cancels, so this is exact at any loss.
  const align = kktAlignments(ev.gradLogScale === -Infinity ? null : ev.grad, params, shapes, isMuon, norms);
  return {
    step,
    lr,
    loss: Math.exp(ev.logLoss),
    log10_loss: toLog10(ev.logLoss),
    train_acc: accuracyFromMargins(ev.margins),
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
    align_l2: align.l2,
    align_linf: align.linf,
    align_spectral: align.spectral,
    align_hybrid: align.hybrid,
    angle_prev: prev ? angleBetweenUnit(unit, prev.unit) : NaN,
    norm_growth: prev ? norms.l2 / prev.normL2 : NaN,
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

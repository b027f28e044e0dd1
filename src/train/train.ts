import type { Activation, Config } from '../config/types.js';
import type { LogRow, RunFailure, RunSpec, RunStop } from '../results/runs.js';
import type { Engine, Evaluation, HeldRuns, RunState, StepOutcome, StepRequest, TransferPerStep } from '../engine/types.js';
import { angleBetweenUnit, innerProduct, kktAlignment, kktAlignments } from '../metrics/alignment.js';
import { accuracyFromMargins, cosineToLast, minMargin, normalizedMargin } from '../metrics/margins.js';
import { allNorms, normOf, resolveMuonLayers, type NormName } from '../metrics/norms.js';
import { homogeneityDegree, type LayerShape, type Params, cloneParams } from '../model/mlp.js';
import { GramWorkspace } from '../numerics/linalg.js';
import { toLog10 } from '../numerics/logLoss.js';
import { alignColumn, extraNorms, loggedNorms, marginColumn, normColumn, ownNormName, runComposition, type LoggedNorm } from '../metrics/normTable.js';
import type { Dataset } from '../data/dataset.js';
import { HeldOutSet, heldOutValues } from './heldOut.js';
import { optimumValues, type OptimumTarget } from '../linear/track.js';
import { compositeNorm } from '../optimizers/compose.js';
import type { OptimizerSettings } from '../optimizers/registry.js';
import { firstLayerPath, fullParametrization, spanParametrization, type FirstLayerPath, type Parametrization } from './parametrization.js';
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
  /** The norm it should maximize the margin of: a standard norm's name, or a composed optimizer's own (docs/science.md §12). */
  family: string;
  degree: number;
  stepsCompleted: number;
  failure: RunFailure | null;
  /** Why and at which step the run ended (docs/science.md §11.3). */
  stop: RunStop;
  wallTimeS: number;
  /** Part of wallTimeS spent on log points (margins, norms, alignment SVDs), not on training steps. */
  logTimeS: number;
  /** Where the first layer trained (src/train/parametrization.ts). */
  path: FirstLayerPath;
  /** Host ↔ device traffic per step where the engine held the run (docs/engines.md); null for a host run. */
  transfer: TransferPerStep | null;
}

export interface TrainOptions {
  /** Called after every update with (updates done, total); keep it cheap. */
  onStep?: (done: number, total: number) => void;
  /** `auto` (the default): the first layer trains in the data's span where that applies; `full`: never. */
  firstLayer?: 'auto' | 'full';
  /** The held-out set of `data.test`: each log point gains its columns (docs/science.md §13.3). */
  test?: Dataset | null;
  /** A depth-1 run's exact optima (src/linear/track.ts): each log point gains ratio_ and cos_opt_ columns (docs/science.md §14.5). */
  optima?: readonly OptimumTarget[];
}

/**
 * The one training driver (docs/science.md §6–§8): train every run of `specs` in lockstep on one
 * engine, each from its own initial weights. Every step, the runs still going take one step
 * together. Where the engine holds runs on its device (Engine.holdRuns: the TF.js engine), the
 * whole step of every run is one device computation. Otherwise the runs live on the host: their
 * parameters are evaluated in batches of at most engine.batchLimit sets (a batch of one is the
 * ordinary case) and each run takes its optimizer step on the host. The engine may answer
 * synchronously or with a promise; this awaits either. A run that stops early (non-finite loss,
 * or its target loss reached) drops out; the others go on. The runs must share the layer shapes and
 * the activation the engine was built for. Each run's wall time includes the batch's engine time;
 * `options[i]` are run i's (its progress callback).
 *
 * A host run whose first-layer rule allows it trains its first layer in the data's span, on the
 * engine's span engine where it offers one (src/train/parametrization.ts); runs of one batch may
 * differ there, and each group is evaluated on its own engine. Runs an engine holds train W_1 itself.
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
  inits.forEach((init) => checkInit(init, shapes));
  const held = engine.holdRuns?.();
  try {
    const engines: Engine[] = [];
    const runs = specs.map((spec, i) => {
      const spanned = !held && options[i]?.firstLayer !== 'full' && firstLayerPath(config, spec, shapes.length, engine) === 'span' ? engine.inDataSpan!()! : null;
      const coords = spanned ? spanParametrization(spanned.span, shapes, inits[i]!) : fullParametrization(shapes, inits[i]!);
      engines[i] = spanned?.engine ?? engine;
      return trainSteps(config, spec, shapes, inits[i]!, held, options[i], coords);
    });
    const states = runs.map((r) => r.next());
    for (;;) {
      const live = states.flatMap((st, i) => (st.done ? [] : [i]));
      if (live.length === 0) break;
      const request = (i: number) => states[i]!.value as StepRequest;
      if (held) {
        const outcomes = await held.step(live.map(request));
        live.forEach((i, j) => (states[i] = runs[i]!.next(outcomes[j]!)));
        continue;
      }
      for (const group of new Set(live.map((i) => engines[i]!))) {
        const mine = live.filter((i) => engines[i] === group);
        const limit = Math.max(1, group.batchLimit);
        for (let k = 0; k < mine.length; k += limit) {
          const chunk = mine.slice(k, k + limit);
          const evs = await group.evaluate(chunk.map((i) => request(i).run.params), true);
          // Each run takes its evaluation (and its optimizer step) before the next engine call may overwrite it.
          chunk.forEach((i, j) => (states[i] = runs[i]!.next({ ev: evs[j]!, cosMomentumGrad: NaN, gradDotDirection: NaN })));
        }
      }
    }
    return states.map((st) => st.value as RunResult);
  } finally {
    held?.dispose();
  }
}

/** Throws unless `init` holds one weight array of the right size per layer of `shapes`. */
function checkInit(init: Params, shapes: readonly LayerShape[]): void {
  const sizes = (xs: readonly number[]) => `[${xs.join(', ')}]`;
  const want = shapes.map((s) => s.out * s.in);
  if (init.length !== want.length || init.some((w, l) => w.length !== want[l])) {
    throw new Error(`initial weights of sizes ${sizes(init.map((w) => w.length))} for layers of sizes ${sizes(want)}`);
  }
}

/** The one activation every run of a batch shares (an engine is built for one); throws otherwise, or for no runs. */
export function batchActivation(specs: readonly RunSpec[]): Activation {
  const activations = new Set(specs.map((s) => s.activation));
  if (activations.size !== 1) throw new Error(`a batch runs one activation, got ${[...activations].join(', ') || 'no runs'}`);
  return specs[0]!.activation;
}

/**
 * docs/science.md §6–§8: one run as a generator, so that the driver (trainRuns) can step the runs
 * of a batch together: it yields a request for step t of its run (a HostRun, or one that `held`
 * keeps on the engine's device), expects the step's outcome back, and returns the RunResult. A host
 * run's outcome is only the evaluation: the run takes its optimizer step here, once the loss has
 * said whether the step is logged. `coords` are the coordinates a host run trains in (θ itself by
 * default); what it logs and returns is always of θ.
 */
export function* trainSteps(
  config: Readonly<Config>,
  spec: RunSpec,
  shapes: LayerShape[],
  init: Params,
  held: HeldRuns | undefined,
  options: TrainOptions = {},
  coords: Parametrization = fullParametrization(shapes, init),
): Generator<StepRequest, RunResult, StepOutcome> {
  const started = performance.now();
  const T = config.train.steps;
  const depth = shapes.length;
  const isMuon = resolveMuonLayers(config.train.muon_layers, depth);
  const degree = homogeneityDegree(spec.activation, depth);
  const composition = runComposition(config, spec.optimizer, depth);
  const family = ownNormName(spec.optimizer);
  const gram = new GramWorkspace(shapes); // the σ_max of every log point's norms
  const rho = config.train.lr.hybrid_ratio;
  const extras = extraNorms(config, depth);
  // A hybrid's step (U Vᵀ, ρ · rule) is a unit step of N_ρ/ρ: its own norm (docs/science.md §11.1);
  // a composed optimizer's step is a unit step of its implied norm (docs/science.md §12.2).
  const ownNormInit =
    composition.preset === null
      ? compositeNorm(composition, init, shapes, gram)
      : family === 'hybrid'
        ? normOf(family as NormName, init, shapes, isMuon, gram, rho) / rho
        : normOf(family as NormName, init, shapes, isMuon, gram);
  const eta0 = config.train.lr.eta0 ?? config.train.lr.rel! * ownNormInit;
  const settings: OptimizerSettings = {
    name: spec.optimizer,
    composition,
    beta: spec.beta,
    beta2: config.train.adam_beta2,
    adamEps: config.train.adam_eps,
    hybridRatio: rho,
    polar: config.train.polar,
    isMuon,
    shapes: coords.shapes,
  };
  if (held && coords.path !== 'full') throw new Error('a run held on an engine\'s device trains W_1 itself');
  // θ_t in the run's coordinates: in the host optimizer's memory, or on the engine's device.
  const host = held ? null : new HostRun(settings, coords.start);
  const run: RunState = host ?? held!.hold(settings, coords.start);
  // A loss-based rate must not ask Adam-type layers to go faster than their √v̂ can follow.
  const hasAdam = composition.rules.some((r) => r.adam);
  const schedule = makeSchedule(config.train.lr, eta0, hasAdam ? ADAM_SAFE_FRACTION * adamSpeedLimit(config.train.adam_beta2) : Infinity);
  const logAt = new Set(logSteps(T, config.log.n_log));
  const target = config.train.target_log10_loss;
  const levels = new LossLevels([...(config.log.at_log10_loss ?? []), ...(target === null ? [] : [target])]);
  // While a loss level is still ahead, the step before each one is kept, to be logged beside the
  // step that first reaches the level (docs/science.md §11.4).
  const before = levels.pending() ? new StepBefore() : null;
  const rows: LogRow[] = [];
  const directions: Float64Array[] = []; // θ_t/‖θ_t‖₂ at each logged step, for cos_to_last
  let failure: RunFailure | null = null;
  let stop: RunStop = { reason: 'steps', step: T };
  let stepsCompleted = 0;
  let logTimeMs = 0;
  const test = options.test ? new HeldOutSet(options.test, shapes, spec.activation) : null;
  const optima = options.optima ?? [];
  const loggedNames = test ? loggedNorms(config, depth).map((n) => n.name) : [];
  // A log point of the parameters `at` (in the run's coordinates) and their evaluation, always of θ.
  const log = (step: number, lr: number, ev: Evaluation, cosMG: number, at: Params) => {
    const logStarted = performance.now();
    const theta = coords.toFull(at);
    const full = ev.grad && coords.path !== 'full' ? { ...ev, grad: coords.gradToFull(ev.grad) } : ev;
    const unit = unitFlat(theta);
    const prev = rows.length > 0 ? { unit: directions[directions.length - 1]!, normL2: rows[rows.length - 1]!.norm_l2 } : null;
    const row = logRow({ step, lr, ev: full, cosMG, params: theta, shapes, isMuon, degree, unit, prev, gram, rho, extras });
    if (test) {
      const norms = loggedNames.map((name) => ({ name, value: row[normColumn(name)]! }));
      Object.assign(row, heldOutValues({ params: theta, degree, trainMargins: full.margins, norms, test }));
    }
    if (optima.length > 0) Object.assign(row, optimumValues(optima, row, theta[0]!));
    rows.push(row);
    directions.push(unit);
    logTimeMs += performance.now() - logStarted;
  };

  for (let t = 0; t <= T; t++) {
    const planned = logAt.has(t);
    const level = levels.nextLevel();
    const outcome = yield { run, logPoint: planned, descentRate: schedule.usesDescentRate, ...(level === undefined ? {} : { logAtOrBelow: level }) };
    const { ev } = outcome;
    if (!Number.isFinite(ev.logLoss) || Number.isNaN(ev.gradLogScale)) {
      failure = { step: t, reason: `non-finite ${Number.isFinite(ev.logLoss) ? 'gradient' : 'loss'} at step ${t}` };
      stop = { reason: 'failure', step: t };
      break;
    }
    const log10Loss = toLog10(ev.logLoss);
    const crossed = levels.cross(log10Loss);
    const reached = target !== null && log10Loss <= target;
    // At t = T no update follows, but the buffer the next step would use still gives cos_m_g.
    const logged = planned || crossed || reached;
    const keep = before !== null && levels.pending() && !logged;
    // A host run's optimizer step; an engine that holds the run took it with the evaluation, and
    // took this step for a log point exactly when `logged` is true (StepRequest.logAtOrBelow).
    const { cosMomentumGrad, gradDotDirection } = host ? host.step(ev, { run, logPoint: logged || keep, descentRate: schedule.usesDescentRate }) : outcome;
    // The loss-based schedule reads how fast this very step lowers log L: ⟨G, D_t⟩ (one dot product).
    const logRate = schedule.usesDescentRate && !Number.isNaN(gradDotDirection) ? logDescentRate(ev.gradLogScale, gradDotDirection, ev.logLoss) : NaN;
    const eta = schedule.rate(t, ev.logLoss, logRate);
    if (crossed && before?.step === t - 1 && rows.at(-1)?.step !== t - 1) {
      // A held run's step before comes from the engine, which kept it on its device.
      const prior = host ? before : outcome.before ? before.from(outcome.before) : null;
      if (prior) log(t - 1, before.lr, prior.ev, before.cosMG, prior.params);
    }
    if (logged) log(t, eta, ev, cosMomentumGrad, run.params);
    if (reached) {
      stop = { reason: 'target_loss', step: t };
      break;
    }
    if (t === T) break;
    if (keep) before!.keep(t, eta, ev, cosMomentumGrad, host ? run.params : null);
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
    finalParams: cloneParams(coords.toFull(run.params)),
    eta0,
    ownNormInit,
    family,
    degree,
    stepsCompleted,
    failure,
    stop,
    wallTimeS: (performance.now() - started) / 1000,
    logTimeS: logTimeMs / 1000,
    path: coords.path,
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
  /** ρ of the hybrid norm N_ρ (docs/science.md §11.1). */
  rho: number;
  /** The norms logged beyond the standard four (docs/science.md §12.6). */
  extras: readonly LoggedNorm[];
}

function logRow({ step, lr, ev, cosMG, params, shapes, isMuon, degree, unit, prev, gram, rho, extras }: LogPoint): LogRow {
  const qmin = minMargin(ev.margins);
  const norms = allNorms(params, shapes, isMuon, gram, rho);
  // From the scale-free direction G alone: e^gradLogScale cancels, so this is exact at any loss.
  const align = kktAlignments(ev.gradLogScale === -Infinity ? null : ev.grad, params, shapes, isMuon, norms, rho, gram);
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
    ...extraValues(extras, ev, params, shapes, qmin, degree, gram),
  };
}

/** γ_N, N(θ) and align_N of each extra logged norm (docs/science.md §8, §12.6), by column. */
function extraValues(extras: readonly LoggedNorm[], ev: Evaluation, params: Params, shapes: LayerShape[], qmin: number, degree: number, gram: GramWorkspace): Record<string, number> {
  const out: Record<string, number> = {};
  if (extras.length === 0) return out;
  const grad = ev.gradLogScale === -Infinity ? null : ev.grad;
  const dot = grad ? -innerProduct(grad, params) : NaN;
  for (const n of extras) {
    const value = n.norm(params, shapes, gram);
    out[marginColumn(n.name)] = normalizedMargin(qmin, value, degree);
    out[normColumn(n.name)] = value;
    out[alignColumn(n.name)] = grad ? kktAlignment(dot, n.dual(grad, shapes, gram), value) : NaN;
  }
  return out;
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

/**
 * The loss levels (log10) a run logs around (docs/science.md §11.4): `log.at_log10_loss` and the
 * stop target. `cross` is called with each step's log10 loss in order and says whether the step is
 * the first at or below some level not reached before.
 */
class LossLevels {
  private readonly levels: number[];
  private next = 0;

  constructor(levels: readonly number[]) {
    this.levels = [...new Set(levels)].sort((a, b) => b - a);
  }

  pending(): boolean {
    return this.next < this.levels.length;
  }

  /** The highest level not reached yet (a step crosses some level exactly when its loss is at or below it); undefined when none is left. */
  nextLevel(): number | undefined {
    return this.levels[this.next];
  }

  cross(log10Loss: number): boolean {
    const from = this.next;
    while (this.next < this.levels.length && log10Loss <= this.levels[this.next]!) this.next++;
    return this.next > from;
  }
}

/**
 * The last step before the current one, kept (copied: the engine reuses its arrays) so that the
 * step just above a loss level can be logged once the next step is found below it.
 */
class StepBefore {
  step = -1;
  lr = NaN;
  cosMG = NaN;
  params: Params = [];
  ev: Evaluation = { logits: new Float64Array(0), logLoss: NaN, margins: new Float64Array(0), grad: null, gradLogScale: NaN };

  /** `params` null: a run an engine holds, whose θ it keeps itself (see `from`). */
  keep(step: number, lr: number, ev: Evaluation, cosMG: number, params: Params | null): void {
    if (params) {
      if (this.params.length === 0) this.params = params.map((w) => new Float64Array(w.length));
      params.forEach((w, l) => this.params[l]!.set(w));
    }
    if (this.ev.margins.length !== ev.margins.length) this.ev.margins = new Float64Array(ev.margins.length);
    this.ev.margins.set(ev.margins);
    if (ev.grad) {
      if (!this.ev.grad) this.ev.grad = ev.grad.map((g) => new Float64Array(g.length));
      ev.grad.forEach((g, l) => this.ev.grad![l]!.set(g));
    }
    this.ev.logLoss = ev.logLoss;
    this.ev.gradLogScale = ev.grad ? ev.gradLogScale : -Infinity;
    this.step = step;
    this.lr = lr;
    this.cosMG = cosMG;
  }

  /** The kept step with θ and G as the engine that holds the run brought them back (StepOutcome.before). */
  from(kept: NonNullable<StepOutcome['before']>): { ev: Evaluation; params: Params } {
    return { ev: { ...this.ev, grad: kept.grad, gradLogScale: kept.grad ? kept.gradLogScale : -Infinity }, params: kept.params };
  }
}

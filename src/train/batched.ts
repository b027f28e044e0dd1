import type { Activation, Config } from '../config/types.js';
import type { Evaluation } from '../engine/types.js';
import type { LayerShape, Params } from '../model/mlp.js';
import { enginePolar, trainSteps, type PolarOverride, type RunResult, type RunSpec, type TrainOptions } from './train.js';

/** An engine that evaluates several parameter sets of the same shapes in one call (src/engine/tfjs/batched.ts). */
export interface BatchEngine {
  /** Provenance for the summaries' `engine` field: "tfjs-wasm-batched", … */
  readonly name: string;
  evaluateMany(paramSets: Params[], wantGrad: boolean): Evaluation[];
  polarFactor?(M: Float64Array, r: number, c: number): Float64Array | null;
  dispose?(): void;
}

/** The one activation every run of a batch shares (the engine is built for it); throws otherwise, or for no runs. */
export function batchActivation(specs: RunSpec[]): Activation {
  const activations = new Set(specs.map((s) => s.activation));
  if (activations.size !== 1) throw new Error(`a batch runs one activation, got ${[...activations].join(', ') || 'no runs'}`);
  return specs[0]!.activation;
}

/**
 * SPEC §6–§8, batched seeds (issue #8, scope 4): train several runs in lockstep, one engine call per step for
 * all of them. Each run is exactly trainRun's (trainSteps), with its own spec, initial weights,
 * optimizer and log points; they must share the layer shapes and the activation the engine was
 * built for. A run that stops early (non-finite loss) drops out of the batch. Each run's wall time
 * includes the whole batch's engine time. `options[i]` are run i's (its progress callback).
 */
export function trainRunsBatched(
  config: Readonly<Config>,
  specs: RunSpec[],
  engine: BatchEngine,
  shapes: LayerShape[],
  inits: Params[],
  options: TrainOptions[] = [],
): RunResult[] {
  if (specs.length !== inits.length) throw new Error(`${specs.length} runs but ${inits.length} initial weights`);
  if (specs.length > 0) batchActivation(specs);
  const polar: PolarOverride | undefined = enginePolar(config, engine);
  const runs = specs.map((spec, i) => trainSteps(config, spec, shapes, inits[i]!, polar, options[i]));
  let states = runs.map((r) => r.next());
  const results: (RunResult | null)[] = specs.map(() => null);
  for (;;) {
    const live = states.flatMap((st, i) => (st.done ? [] : [i]));
    states.forEach((st, i) => {
      if (st.done) results[i] = st.value;
    });
    if (live.length === 0) break;
    const evs = engine.evaluateMany(live.map((i) => states[i]!.value as Params), true);
    const next = [...states];
    live.forEach((i, k) => (next[i] = runs[i]!.next(evs[k]!)));
    states = next;
  }
  return results as RunResult[];
}

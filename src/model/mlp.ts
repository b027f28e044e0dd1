import type { Activation, ModelConfig } from '../config/types.js';
import type { Dataset } from '../data/dataset.js';
import { Rng } from '../rng.js';

/** Shape of one weight matrix W_l: [out, in], stored row-major (docs/science.md §3). */
export interface LayerShape {
  out: number;
  in: number;
}

/** Parameters θ = (W_1, …, W_L): one row-major Float64Array per layer. */
export type Params = Float64Array[];

/** A bias-free MLP f(θ; x) = W_L σ(W_{L−1} … σ(W_1 x)) (docs/science.md §3); σ does not change its shapes. */
export interface MlpSpec {
  inputDim: number;
  width: number;
  outputDim: number;
  depth: number;
}

/** Layer shapes of an MLP: [width, inputDim], [width, width] …, [outputDim, width]. */
export function layerShapes(spec: MlpSpec): LayerShape[] {
  const shapes: LayerShape[] = [];
  for (let l = 0; l < spec.depth; l++) {
    const inDim = l === 0 ? spec.inputDim : spec.width;
    const outDim = l === spec.depth - 1 ? spec.outputDim : spec.width;
    shapes.push({ out: outDim, in: inDim });
  }
  return shapes;
}

/** The layer shapes of a config's model on its data: C outputs for C classes, one for the parity task. */
export function shapesFor(model: Pick<ModelConfig, 'width' | 'depth'>, data: Pick<Dataset, 'd' | 'numClasses'>): LayerShape[] {
  return layerShapes({ inputDim: data.d, width: model.width, outputDim: data.numClasses, depth: model.depth });
}

/**
 * docs/science.md §3: homogeneity degree D with f(cθ) = c^D f(θ) for c > 0.
 * ReLU is 1-homogeneous, so each layer adds one: D = L. Squared ReLU doubles the degree of what it
 * is applied to and the next layer adds one: D_l = 2 D_{l−1} + 1, D_1 = 1, hence D = 2^L − 1.
 */
export function homogeneityDegree(activation: Activation, depth: number): number {
  return activation === 'relu' ? depth : 2 ** depth - 1;
}

/** docs/science.md §3: W_l ~ N(0, s²/fan_in) entrywise, layers in order, row-major, one stream from `seed`. */
export function initParams(shapes: LayerShape[], initScale: number, seed: number): Params {
  const rng = new Rng(seed);
  return shapes.map(({ out, in: fanIn }) => {
    const std = initScale / Math.sqrt(fanIn);
    const w = new Float64Array(out * fanIn);
    for (let i = 0; i < w.length; i++) w[i] = std * rng.normal();
    return w;
  });
}

export function cloneParams(params: Params): Params {
  return params.map((w) => w.slice());
}

export function paramCount(shapes: LayerShape[]): number {
  return shapes.reduce((n, s) => n + s.out * s.in, 0);
}

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

/** σ(z) in place, keeping what backward needs: σ'(z) for each unit (docs/science.md §3). */
export function activateInPlace(z: Float64Array, deriv: Float64Array, activation: Activation): void {
  if (activation === 'relu') {
    for (let k = 0; k < z.length; k++) {
      const v = z[k]!;
      if (v > 0) deriv[k] = 1;
      else {
        z[k] = 0;
        deriv[k] = 0;
      }
    }
  } else {
    // squared ReLU: σ(z) = max(0, z)², σ'(z) = 2 max(0, z)
    for (let k = 0; k < z.length; k++) {
      const v = z[k]!;
      if (v > 0) {
        z[k] = v * v;
        deriv[k] = 2 * v;
      } else {
        z[k] = 0;
        deriv[k] = 0;
      }
    }
  }
}

/** One dense forward pass f(θ; x) over a batch of inputs, kept for inputGradient. */
export interface DensePass {
  /** Rows in the batch. */
  n: number;
  /** f(θ; x_i), [n, C] row-major. */
  outputs: Float64Array;
  /** σ'(z_l) of each hidden layer, [n, out_l] row-major. */
  derivs: Float64Array[];
}

/**
 * docs/science.md §3: f(θ; x_i) for the rows of X [n, shapes[0].in], dense, with σ'(z) kept for
 * the backward pass to the input. Unlike the training engine, whose input is fixed, the input here
 * is free: the attack of docs/science.md §13.2 moves it. A single layer is a linear model.
 */
export function denseForward(params: Params, shapes: readonly LayerShape[], activation: Activation, X: Float64Array, n: number): DensePass {
  let A = X;
  const derivs: Float64Array[] = [];
  shapes.forEach(({ out, in: kIn }, l) => {
    const W = params[l]!;
    const Z = new Float64Array(n * out);
    for (let i = 0; i < n; i++) denseRow(A, i * kIn, W, kIn, out, Z, i * out);
    if (l < shapes.length - 1) {
      const deriv = new Float64Array(n * out);
      activateInPlace(Z, deriv, activation);
      derivs.push(deriv);
    }
    A = Z;
  });
  return { n, outputs: A, derivs };
}

/** z[zo + o] = ⟨a[ao …], W row o⟩ for every row o of W [out, kIn]; four rows at a time share each load of a. */
function denseRow(a: Float64Array, ao: number, W: Float64Array, kIn: number, out: number, z: Float64Array, zo: number): void {
  let o = 0;
  for (; o + 4 <= out; o += 4) {
    const w0 = o * kIn;
    const w1 = w0 + kIn;
    const w2 = w1 + kIn;
    const w3 = w2 + kIn;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let k = 0; k < kIn; k++) {
      const v = a[ao + k]!;
      if (v === 0) continue; // most pixels are 0
      s0 += v * W[w0 + k]!;
      s1 += v * W[w1 + k]!;
      s2 += v * W[w2 + k]!;
      s3 += v * W[w3 + k]!;
    }
    z[zo + o] = s0;
    z[zo + o + 1] = s1;
    z[zo + o + 2] = s2;
    z[zo + o + 3] = s3;
  }
  for (; o < out; o++) {
    const w = o * kIn;
    let sum = 0;
    for (let k = 0; k < kIn; k++) sum += a[ao + k]! * W[w + k]!;
    z[zo + o] = sum;
  }
}

/** da[dao …] = Σ_o g[go + o] · (row o of W [out, kIn]), the active units (g ≠ 0) four at a time per pass over da. */
function combineRows(g: Float64Array, go: number, W: Float64Array, kIn: number, out: number, da: Float64Array, dao: number): void {
  const active: number[] = [];
  for (let o = 0; o < out; o++) if (g[go + o] !== 0) active.push(o);
  let a = 0;
  for (; a + 4 <= active.length; a += 4) {
    const [o0, o1, o2, o3] = [active[a]!, active[a + 1]!, active[a + 2]!, active[a + 3]!];
    const c0 = g[go + o0]!;
    const c1 = g[go + o1]!;
    const c2 = g[go + o2]!;
    const c3 = g[go + o3]!;
    const w0 = o0 * kIn;
    const w1 = o1 * kIn;
    const w2 = o2 * kIn;
    const w3 = o3 * kIn;
    for (let k = 0; k < kIn; k++) da[dao + k]! += c0 * W[w0 + k]! + c1 * W[w1 + k]! + c2 * W[w2 + k]! + c3 * W[w3 + k]!;
  }
  for (; a < active.length; a++) {
    const o = active[a]!;
    const c = g[go + o]!;
    const w = o * kIn;
    for (let k = 0; k < kIn; k++) da[dao + k]! += c * W[w + k]!;
  }
}

/**
 * ∂/∂x_i of Σ_j dOut[i, j] f_j(θ; x_i) for every row of a denseForward pass: the input gradient
 * [n, shapes[0].in] of any function of the outputs whose output gradient is dOut [n, C].
 */
export function inputGradient(params: Params, shapes: readonly LayerShape[], pass: DensePass, dOut: Float64Array): Float64Array {
  const { n } = pass;
  let G = dOut;
  for (let l = shapes.length - 1; l >= 0; l--) {
    const { out, in: kIn } = shapes[l]!;
    const W = params[l]!;
    const dA = new Float64Array(n * kIn);
    for (let i = 0; i < n; i++) combineRows(G, i * out, W, kIn, out, dA, i * kIn);
    if (l > 0) {
      const deriv = pass.derivs[l - 1]!;
      for (let k = 0; k < dA.length; k++) dA[k]! *= deriv[k]!;
    }
    G = dA;
  }
  return G;
}

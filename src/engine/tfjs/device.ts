import type * as TF from '@tensorflow/tfjs-core';

/**
 * What crosses between the host and a TF.js device, and how the engine's device computations are
 * driven (docs/engines.md). A device computation is a generator: it launches device work, yields
 * the tensors it needs read and takes their data back in the same order, and returns its result.
 * `drive` answers it with dataSync() where the backend can read synchronously and with
 * `await data()` where it cannot (webgpu in Node), so both ways run the same code.
 */

/** Data read back from the device: what dataSync()/data() give (Float32Array for float32 tensors). */
export type DeviceData = Float32Array | Int32Array | Uint8Array;

/** A device computation (see above). */
export type DeviceWork<R> = Generator<TF.Tensor[], R, DeviceData[]>;

/** Bytes moved, counted where it happens: `down` in drive's reads, `up` in upload. */
export class Traffic {
  down = 0;
  up = 0;
}

/** A tensor from host values: the only way this engine's per-step code puts data on the device. */
export function upload<R extends TF.Rank>(tf: typeof TF, traffic: Traffic, values: Float32Array | Int32Array, shape: TF.ShapeMap[R]): TF.Tensor<R> {
  traffic.up += values.byteLength;
  return tf.tensor(values, shape, values instanceof Int32Array ? 'int32' : 'float32') as TF.Tensor<R>;
}

/**
 * Run a device computation to its end, reading what it yields synchronously (`sync`) or not.
 * `resume` runs before the computation continues after each read (the engine makes its backend the
 * active one again: another engine may have run while this one waited).
 */
export function drive<R>(work: DeviceWork<R>, sync: boolean, traffic: Traffic, resume: () => void): R | Promise<R> {
  const count = (data: DeviceData[]) => {
    for (const d of data) traffic.down += d.byteLength;
    resume();
    return data;
  };
  if (sync) {
    let next = work.next();
    while (!next.done) next = work.next(count(next.value.map((t) => t.dataSync() as DeviceData)));
    return next.value;
  }
  return (async () => {
    let next = work.next();
    while (!next.done) next = work.next(count((await Promise.all(next.value.map((t) => t.data()))) as DeviceData[]));
    return next.value;
  })();
}

/**
 * Scalars the device code multiplies by, made once per engine: an op given a JavaScript number
 * uploads it as a new scalar tensor every time (TF.js converts it), which would be a transfer per
 * op and step.
 */
export interface DeviceConstants {
  zero: TF.Scalar;
  one: TF.Scalar;
  two: TF.Scalar;
  /** Guards a division by a norm that may be 0 (the quotient is then 0 as well). */
  tiny: TF.Scalar;
  /** Muon's quintic Newton–Schulz coefficients (src/engine/tfjs/polar.ts). */
  nsA: TF.Scalar;
  nsB: TF.Scalar;
  nsC: TF.Scalar;
  /** The cubic Newton–Schulz step X ← 1.5 X − 0.5 (X Xᵀ) X. */
  oneHalf3: TF.Scalar;
  minusHalf: TF.Scalar;
  /** The rounding step X ← (2.5 A − 1.5 A²) X of the device polar factor. */
  cleanA: TF.Scalar;
  cleanB: TF.Scalar;
}

export function deviceConstants(tf: typeof TF): DeviceConstants {
  return {
    zero: tf.scalar(0),
    one: tf.scalar(1),
    two: tf.scalar(2),
    tiny: tf.scalar(1e-30),
    nsA: tf.scalar(3.4445),
    nsB: tf.scalar(-4.775),
    nsC: tf.scalar(2.0315),
    oneHalf3: tf.scalar(1.5),
    minusHalf: tf.scalar(-0.5),
    cleanA: tf.scalar(2.5),
    cleanB: tf.scalar(-1.5),
  };
}

export function disposeConstants(k: DeviceConstants): void {
  for (const t of Object.values(k)) t.dispose();
}

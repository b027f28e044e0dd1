import type { Params } from '../model/mlp.js';
import type { F64Block, KernelArena } from '../numerics/wasm/kernels.js';

/**
 * docs/science.md §4: a list of tensors stored as e^logScale · values with max|values| kept in [1/2, 2] (or all
 * zero and logScale = −∞). Gradients shrink with the loss to 1e-200 and below; momentum mixes gradients of
 * different steps, so its buffers must carry their scale in the log too or they underflow.
 */
export interface Scaled {
  logScale: number;
  values: Params;
  /** Where `values` live: one block per tensor in the optimizer's kernel arena (values[l] = blocks[l].view). */
  blocks: F64Block[];
}

/** A zero buffer over `blocks` (zero-filled blocks of the arena whose kernels the passes below use), one per tensor. */
export function zeroScaled(blocks: F64Block[]): Scaled {
  for (const b of blocks) b.view.fill(0);
  return { logScale: -Infinity, values: blocks.map((b) => b.view), blocks };
}

/** log(x) with log(0) = −∞, for β = 0 and the like. */
function safeLog(x: number): number {
  return x > 0 ? Math.log(x) : -Infinity;
}

/**
 * Keep max|values| near 1: rescale (moving the factor into logScale) when the max left [1/2, 2].
 * The update passes already know the max, so in the common case this costs nothing; the band
 * loses at most one bit of the ~2098 bits of exponent range the representation relies on.
 */
function settle(arena: KernelArena, buf: Scaled, refLogScale: number, maxAbs: number): void {
  if (maxAbs === 0) {
    buf.logScale = -Infinity;
    return;
  }
  buf.logScale = refLogScale;
  if (maxAbs >= 0.5 && maxAbs <= 2) return;
  const inv = 1 / maxAbs;
  for (const b of buf.blocks) arena.scaleInto(b, b, inv);
  buf.logScale = refLogScale + Math.log(maxAbs);
}

/**
 * The two terms of buf ← e^logA · buf + e^logB · new, brought to the larger log-scale `ref` so
 * that neither underflows against the other: buf ← ca · buf + cb · new, result at scale e^ref.
 */
function commonScale(logA: number, logB: number): { ref: number; ca: number; cb: number } {
  const ref = Math.max(logA, logB);
  return {
    ref,
    ca: logA === -Infinity ? 0 : Math.exp(logA - ref),
    cb: logB === -Infinity ? 0 : Math.exp(logB - ref),
  };
}

/**
 * docs/science.md §6: the momentum EMA m ← β m + (1 − β) g, in scaled form: both terms are brought to the
 * larger of their two log-scales before adding, so neither underflows against the other. `grad`
 * holds g's normalized values in blocks of the same arena (KernelArena.ema does the pass).
 */
export function emaInto(arena: KernelArena, buf: Scaled, beta: number, grad: F64Block[], gradLogScale: number): void {
  const { ref, ca, cb } = commonScale(buf.logScale + safeLog(beta), gradLogScale + safeLog(1 - beta));
  if (ref === -Infinity) return;
  let maxAbs = 0;
  buf.blocks.forEach((m, l) => (maxAbs = Math.max(maxAbs, arena.ema(m, grad[l]!, ca, cb))));
  settle(arena, buf, ref, maxAbs);
}

/**
 * docs/science.md §6: Adam's second moment v ← β2 v + (1 − β2) g², kept as its square root r = √v in scaled
 * form. r has the dynamic range of m and g (v has twice it, and would underflow where m does not),
 * and the update is a per-coordinate hypot: √(β2 r² + (1 − β2) g²), computed without squaring
 * either term, as big·√(1 + (small/big)²), so that nothing below 1e-154 is lost
 * (KernelArena.rmsEma). It is a log-scale representation of v (log v_k = 2 logScale + 2 log r̂_k)
 * that costs one division and one square root per coordinate instead of the exp/log pair a
 * per-coordinate log v would.
 */
export function rmsEmaInto(arena: KernelArena, buf: Scaled, beta2: number, grad: F64Block[], gradLogScale: number): void {
  const { ref, ca, cb } = commonScale(buf.logScale + 0.5 * safeLog(beta2), gradLogScale + 0.5 * safeLog(1 - beta2));
  if (ref === -Infinity) return;
  let maxAbs = 0;
  buf.blocks.forEach((r, l) => (maxAbs = Math.max(maxAbs, arena.rmsEma(r, grad[l]!, ca, cb))));
  settle(arena, buf, ref, maxAbs);
}

/** cos(a, b) over all layers; scale-free, so it works on the normalized values directly. */
export function cosineOf(a: Params, b: Params): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let l = 0; l < a.length; l++) {
    const x = a[l]!;
    const y = b[l]!;
    for (let k = 0; k < x.length; k++) {
      dot += x[k]! * y[k]!;
      na += x[k]! * x[k]!;
      nb += y[k]! * y[k]!;
    }
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

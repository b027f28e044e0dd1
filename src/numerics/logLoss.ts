/**
 * docs/science.md §4: softmax cross-entropy and its gradient with respect to the logits, in the log domain.
 *
 * The experiment drives the loss to 1e-200 and below. The textbook gradient p_y − 1 rounds to 0
 * once p_y rounds to 1 (loss ≲ 1e-16) and the direction is lost. Here everything is computed from
 * a_i = log Σ_{j≠y} exp(f_ij − f_iy), which stays finite and exact at any margin:
 *   loss_i          = softplus(a_i)                      (= −log p_iy)
 *   ∂loss_i/∂f_ij   = p_ij = exp(f_ij − f_iy − softplus(a_i))        j ≠ y
 *   ∂loss_i/∂f_iy   = −Σ_{j≠y} p_ij = −exp(a_i − softplus(a_i))       never computed as p_y − 1
 * The gradient of the mean loss is returned as e^s · G with max|G| = 1 (s a float64 log-scale).
 */

const LN10 = Math.log(10);

/** softplus(a) = log(1 + e^a) without overflow or cancellation. */
export function softplus(a: number): number {
  return a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a));
}

/**
 * log(softplus(a)) for any finite a. For a < −37, softplus(a) = e^a (1 − e^a/2 + …) and the
 * correction is below float64 resolution, so log softplus(a) = a exactly; this is what keeps
 * log10_loss exact where the loss itself underflows to 0.
 */
export function logSoftplus(a: number): number {
  return a < -37 ? a : Math.log(softplus(a));
}

/** log Σ exp(values[0..n)), stable. */
function logSumExpOf(values: Float64Array, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (values[i]! > max) max = values[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(values[i]! - max);
  return max + Math.log(sum);
}

export interface LogLossResult {
  /** Natural log of the mean loss, exact at any loss (docs/science.md §4). */
  logLoss: number;
  /** Per-sample a_i = log Σ_{j≠y} exp(f_ij − f_iy): the loss of sample i is softplus(a_i). */
  logOddsAgainst: Float64Array;
  /** Sample margins q_i = f_iy − max_{j≠y} f_ij (docs/science.md §5). */
  margins: Float64Array;
}

/**
 * docs/science.md §4: mean softmax cross-entropy in the log domain, and (if `gradOut` is given) its gradient
 * with respect to the logits as e^s · G, max|G| = 1; returns s (−∞ if the gradient is exactly 0).
 * logits: [n, C] row-major; labels: [n] in 0..C−1; gradOut: [n, C], overwritten with G.
 */
export function crossEntropyLogDomain(
  logits: Float64Array,
  labels: Int32Array,
  numClasses: number,
  gradOut: Float64Array | null,
): LogLossResult & { gradLogScale: number } {
  const n = labels.length;
  const C = numClasses;
  const a = new Float64Array(n);
  const margins = new Float64Array(n);
  const logLossPerSample = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = i * C;
    const y = labels[i]!;
    const fy = logits[row + y]!;
    let maxOther = -Infinity;
    for (let j = 0; j < C; j++) if (j !== y && logits[row + j]! > maxOther) maxOther = logits[row + j]!;
    let sum = 0;
    for (let j = 0; j < C; j++) if (j !== y) sum += Math.exp(logits[row + j]! - maxOther);
    a[i] = maxOther - fy + Math.log(sum);
    margins[i] = fy - maxOther;
    logLossPerSample[i] = logSoftplus(a[i]!);
  }
  const logLoss = logSumExpOf(logLossPerSample, n) - Math.log(n);

  let gradLogScale = -Infinity;
  if (gradOut) {
    // First pass: the log-magnitude of every entry; the mean's 1/n is folded into s at the end.
    let s = -Infinity;
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const y = labels[i]!;
      const sp = softplus(a[i]!);
      const fy = logits[row + y]!;
      for (let j = 0; j < C; j++) {
        const l = j === y ? a[i]! - sp : logits[row + j]! - fy - sp;
        gradOut[row + j] = l;
        if (l > s) s = l;
      }
    }
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const y = labels[i]!;
      for (let j = 0; j < C; j++) {
        const mag = Math.exp(gradOut[row + j]! - s);
        gradOut[row + j] = j === y ? -mag : mag;
      }
    }
    gradLogScale = s - Math.log(n);
  }
  return { logLoss, logOddsAgainst: a, margins, gradLogScale };
}

/** log10 of a loss given by its natural log. */
export function toLog10(logLoss: number): number {
  return logLoss / LN10;
}

/**
 * docs/science.md §4 binary form: mean logistic loss log(1 + e^{−y f}) over outputs f [n] and labels y = ±1,
 * in the log domain. With q_i = y_i f_i (the sample margin, docs/science.md §5):
 *   loss_i = softplus(−q_i),   ∂loss_i/∂f_i = −y_i σ(−q_i) = −y_i exp(−q_i − softplus(−q_i)),
 * so the gradient keeps its direction at any loss, as in the multiclass case.
 */
export function logisticLogDomain(
  outputs: Float64Array,
  labels: Int32Array,
  gradOut: Float64Array | null,
): LogLossResult & { gradLogScale: number } {
  const n = labels.length;
  const margins = new Float64Array(n);
  const minusQ = new Float64Array(n);
  const logLossPerSample = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    margins[i] = labels[i]! * outputs[i]!;
    minusQ[i] = -margins[i]!;
    logLossPerSample[i] = logSoftplus(minusQ[i]!);
  }
  const logLoss = logSumExpOf(logLossPerSample, n) - Math.log(n);
  let gradLogScale = -Infinity;
  if (gradOut) {
    let s = -Infinity;
    for (let i = 0; i < n; i++) {
      const l = minusQ[i]! - softplus(minusQ[i]!);
      gradOut[i] = l;
      if (l > s) s = l;
    }
    for (let i = 0; i < n; i++) gradOut[i] = -labels[i]! * Math.exp(gradOut[i]! - s);
    gradLogScale = s - Math.log(n);
  }
  return { logLoss, logOddsAgainst: minusQ, margins, gradLogScale };
}

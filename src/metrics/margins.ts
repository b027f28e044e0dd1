/** docs/science.md §5: q_min = min_i q_i over the sample margins q_i = f_y(x_i) − max_{j≠y} f_j(x_i). */
export function minMargin(margins: Float64Array): number {
  let q = Infinity;
  for (let i = 0; i < margins.length; i++) if (margins[i]! < q) q = margins[i]!;
  return q;
}

/** Fraction of samples with a positive margin (a tie counts as an error). */
export function accuracyFromMargins(margins: Float64Array): number {
  let right = 0;
  for (let i = 0; i < margins.length; i++) if (margins[i]! > 0) right++;
  return right / margins.length;
}

/** docs/science.md §5: γ_N(θ) = q_min / N(θ)^D, invariant to θ → cθ for c > 0. */
export function normalizedMargin(qmin: number, norm: number, degree: number): number {
  return qmin / norm ** degree;
}

/** docs/science.md §8 cos_to_last: ⟨θ_t/‖θ_t‖₂, θ_T/‖θ_T‖₂⟩, for unit vectors already normalized. */
export function cosineToLast(unitTheta: Float64Array, unitLast: Float64Array): number {
  let dot = 0;
  for (let k = 0; k < unitTheta.length; k++) dot += unitTheta[k]! * unitLast[k]!;
  return dot;
}

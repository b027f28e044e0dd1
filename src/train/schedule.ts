/** SPEC §7: η_t = η_0 / (t + 1)^a; t = 0 is the first update. */
export function learningRate(eta0: number, decay: number, t: number): number {
  return eta0 / (t + 1) ** decay;
}

/**
 * SPEC §8: log points — about nLog steps on a geometric grid between 1 and T, plus 0 and T.
 * Rounding merges the first few grid points, so there can be fewer than nLog + 1 distinct steps.
 */
export function logSteps(steps: number, nLog: number): number[] {
  const out = new Set<number>([0, steps]);
  if (nLog === 1) out.add(1);
  for (let k = 0; k < nLog && nLog > 1; k++) out.add(Math.min(steps, Math.round(steps ** (k / (nLog - 1)))));
  return [...out].sort((a, b) => a - b);
}

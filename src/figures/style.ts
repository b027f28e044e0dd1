import type { Activation, OptimizerName } from '../config/types.js';
import type { NormName } from '../metrics/norms.js';

/** Human names used in figures and tables. */
export const NORM_LABEL: Record<NormName, string> = { l2: 'ℓ2', linf: 'ℓ∞', spectral: 'spectral', hybrid: 'hybrid' };
export const NORM_LATEX: Record<NormName, string> = { l2: '$\\ell_2$', linf: '$\\ell_\\infty$', spectral: 'spectral', hybrid: 'hybrid' };
export const ACTIVATION_LABEL: Record<Activation, string> = { relu: 'ReLU', sqrelu: 'squared ReLU' };
export const betaLabel = (beta: number): string => `β = ${beta}`;

/**
 * SPEC §10: one colour per optimizer, darker for ReLU, lighter for squared ReLU. Hues are the
 * Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), chosen to stay distinct under
 * the common colour-vision deficiencies; the activation changes lightness only, which those
 * deficiencies preserve.
 */
export const OPTIMIZER_HUE: Record<OptimizerName, string> = {
  ngd: '#0072B2', // blue
  signum: '#D55E00', // vermillion
  adam: '#E69F00', // orange
  muon: '#009E73', // bluish green
  muon_signum: '#CC79A7', // reddish purple
  muon_adam: '#56B4E9', // sky blue
};

/** Mix a #rrggbb colour toward black (amount < 0) or white (amount > 0). */
export function shade(hex: string, amount: number): string {
  const target = amount < 0 ? 0 : 255;
  const a = Math.abs(amount);
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${channels.map((c) => Math.round(c + (target - c) * a).toString(16).padStart(2, '0')).join('')}`;
}

/** ReLU: the hue darkened by 20%; squared ReLU: lightened by 45%. */
export function seriesColor(optimizer: OptimizerName, activation: Activation): string {
  return shade(OPTIMIZER_HUE[optimizer], activation === 'relu' ? -0.2 : 0.45);
}

/** Legend entry of a (optimizer, activation) series. */
export const seriesLabel = (optimizer: OptimizerName, activation: Activation): string => `${optimizer} · ${ACTIVATION_LABEL[activation]}`;

/** SPEC §10: solid for β = 0.9 (any β > 0), dotted for β = 0. */
export const dashOf = (beta: number): number[] => (beta === 0 ? [2, 3] : [1, 0]);

/**
 * One font everywhere: DejaVu Sans, shipped as TTF by the npm package dejavu-fonts-ttf (the
 * default font of matplotlib; covers ℓ, ∞, β, γ, θ, ‖ and ±). The PNG renderer loads only this
 * file, so PNGs are the same on every machine; the SVGs name it first and fall back to a sans-serif.
 */
export const FONT_FAMILY = 'DejaVu Sans';
export const FONT_STACK = `${FONT_FAMILY}, Verdana, Arial, sans-serif`;

import type { Activation, OptimizerName } from '../config/types.js';
import { NORM_TEXT, type NormName } from '../optimizers/families.js';

/** Human names used in figures and tables. */
/** A norm's label by name: a standard norm's (src/optimizers/families.ts), or a composed norm's name itself (docs/science.md §12.6). */
export const normLabel = (name: string): string => (Object.hasOwn(NORM_TEXT, name) ? NORM_TEXT[name as NormName].text : name);
/** The same in LaTeX: a composed norm's name in typewriter type. */
export const normLatex = (name: string): string => (Object.hasOwn(NORM_TEXT, name) ? NORM_TEXT[name as NormName].latex : `\\texttt{${name.replace(/_/g, '\\_')}}`);
export const ACTIVATION_LABEL: Record<Activation, string> = { relu: 'ReLU', sqrelu: 'squared ReLU' };
export const betaLabel = (beta: number): string => `β = ${beta}`;

/**
 * One colour per optimizer, the same in every figure. Each panel shows one activation (a row of
 * the figure), so a panel holds at most these six colours, and any two of them must stay apart in
 * colour and in greyscale: the lightnesses step by about 9 L* from 25 (navy) to 70 (sky blue), and
 * colours of neighbouring lightness have far-apart hues. Measured (src/figures/color.ts): every
 * pair differs by ΔE₀₀ ≥ 32 and |ΔL*| ≥ 8.9; test/figures/color.test.ts holds them to
 * MIN_DELTA_E and MIN_DELTA_L. The darkest is kept above black and the lightest at L* 70, so every
 * line stands out from the white background.
 */
export const OPTIMIZER_COLOR: Record<OptimizerName, string> = {
  ngd: '#0A3D6A', // navy, L* 25
  signum: '#9E1818', // crimson, L* 34
  muon: '#1B743F', // green, L* 43
  muon_signum: '#B947DE', // violet, L* 52
  adam: '#E47512', // orange, L* 61
  muon_adam: '#39BAD7', // sky blue, L* 70
};

/**
 * A composed optimizer's colour (docs/science.md §12): near-black olive (L* 8, below the navy's 25; ΔE₀₀ ≥ 31 from every preset colour). A
 * panel draws at most one composed optimizer, its own norm's (the `composed` figure).
 */
export const COMPOSED_COLOR = '#181800';

/** A series colour: a preset's own, a composed optimizer's COMPOSED_COLOR. */
export const optimizerColor = (optimizer: string): string => (Object.hasOwn(OPTIMIZER_COLOR, optimizer) ? OPTIMIZER_COLOR[optimizer as OptimizerName] : COMPOSED_COLOR);

/** The least CIEDE2000 difference between two series colours of one panel. */
export const MIN_DELTA_E = 25;
/** The least lightness difference |ΔL*| between two series colours of one panel (greyscale). */
export const MIN_DELTA_L = 8;

/** Dash of a β: solid for β > 0, dotted for β = 0 (docs/science.md §10). */
const SOLID: number[] = [1, 0];
const DOTTED: number[] = [2, 3];
/**
 * More patterns, for more than one β > 0, or for runs of other settings drawn together
 * (`--allow-mixed`): dashed, dash-dot, long dash, dash-dot-dot, then they repeat.
 */
const MORE_DASHES: number[][] = [
  [8, 4],
  [8, 3, 2, 3],
  [14, 4],
  [8, 3, 2, 3, 2, 3],
];

/** A line style key: one β, and the settings label of its runs ('' unless mixed). */
export interface DashKey {
  beta: number;
  variant: string;
}

/** Legend entry of a line style: `β = 0.9`, or `β = 0.9 · steps=200` for mixed settings. */
export const dashLabel = (k: DashKey): string => (k.variant ? `${betaLabel(k.beta)} · ${k.variant}` : betaLabel(k.beta));

/**
 * Dash patterns for the line styles of a figure, in the order given: the first β > 0 solid and
 * β = 0 dotted (docs/science.md §10) for the first settings label; every other style the next of MORE_DASHES.
 */
export function dashPatterns(keys: readonly DashKey[]): number[][] {
  let solid = false;
  let dotted = false;
  let next = 0;
  const first = keys[0]?.variant;
  return keys.map((k) => {
    if (k.variant === first && k.beta > 0 && !solid) {
      solid = true;
      return SOLID;
    }
    if (k.variant === first && k.beta === 0 && !dotted) {
      dotted = true;
      return DOTTED;
    }
    return MORE_DASHES[next++ % MORE_DASHES.length]!;
  });
}

/**
 * One font everywhere: DejaVu Sans, shipped as TTF by the npm package dejavu-fonts-ttf (the
 * default font of matplotlib; covers ℓ, ∞, β, γ, θ, ‖ and ±). The PNG renderer loads only this
 * file, so PNGs are the same on every machine; the SVGs name it first and fall back to a sans-serif.
 */
export const FONT_FAMILY = 'DejaVu Sans';
export const FONT_STACK = `${FONT_FAMILY}, Verdana, Arial, sans-serif`;

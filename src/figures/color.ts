/**
 * How far apart two series colours look: CIELAB (D65 white, sRGB primaries) and the CIEDE2000
 * colour difference ΔE₀₀ (Sharma, Wu & Dalal 2005, "The CIEDE2000 Color-Difference Formula:
 * Implementation Notes, Supplementary Test Data, and Mathematical Observations", whose test pairs
 * test/figures/color.test.ts checks). A greyscale print keeps only lightness, so |ΔL*| is how far
 * apart two colours stay in greyscale.
 */

export type Lab = [L: number, a: number, b: number];

/** sRGB transfer function inverted: an 8-bit channel → linear light in [0, 1] (IEC 61966-2-1). */
function linear(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** `#rrggbb` → CIELAB, D65 reference white. */
export function hexToLab(hex: string): Lab {
  if (!/^#[0-9a-fA-F]{6}$/.test(hex)) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = [1, 3, 5].map((i) => linear(parseInt(hex.slice(i, i + 2), 16))) as [number, number, number];
  // sRGB → XYZ (D65), then relative to the white point.
  const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const [fx, fy, fz] = [f(x), f(y), f(z)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** CIE lightness L* (0 black … 100 white): what a greyscale rendering of the colour keeps. */
export const lightness = (hex: string): number => hexToLab(hex)[0];

const RAD = Math.PI / 180;

/** CIEDE2000 ΔE₀₀ between two CIELAB colours (k_L = k_C = k_H = 1). */
export function deltaE2000([L1, a1, b1]: Lab, [L2, a2, b2]: Lab): number {
  const C1 = Math.hypot(a1, b1);
  const C2 = Math.hypot(a2, b2);
  const Cbar7 = ((C1 + C2) / 2) ** 7;
  const G = 0.5 * (1 - Math.sqrt(Cbar7 / (Cbar7 + 25 ** 7)));
  const a1p = (1 + G) * a1;
  const a2p = (1 + G) * a2;
  const C1p = Math.hypot(a1p, b1);
  const C2p = Math.hypot(a2p, b2);
  const hue = (b: number, a: number) => (a === 0 && b === 0 ? 0 : (Math.atan2(b, a) / RAD + 360) % 360);
  const h1p = hue(b1, a1p);
  const h2p = hue(b2, a2p);
  const dLp = L2 - L1;
  const dCp = C2p - C1p;
  let dhp = 0;
  if (C1p * C2p !== 0) {
    dhp = h2p - h1p;
    if (dhp > 180) dhp -= 360;
    else if (dhp < -180) dhp += 360;
  }
  const dHp = 2 * Math.sqrt(C1p * C2p) * Math.sin((dhp * RAD) / 2);
  const Lbp = (L1 + L2) / 2;
  const Cbp = (C1p + C2p) / 2;
  let hbp = h1p + h2p;
  if (C1p * C2p !== 0) hbp = Math.abs(h1p - h2p) <= 180 ? (h1p + h2p) / 2 : (h1p + h2p + (h1p + h2p < 360 ? 360 : -360)) / 2;
  const T =
    1 - 0.17 * Math.cos((hbp - 30) * RAD) + 0.24 * Math.cos(2 * hbp * RAD) + 0.32 * Math.cos((3 * hbp + 6) * RAD) - 0.2 * Math.cos((4 * hbp - 63) * RAD);
  const dTheta = 30 * Math.exp(-(((hbp - 275) / 25) ** 2));
  const RC = 2 * Math.sqrt(Cbp ** 7 / (Cbp ** 7 + 25 ** 7));
  const SL = 1 + (0.015 * (Lbp - 50) ** 2) / Math.sqrt(20 + (Lbp - 50) ** 2);
  const SC = 1 + 0.045 * Cbp;
  const SH = 1 + 0.015 * Cbp * T;
  const RT = -Math.sin(2 * dTheta * RAD) * RC;
  return Math.sqrt((dLp / SL) ** 2 + (dCp / SC) ** 2 + (dHp / SH) ** 2 + RT * (dCp / SC) * (dHp / SH));
}

export interface ColourPair {
  a: string;
  b: string;
  /** CIEDE2000 ΔE₀₀. */
  deltaE: number;
  /** |ΔL*|: the difference left in greyscale. */
  deltaL: number;
}

/**
 * Every pair of the given `#rrggbb` colours (one per colour-coded series: the same colour given
 * twice is a pair with ΔE₀₀ = 0) with its ΔE₀₀ and |ΔL*|, closest (by ΔE₀₀) first.
 */
export function colourPairs(colours: readonly string[]): ColourPair[] {
  const unique = colours.map((c) => c.toUpperCase());
  const labs = unique.map(hexToLab);
  const pairs: ColourPair[] = [];
  for (let i = 0; i < unique.length; i++) {
    for (let j = i + 1; j < unique.length; j++) {
      pairs.push({ a: unique[i]!, b: unique[j]!, deltaE: deltaE2000(labs[i]!, labs[j]!), deltaL: Math.abs(labs[i]![0] - labs[j]![0]) });
    }
  }
  return pairs.sort((p, q) => p.deltaE - q.deltaE);
}

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, version as vegaLiteVersion, type TopLevelSpec } from 'vega-lite';
import { FontMetrics } from './fontMetrics.js';
import { FONT_FAMILY } from './style.js';

/**
 * Rendering: a Vega-Lite spec is compiled to Vega and rendered to SVG headlessly (vega's View with
 * renderer 'none' and toSVG); resvg (a Rust renderer whose prebuilt binary ships inside its npm
 * package) rasterizes that SVG to PNG with the font files of dejavu-fonts-ttf and no system fonts,
 * so the same input gives the same bytes on every machine.
 */

const require = createRequire(import.meta.url);

/** The TTF files every figure uses (npm package dejavu-fonts-ttf). */
export function fontFiles(): { regular: string; bold: string } {
  const dir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return { regular: join(dir, 'DejaVuSans.ttf'), bold: join(dir, 'DejaVuSans-Bold.ttf') };
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
}
interface VegaTextMetrics {
  width: ((item: TextItem, text: unknown) => number) & { [FONT_WIDTHS]?: true };
}

/** Marks the width function installed below, so that installing is idempotent without state of ours. */
const FONT_WIDTHS = Symbol('margin-bench font widths');

/**
 * Make Vega lay text out with the widths of the font the PNG is drawn with. vega-scenegraph's
 * `textMetrics.width` is the documented hook for this (vl-convert sets it the same way); the
 * module is shared by every View in the process, and this function is idempotent.
 */
function installTextMetrics(): void {
  const metrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
  if (metrics.width[FONT_WIDTHS]) return;
  const files = fontFiles();
  const regular = new FontMetrics(files.regular);
  const bold = new FontMetrics(files.bold);
  const width: VegaTextMetrics['width'] = (item, text) => {
    const s = text == null ? '' : String(text).trim();
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const w = item.fontWeight;
    const isBold = w === 'bold' || w === 'bolder' || (typeof w === 'number' && w >= 600) || (typeof w === 'string' && Number(w) >= 600);
    return (isBold ? bold : regular).width(s, size);
  };
  width[FONT_WIDTHS] = true;
  metrics.width = width;
}

/** The package versions a figure depends on, for the provenance of the report. */
export function rendererVersions(): Record<string, string> {
  // vega and vega-lite do not export their package.json; they export a version string instead.
  const v = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;
  return {
    vega: vega.version,
    'vega-lite': vegaLiteVersion,
    '@resvg/resvg-js': v('@resvg/resvg-js'),
    'dejavu-fonts-ttf': v('dejavu-fonts-ttf'),
  };
}

/** Vega-Lite spec → SVG text (headless; deterministic for a given spec and package versions). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  installTextMetrics();
  // Warnings (e.g. a dropped scale property) are for spec authors; tests check specs compile cleanly.
  const runtime = vega.parse(compile(spec, { logger: vega.logger(vega.Error) }).spec);
  const view = new vega.View(runtime, { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** CSS px per inch: an SVG's width="800" is 800/96 inches wide. */
export const CSS_DPI = 96;

/**
 * SVG → PNG at `dpi` (the SVG's px read as 1/96 inch, so 300 dpi scales by 3.125), white
 * background, with a pHYs chunk so that LaTeX and image viewers know its physical size.
 */
export function svgToPng(svg: string, dpi: number): Buffer {
  const files = fontFiles();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: dpi / CSS_DPI },
    background: 'white',
    font: {
      loadSystemFonts: false,
      fontFiles: [files.regular, files.bold],
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    logLevel: 'off',
  });
  return withPhysicalDpi(resvg.render().asPng(), dpi);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of a PNG chunk's type and data (PNG spec §5.5; the zlib polynomial). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Insert (or replace) the pHYs chunk after IHDR: pixels per metre in x and y, unit = metre. */
export function withPhysicalDpi(png: Buffer, dpi: number): Buffer {
  const ppm = Math.round(dpi / 0.0254);
  const body = Buffer.alloc(4 + 9);
  body.write('pHYs', 0, 'latin1');
  body.writeUInt32BE(ppm, 4);
  body.writeUInt32BE(ppm, 8);
  body.writeUInt8(1, 12);
  const chunk = Buffer.alloc(4 + body.length + 4);
  chunk.writeUInt32BE(9, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), 4 + body.length);
  // Signature (8) + IHDR (4 length + 4 type + 13 data + 4 CRC) = 33 bytes.
  const ihdrEnd = 33;
  const parts: Buffer[] = [png.subarray(0, ihdrEnd), chunk];
  let off = ihdrEnd;
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const end = off + 12 + len;
    if (type !== 'pHYs') parts.push(png.subarray(off, end));
    off = end;
  }
  return Buffer.concat(parts);
}

/** Width, height (px) and, if present, the dpi recorded in a PNG. */
export function pngInfo(png: Buffer): { width: number; height: number; dpi: number | null } {
  if (png.toString('latin1', 1, 4) !== 'PNG') throw new Error('not a PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  let dpi: number | null = null;
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    if (png.toString('latin1', off + 4, off + 8) === 'pHYs' && png.readUInt8(off + 16) === 1) {
      dpi = png.readUInt32BE(off + 8) * 0.0254;
    }
    off += 12 + len;
  }
  return { width, height, dpi };
}

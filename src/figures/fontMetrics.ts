import { readFileSync } from 'node:fs';

/**
 * Advance widths from a TrueType file, for laying out text the way the PNG renderer draws it.
 * Vega measures text with a canvas when one is installed and otherwise guesses 0.8 em per
 * character, which spaces legends and axis titles for a much wider font; neither depends on the
 * font actually used. This reads the font's own `cmap` (format 4, the Basic Multilingual Plane)
 * and `hmtx` tables. It does NOT apply kerning or shaping, so widths can differ from the
 * renderer's by a fraction of a character on long strings.
 */
export class FontMetrics {
  private readonly advances: Uint16Array;
  private readonly unitsPerEm: number;
  private readonly cmap = new Map<number, number>();

  constructor(path: string) {
    const buf = readFileSync(path);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const tables = new Map<string, number>();
    const numTables = view.getUint16(4);
    for (let i = 0; i < numTables; i++) {
      const rec = 12 + 16 * i;
      tables.set(buf.toString('latin1', rec, rec + 4), view.getUint32(rec + 8));
    }
    const table = (tag: string): number => {
      const off = tables.get(tag);
      if (off === undefined) throw new Error(`${path}: no '${tag}' table (not a TrueType font?)`);
      return off;
    };
    this.unitsPerEm = view.getUint16(table('head') + 18);
    const numberOfHMetrics = view.getUint16(table('hhea') + 34);
    const hmtx = table('hmtx');
    this.advances = new Uint16Array(numberOfHMetrics);
    for (let g = 0; g < numberOfHMetrics; g++) this.advances[g] = view.getUint16(hmtx + 4 * g);

    const cmap = table('cmap');
    let sub = -1;
    for (let i = 0; i < view.getUint16(cmap + 2); i++) {
      const rec = cmap + 4 + 8 * i;
      const platform = view.getUint16(rec);
      const encoding = view.getUint16(rec + 2);
      const off = cmap + view.getUint32(rec + 4);
      if (((platform === 3 && encoding === 1) || platform === 0) && view.getUint16(off) === 4) {
        sub = off;
        break;
      }
    }
    if (sub < 0) throw new Error(`${path}: no format-4 Unicode cmap`);
    const segCount = view.getUint16(sub + 6) / 2;
    const ends = sub + 14;
    const starts = ends + 2 * segCount + 2;
    const deltas = starts + 2 * segCount;
    const rangeOffsets = deltas + 2 * segCount;
    for (let i = 0; i < segCount; i++) {
      const end = view.getUint16(ends + 2 * i);
      const start = view.getUint16(starts + 2 * i);
      const delta = view.getUint16(deltas + 2 * i);
      const rangeOffset = view.getUint16(rangeOffsets + 2 * i);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let glyph: number;
        if (rangeOffset === 0) glyph = (c + delta) & 0xffff;
        else {
          glyph = view.getUint16(rangeOffsets + 2 * i + rangeOffset + 2 * (c - start));
          if (glyph !== 0) glyph = (glyph + delta) & 0xffff;
        }
        if (glyph !== 0) this.cmap.set(c, glyph);
      }
    }
  }

  /** Width in px of `text` set at `fontSize` px (missing glyphs count as the .notdef glyph). */
  width(text: string, fontSize: number): number {
    let units = 0;
    for (const ch of text) {
      const glyph = this.cmap.get(ch.codePointAt(0)!) ?? 0;
      units += this.advances[Math.min(glyph, this.advances.length - 1)]!;
    }
    return (units / this.unitsPerEm) * fontSize;
  }
}

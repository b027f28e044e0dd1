// Reading rendered figures back: text, axis labels and line strokes out of the SVG that Vega writes.

const unescape = (t: string) => t.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');

/** Text content of every <text> in a group whose class contains `role` (lines of a multi-line text joined by a space). */
export function texts(svg: string, role: string): string[] {
  return textGroups(svg, role).flat();
}

/** The texts of each group whose class contains `role`: one array per group (per axis, for `axis-label`). */
export function textGroups(svg: string, role: string): string[][] {
  const groups: string[][] = [];
  const re = new RegExp(`class="mark-text role-${role}[^"]*"[^>]*>((?:<text[^>]*>.*?</text>)+)</g>`, 'g');
  for (const m of svg.matchAll(re)) {
    const out: string[] = [];
    for (const t of m[1]!.matchAll(/<text[^>]*>(.*?)<\/text>/g)) out.push(unescape(t[1]!.replace(/<\/tspan><tspan[^>]*>/g, ' ').replace(/<[^>]+>/g, '')));
    groups.push(out);
  }
  return groups;
}

/** The mean lines of panel `index`: each line's stroke colour and dash pattern. */
export function panelLines(svg: string, index: number): { stroke: string; dash: string }[] {
  const marker = `class="mark-line role-mark concat_${index}_layer_1_marks"`;
  const lines: { stroke: string; dash: string }[] = [];
  for (const part of svg.split(marker).slice(1)) {
    const path = /<path [^>]*?d="[^"]*"[^>]*>/.exec(part)![0];
    lines.push({ stroke: /stroke="(#[0-9a-fA-F]{6})"/.exec(path)![1]!.toUpperCase(), dash: /stroke-dasharray="([^"]*)"/.exec(path)?.[1] ?? '' });
  }
  return lines;
}

/** Number of panels (concat views) of a figure's SVG. */
export function panelCount(svg: string): number {
  return new Set([...svg.matchAll(/concat_(\d+)_group/g)].map((m) => m[1])).size;
}

import type { TopLevelSpec } from 'vega-lite';
import type { Curve } from './align.js';
import { dashLabel, dashPatterns, FONT_STACK, optimizerColor, type DashKey } from './style.js';

/**
 * Vega-Lite specs of the figures. Every figure is a grid of panels; each panel layers a 95%
 * confidence band (area, y = lo … hi; only where a group has two seeds or more) under the seed
 * mean (line). Colour = optimizer, dash = β (and the settings label of mixed runs); one legend for
 * the whole figure, listing only what some panel draws. What is not drawn is said under the title.
 */

export interface Panel {
  title: string;
  /** The row the panel belongs to (its activation), for the notes on what is not drawn. */
  row: string;
  curves: Curve[];
  /** This panel's x range, where panels of one figure need their own (robust accuracy per ball). */
  xDomain?: [number, number];
}

export interface FigureSpecInput {
  title: string;
  /** Lines under the title: what is averaged, what is left out, missing seeds. */
  subtitle: string[];
  panels: Panel[];
  columns: number;
  /** `symlog`: linear within ±1, logarithmic beyond (Vega's symlog scale, constant 1). */
  x: { title: string; reverse: boolean; domain?: [number, number]; symlog?: boolean };
  /**
   * `domain`: fixed; `fit`: each panel's range fitted to its data, within these bounds (band edges
   * beyond them are clipped); neither: log panels fit their positive means, linear ones Vega's.
   * `clamp`: values outside an explicit domain are drawn at its edge (a CI band above cos = 1).
   */
  y: {
    title: string;
    log: boolean;
    domain?: [number, number];
    fit?: [number, number];
    clamp?: boolean;
    /** A dashed horizontal line at this value (γ/γ* = 1: the optimum), kept inside a fitted range. */
    reference?: number;
  };
  /** Optimizers in legend order. */
  optimizers: readonly string[];
  width?: number;
  height?: number;
}

interface Datum {
  optimizer: string;
  style: string;
  x: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Four significant digits keep the SVG small; far below what a figure can show. */
const round = (v: number) => Number(v.toPrecision(5));

/** The points of a curve a panel can draw: finite means, and on a log axis only positive ones. */
const drawable = (c: Curve, yLog: boolean) => c.points.filter((p) => Number.isFinite(p.mean) && (!yLog || p.mean > 0));

/** Why a curve draws nothing in a panel. */
function absentReason(c: Curve, yLog: boolean): string {
  if (c.points.length === 0) return 'no loss level that every seed of the group reached';
  if (yLog && c.points.some((p) => Number.isFinite(p.mean))) return `mean margin ≤ 0 throughout, i.e. not separated in T = ${c.steps} steps`;
  return 'no finite value';
}

/**
 * Data rows of one panel. On a log axis a non-positive mean cannot be drawn: those points are
 * omitted, and band edges below the axis floor are clipped to it (both said in the subtitle).
 */
function panelData(panel: Panel, yLog: boolean, floor: number, ceiling: number): Datum[] {
  const rows: Datum[] = [];
  for (const c of panel.curves) {
    for (const p of drawable(c, yLog)) {
      rows.push({
        optimizer: c.optimizer,
        style: dashLabel(c),
        x: round(p.x),
        mean: round(p.mean),
        lo: round(Math.max(p.lo, floor)),
        hi: round(Math.min(p.hi, ceiling)),
        n: p.n,
      });
    }
  }
  return rows;
}

/** y domain of a log panel: from just below the smallest positive mean to the largest upper band edge. */
function logDomain(panel: Panel): [number, number] | null {
  const means = panel.curves.flatMap((c) => c.points.map((p) => p.mean)).filter((v) => v > 0 && Number.isFinite(v));
  if (means.length === 0) return null;
  const top = Math.max(...panel.curves.flatMap((c) => c.points.filter((p) => p.mean > 0).map((p) => p.hi)).filter(Number.isFinite), ...means);
  const bottom = Math.min(...means);
  return [bottom / 1.25, top * 1.25];
}

/**
 * y domain of a linear panel fitted to its data: the means and the band edges (clipped to
 * `bounds`), padded by 5% of their span and rounded out to a multiple of 0.05, within `bounds`.
 */
export function fitDomain(values: readonly number[], bounds: [number, number]): [number, number] {
  const finite = values.filter(Number.isFinite).map((v) => Math.min(bounds[1], Math.max(bounds[0], v)));
  if (finite.length === 0) return bounds;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const pad = Math.max(0.05 * (hi - lo), 0.02);
  const step = 0.05;
  const out: [number, number] = [Math.max(bounds[0], Math.floor((lo - pad) / step) * step), Math.min(bounds[1], Math.ceil((hi + pad) / step) * step)];
  return [Number(out[0].toFixed(2)), Number(out[1].toFixed(2))];
}

/** Characters of subtitle per line: about the width of the panel grid at 12 px DejaVu Sans. */
const subtitleChars = (columns: number, width: number) => Math.max(100, Math.round((columns * (width + 90)) / 6.5));

/** Greedy word wrap. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Tick values 0, ±1, ±3, ±10, ±30, … inside [lo, hi]: even steps on a symlog axis. */
export function symlogTicks(lo: number, hi: number): number[] {
  const mags = [0];
  for (let m = 1; m <= Math.max(Math.abs(lo), Math.abs(hi)); m *= 10) mags.push(m, 3 * m);
  return [...new Set(mags.flatMap((m) => [m, -m]))].filter((v) => v >= lo && v <= hi).sort((a, b) => a - b);
}

/** Tick values on a log axis: the powers of ten inside the domain, with 2× and 5× when there are few. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const decades = Math.ceil(Math.log10(hi)) - Math.floor(Math.log10(lo));
  const mults = decades <= 2 ? [1, 2, 5] : [1];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of mults) {
      const v = Number((m * 10 ** k).toPrecision(12));
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

/**
 * Labels of positive log-axis ticks, in ONE format for the whole axis: plain decimals when every
 * tick lies in [0.001, 10⁴) (0.001, 0.01, …, 1000), powers of ten otherwise (10⁻⁷, 2×10⁻⁷, …, 10).
 */
export function logTickLabels(values: readonly number[]): string[] {
  const plain = values.every((v) => v >= 1e-3 && v < 1e4);
  return values.map((v) => {
    if (plain) return String(Number(v.toPrecision(12)));
    const k = Math.floor(Math.log10(v) + 1e-9);
    const m = Number((v / 10 ** k).toPrecision(12));
    const power = `10${String(k).replace(/./g, (ch) => SUPERSCRIPT[ch]!)}`;
    return m === 1 ? power : `${m}×${power}`;
  });
}

/**
 * A Vega expression giving each tick its label: thresholds halfway (geometrically) between
 * consecutive ticks, so the match does not depend on exact float equality.
 */
function labelExpression(values: readonly number[], labels: readonly string[]): string {
  let expr = `'${labels[labels.length - 1]}'`;
  for (let i = values.length - 2; i >= 0; i--) expr = `datum.value < ${Math.sqrt(values[i]! * values[i + 1]!)} ? '${labels[i]}' : ${expr}`;
  return expr;
}

/**
 * One line per reason: the series a panel does not draw, by row (activation), e.g.
 * `Not drawn (…) — squared ReLU: ngd, muon (β = 0.9, 0)`; panels are named only where a series is
 * absent from some panels of its row but not all.
 */
export function absentNotes(panels: readonly Panel[], yLog: boolean): string[] {
  // reason → row → (optimizer and settings, panels) → β values
  const byReason = new Map<string, Map<string, Map<string, number[]>>>();
  const panelsOfRow = new Map<string, string[]>();
  const missingFrom = new Map<string, string[]>();
  for (const panel of panels) {
    panelsOfRow.set(panel.row, [...(panelsOfRow.get(panel.row) ?? []), panel.title]);
    for (const c of panel.curves) {
      if (drawable(c, yLog).length > 0) continue;
      const id = [absentReason(c, yLog), panel.row, c.optimizer, c.variant, c.beta].join('\u0000');
      missingFrom.set(id, [...(missingFrom.get(id) ?? []), panel.title]);
    }
  }
  for (const [id, where] of missingFrom) {
    const [reason, row, optimizer, variant, beta] = id.split('\u0000') as [string, string, string, string, string];
    const all = where.length === panelsOfRow.get(row)!.length;
    const name = `${optimizer}${variant ? ` · ${variant}` : ''}${all ? '' : ` in ${where.join(', ')}`}`;
    const rows = byReason.get(reason) ?? new Map<string, Map<string, number[]>>();
    byReason.set(reason, rows);
    const series = rows.get(row) ?? new Map<string, number[]>();
    rows.set(row, series);
    series.set(name, [...(series.get(name) ?? []), Number(beta)]);
  }
  return [...byReason].map(([reason, rows]) => {
    const parts = [...rows].map(([row, series]) => {
      // Names with the same β values share one "(β = …)".
      const byBetas = new Map<string, string[]>();
      for (const [name, betas] of series) {
        const key = `β = ${betas.join(', ')}`;
        byBetas.set(key, [...(byBetas.get(key) ?? []), name]);
      }
      return `${row}: ${[...byBetas].map(([betas, names]) => `${names.join(', ')} (${betas})`).join('; ')}`;
    });
    return `Not drawn (${reason}) — ${parts.join('; ')}.`;
  });
}

/** The line styles of the curves, ordered by settings label (first seen) then β descending. */
function dashKeys(curves: readonly Curve[]): DashKey[] {
  const variants = [...new Set(curves.map((c) => c.variant))];
  const seen = new Map<string, DashKey>();
  for (const c of curves) seen.set(dashLabel(c), { beta: c.beta, variant: c.variant });
  return [...seen.values()].sort((a, b) => variants.indexOf(a.variant) - variants.indexOf(b.variant) || b.beta - a.beta);
}

/** The Vega-Lite spec of a panel grid figure. */
export function figureSpec(input: FigureSpecInput): TopLevelSpec {
  const width = input.width ?? 300;
  const height = input.height ?? 200;
  // The legend lists what some panel draws, nothing else.
  const drawn = input.panels.flatMap((p) => p.curves.filter((c) => drawable(c, input.y.log).length > 0));
  const optimizers = input.optimizers.filter((o) => drawn.some((c) => c.optimizer === o));
  const styles = dashKeys(drawn);
  const mixed = styles.some((k) => k.variant !== '');
  const allX = input.panels.flatMap((p) => p.curves.flatMap((c) => c.points.map((q) => q.x)));
  const xDomain = input.x.domain ?? [Math.min(...allX), Math.max(...allX)];
  const xTicks = input.x.symlog ? symlogTicks(xDomain[0], xDomain[1]) : [];
  const color = {
    field: 'optimizer',
    type: 'nominal',
    title: 'optimizer',
    scale: { domain: optimizers, range: optimizers.map(optimizerColor) },
  };
  const strokeDash = {
    field: 'style',
    type: 'nominal',
    title: mixed ? 'momentum · settings' : 'momentum',
    scale: { domain: styles.map(dashLabel), range: dashPatterns(styles) },
  };

  const panels = input.panels.map((panel) => {
    const bounds: [number, number] = input.y.fit ?? [-Infinity, Infinity];
    const domain =
      input.y.domain ??
      (input.y.log
        ? logDomain(panel)
        : input.y.fit
          ? fitDomain([...panel.curves.flatMap((c) => drawable(c, false).flatMap((p) => (p.n > 1 ? [p.mean, p.lo, p.hi] : [p.mean]))), ...(input.y.reference === undefined ? [] : [input.y.reference])], input.y.fit)
          : null);
    const floor = input.y.log && domain ? domain[0] : bounds[0];
    const values = panelData(panel, input.y.log, floor, bounds[1]);
    const x = {
      field: 'x',
      type: 'quantitative',
      title: input.x.title,
      scale: { type: input.x.symlog ? 'symlog' : 'linear', domain: panel.xDomain ?? xDomain, reverse: input.x.reverse, nice: false, zero: false },
      axis: xTicks.length >= 3 ? { values: xTicks, format: 'd' } : { tickCount: 5 },
    };
    const yScale = input.y.log
      ? { type: 'log', nice: false, ...(domain ? { domain } : {}) }
      : { type: 'linear', zero: false, nice: !domain, clamp: !!input.y.clamp, ...(domain ? { domain } : {}) };
    // Log axes: hand-picked ticks with labels in one format (logTickLabels); linear axes: Vega's.
    const yTicks = input.y.log && domain ? logTicks(domain[0], domain[1]) : [];
    const yAxis = yTicks.length >= 2 ? { values: yTicks, labelExpr: labelExpression(yTicks, logTickLabels(yTicks)) } : { tickCount: 5 };
    return {
      title: panel.title,
      width,
      height,
      data: { values },
      layer: [
        {
          // No band for one seed: there is no interval to draw.
          transform: [{ filter: 'datum.n >= 2' }],
          mark: { type: 'area', opacity: 0.16, line: false },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative', title: input.y.title, scale: yScale, axis: yAxis },
            y2: { field: 'hi' },
            color,
            detail: { field: 'style', type: 'nominal' },
          },
        },
        {
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative', title: input.y.title, scale: yScale, axis: yAxis },
            color,
            strokeDash,
          },
        },
        ...(input.y.reference === undefined
          ? []
          : [
              {
                data: { values: [{ reference: input.y.reference }] },
                mark: { type: 'rule', color: '#444', strokeWidth: 1.2, strokeDash: [5, 4] },
                encoding: { y: { field: 'reference', type: 'quantitative', title: input.y.title, scale: yScale, axis: yAxis } },
              },
            ]),
      ],
    };
  });

  const subtitle = [...input.subtitle, ...absentNotes(input.panels, input.y.log)];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: input.title, subtitle: subtitle.flatMap((line) => wrap(line, subtitleChars(input.columns, width))), anchor: 'start', fontSize: 17, subtitleFontSize: 12, subtitleColor: '#333', offset: 14 },
    columns: input.columns,
    concat: panels,
    resolve: { scale: { color: 'shared', strokeDash: 'shared' }, legend: { color: 'shared', strokeDash: 'shared' } },
    padding: 12,
    background: 'white',
    config: {
      aria: false,
      font: FONT_STACK,
      view: { stroke: '#888' },
      axis: { labelFlush: false, labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', grid: true, gridColor: '#e6e6e6', tickColor: '#888', domainColor: '#888' },
      title: { fontSize: 14, fontWeight: 'bold' },
      legend: { labelFontSize: 12, titleFontSize: 13, symbolType: 'stroke', symbolStrokeWidth: 2.5, symbolSize: 300, symbolOpacity: 1, labelLimit: 300, orient: 'right' },
      concat: { spacing: 26 },
    },
  } as unknown as TopLevelSpec;
}

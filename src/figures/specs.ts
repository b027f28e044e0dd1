import type { TopLevelSpec } from 'vega-lite';
import type { OptimizerName } from '../config/types.js';
import type { Curve } from './align.js';
import { betaLabel, dashOf, FONT_STACK, seriesColor, seriesLabel } from './style.js';

/**
 * Vega-Lite specs of the figures (SPEC §10). Every figure is a grid of panels; each panel layers a
 * 95% confidence band (area, y = lo … hi) under the seed mean (line). Colour = optimizer ×
 * activation, dash = β; one legend for the whole figure.
 */

export interface Panel {
  title: string;
  curves: Curve[];
}

export interface FigureSpecInput {
  title: string;
  /** Lines under the title: what is averaged, what is left out, missing seeds. */
  subtitle: string[];
  panels: Panel[];
  columns: number;
  /** `symlog`: linear within ±1, logarithmic beyond (Vega's symlog scale, constant 1). */
  x: { title: string; reverse: boolean; domain?: [number, number]; symlog?: boolean };
  /** `clamp`: values outside an explicit domain are drawn at its edge (a CI band above cos = 1). */
  y: { title: string; log: boolean; domain?: [number, number]; clamp?: boolean };
  /** Optimizers in legend order. */
  optimizers: readonly OptimizerName[];
  width?: number;
  height?: number;
}

interface Datum {
  panel: number;
  series: string;
  dash: string;
  x: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Four significant digits keep the SVG small; far below what a figure can show. */
const round = (v: number) => Number(v.toPrecision(5));

/**
 * Data rows of one panel. On a log axis a non-positive mean cannot be drawn: those points are
 * omitted, and band edges below the axis floor are clipped to it (both said in the subtitle).
 */
function panelData(panel: Panel, index: number, yLog: boolean, floor: number): Datum[] {
  const rows: Datum[] = [];
  for (const c of panel.curves) {
    for (const p of c.points) {
      if (!Number.isFinite(p.mean) || (yLog && p.mean <= 0)) continue;
      rows.push({
        panel: index,
        series: seriesLabel(c.optimizer, c.activation),
        dash: betaLabel(c.beta),
        x: round(p.x),
        mean: round(p.mean),
        lo: round(yLog ? Math.max(p.lo, floor) : p.lo),
        hi: round(p.hi),
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
  const top = Math.max(...panel.curves.flatMap((c) => c.points.filter((p) => p.mean > 0).map((p) => p.hi)), ...means);
  const bottom = Math.min(...means);
  return [bottom / 1.25, top * 1.25];
}

/** Subtitle lines are wrapped at this many characters (about the width of two panels). */
const SUBTITLE_CHARS = 150;

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

/** The Vega-Lite spec of a panel grid figure. */
export function figureSpec(input: FigureSpecInput): TopLevelSpec {
  const width = input.width ?? 300;
  const height = input.height ?? 200;
  const present = new Set(input.panels.flatMap((p) => p.curves.map((c) => `${c.optimizer}|${c.activation}`)));
  const seriesKeys = input.optimizers.flatMap((o) =>
    (['relu', 'sqrelu'] as const).filter((a) => present.has(`${o}|${a}`)).map((a) => ({ o, a })),
  );
  const betas = [...new Set(input.panels.flatMap((p) => p.curves.map((c) => c.beta)))].sort((a, b) => b - a);
  const allX = input.panels.flatMap((p) => p.curves.flatMap((c) => c.points.map((q) => q.x)));
  const xDomain = input.x.domain ?? [Math.min(...allX), Math.max(...allX)];
  const xTicks = input.x.symlog ? symlogTicks(xDomain[0], xDomain[1]) : [];

  const panels = input.panels.map((panel, i) => {
    const domain = input.y.domain ?? (input.y.log ? logDomain(panel) : null);
    const floor = domain ? domain[0] : 0;
    const values = panelData(panel, i, input.y.log, floor);
    const x = {
      field: 'x',
      type: 'quantitative',
      title: input.x.title,
      scale: { type: input.x.symlog ? 'symlog' : 'linear', domain: xDomain, reverse: input.x.reverse, nice: false, zero: false },
      axis: xTicks.length >= 3 ? { values: xTicks, format: 'd' } : { tickCount: 5 },
    };
    const yScale = input.y.log ? { type: 'log', nice: false, ...(domain ? { domain } : {}) } : { type: 'linear', zero: false, nice: !input.y.domain, clamp: !!input.y.clamp, ...(domain ? { domain } : {}) };
    // Hand-picked ticks where they are enough to read the axis; Vega's own otherwise.
    const yTicks = input.y.log && domain ? logTicks(domain[0], domain[1]) : [];
    const yAxis = yTicks.length >= 2 ? { values: yTicks, format: '~g' } : input.y.log ? { format: '~g' } : {};
    const color = {
      field: 'series',
      type: 'nominal',
      title: 'optimizer · activation',
      scale: { domain: seriesKeys.map(({ o, a }) => seriesLabel(o, a)), range: seriesKeys.map(({ o, a }) => seriesColor(o, a)) },
    };
    const strokeDash = {
      field: 'dash',
      type: 'nominal',
      title: 'momentum',
      scale: { domain: betas.map(betaLabel), range: betas.map(dashOf) },
    };
    return {
      title: panel.title,
      width,
      height,
      data: { values },
      layer: [
        {
          mark: { type: 'area', opacity: 0.16, line: false },
          encoding: {
            x,
            y: { field: 'lo', type: 'quantitative', title: input.y.title, scale: yScale, axis: yAxis },
            y2: { field: 'hi' },
            color,
            detail: { field: 'dash', type: 'nominal' },
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
      ],
    };
  });

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: input.title, subtitle: input.subtitle.flatMap((line) => wrap(line, SUBTITLE_CHARS)), anchor: 'start', fontSize: 17, subtitleFontSize: 12, subtitleColor: '#333', offset: 14 },
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

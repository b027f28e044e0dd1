import type { Activation, OptimizerName } from '../config/types.js';
import { NORM_NAMES, type NormName } from '../metrics/norms.js';
import { OPTIMIZERS } from '../optimizers/registry.js';
import type { RunSummary } from '../sweep/runOne.js';

/** Mean and sample standard deviation (n − 1) of the values; std is NaN for a single value. */
export function meanStd(values: number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1)) : NaN;
  return { mean, std, n };
}

export interface MarginCell {
  mean: number;
  std: number;
  seeds: number;
}

/** Final normalized margins of one (activation, β) group: optimizer × norm (SPEC §10 table). */
export interface MarginTable {
  activation: Activation;
  beta: number;
  optimizers: OptimizerName[];
  cells: Record<string, Record<NormName, MarginCell>>;
  /** Per norm: the optimizer with the largest mean, and whether it belongs to the norm's family. */
  winners: Record<NormName, { optimizer: OptimizerName; ownFamily: boolean; familyPresent: boolean }>;
}

/**
 * SPEC §1, §10: group finished runs by (activation, β), average each optimizer's final margins
 * over seeds, and find each norm's winner. "The diagonal" holds for a norm when the winner is a
 * member of that norm's family.
 */
export function marginTables(summaries: RunSummary[]): MarginTable[] {
  const ok = summaries.filter((s) => s.status === 'ok' && s.final);
  const groups = new Map<string, RunSummary[]>();
  for (const s of ok) {
    const key = `${s.run.activation}|${s.run.beta}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const tables: MarginTable[] = [];
  for (const runs of groups.values()) {
    const { activation, beta } = runs[0]!.run;
    const optimizers = [...new Set(runs.map((r) => r.run.optimizer))];
    const cells: MarginTable['cells'] = {};
    for (const opt of optimizers) {
      const mine = runs.filter((r) => r.run.optimizer === opt);
      cells[opt] = Object.fromEntries(
        NORM_NAMES.map((norm) => {
          const { mean, std, n } = meanStd(mine.map((r) => r.final![`margin_${norm}`]));
          return [norm, { mean, std, seeds: n }];
        }),
      ) as Record<NormName, MarginCell>;
    }
    const winners = Object.fromEntries(
      NORM_NAMES.map((norm) => {
        const best = optimizers.reduce((a, b) => (cells[b]![norm].mean > cells[a]![norm].mean ? b : a));
        return [
          norm,
          {
            optimizer: best,
            ownFamily: OPTIMIZERS[best].family === norm,
            familyPresent: optimizers.some((o) => OPTIMIZERS[o].family === norm),
          },
        ];
      }),
    ) as MarginTable['winners'];
    tables.push({ activation, beta, optimizers, cells, winners });
  }
  return tables;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(3) : String(x);
}

/** A plain-text rendering for the terminal: one block per (activation, β), best per column marked *. */
export function formatMarginTables(tables: MarginTable[]): string {
  const lines: string[] = [];
  for (const t of tables) {
    lines.push(`final normalized margins — ${t.activation}, β = ${t.beta} (mean ± std over seeds; * = column best)`);
    const header = ['optimizer'.padEnd(12), ...NORM_NAMES.map((n) => n.padStart(24))].join('');
    lines.push(header);
    for (const opt of t.optimizers) {
      const cols = NORM_NAMES.map((norm) => {
        const c = t.cells[opt]![norm];
        const mark = t.winners[norm].optimizer === opt ? '*' : ' ';
        const text = c.seeds > 1 ? `${fmt(c.mean)} ± ${fmt(c.std)}` : fmt(c.mean);
        return `${text}${mark}`.padStart(24);
      });
      lines.push([opt.padEnd(12), ...cols].join(''));
    }
    const verdict = NORM_NAMES.map((norm) => {
      const w = t.winners[norm];
      if (!w.familyPresent) return `${norm}: no ${norm}-family optimizer run`;
      return `${norm}: ${w.ownFamily ? 'own family wins' : `won by ${w.optimizer} (not ${norm} family)`}`;
    });
    lines.push(`diagonal — ${verdict.join('; ')}`);
    lines.push('');
  }
  return lines.join('\n');
}

#!/usr/bin/env node
// Writes docs/linear.md's measured part from depth-1 results folders (configs/linear-*.yaml): each
// norm's exact optimum and its certificate, the fraction of each optimum every optimizer reached by
// the end, how fast its own one is approached against the loss, the cosine to the optimal direction,
// and where a theorem's endpoint is not reached within the step budget (docs/science.md §14.5).
// Everything is computed from the run files and <dir>/optima; only --note is typed in.
//
//   node --import tsx scripts/linear-report.ts --dir results/linear-multiclass --dir results/linear-binary \
//     [--note "..."] [--out docs/linear.md]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIMIZER_NAMES } from '../src/config/types.js';
import { lossBracket } from '../src/figures/align.js';
import { formatNumber } from '../src/figures/tables.js';
import type { Optimum } from '../src/linear/optima.js';
import { cosOptColumn, ratioColumn } from '../src/linear/track.js';
import { ownNormName } from '../src/metrics/normTable.js';
import { loadResults, type LoadedRun, type ResultSet } from '../src/results/load.js';
import { settleSettings } from '../src/report/settings.js';
import { meanCI } from '../src/report/stats.js';
import { flag, flagAll } from './flags.js';

const dirs = flagAll('--dir');
const note = flag('--note', '');
const out = flag('--out', 'docs/linear.md');
if (dirs.length === 0) throw new Error('give --dir <results folder> at least once');

/** The loss levels (log10) at which the own-norm ratio is read. */
const LEVELS = [-2, -5, -10, -20, -50, -100, -200];
/** The fractions of the optimum whose first passage is reported. */
const FRACTIONS = [0.9, 0.99];

const f = (x: number, d = 4) => formatNumber(x, d);
const ci = (xs: number[], d = 4) => {
  const c = meanCI(xs);
  return xs.length > 1 ? `${f(c.mean, d)} ± ${f(c.halfWidth, 2)}` : f(c.mean, d);
};

/** The optimizers of a set: presets in registry order, then the composed ones by name. */
function optimizersOf(set: ResultSet): string[] {
  const present = new Set(set.runs.map((r) => r.summary.run.optimizer));
  const presets: string[] = OPTIMIZER_NAMES.filter((o) => present.has(o));
  return [...presets, ...[...present].filter((o) => !presets.includes(o)).sort()];
}

const betasOf = (set: ResultSet) => [...new Set(set.runs.map((r) => r.summary.run.beta))].sort((a, b) => b - a);
const runsOf = (set: ResultSet, optimizer: string, beta: number) => set.runs.filter((r) => r.summary.run.optimizer === optimizer && r.summary.run.beta === beta);
const last = (r: LoadedRun) => r.rows[r.rows.length - 1]!;

/** log10 loss at the first log point where `column` ≥ x (interpolated between log points), or undefined. */
function lossWhenReached(r: LoadedRun, column: string, x: number): number | undefined {
  for (let k = 0; k < r.rows.length; k++) {
    const b = r.rows[k]!;
    if (!(b[column]! >= x)) continue;
    if (k === 0) return b.log10_loss;
    const a = r.rows[k - 1]!;
    const w = (x - a[column]!) / (b[column]! - a[column]!);
    return a.log10_loss! + w * (b.log10_loss! - a.log10_loss!);
  }
  return undefined;
}

function section(dir: string): string[] {
  const set = settleSettings(loadResults([dir]), 'table', false);
  const first = set.runs[0]!.summary;
  const cfg = first.config;
  const optima = first.optima ?? [];
  if (optima.length === 0) throw new Error(`${dir}: the runs log no optimum (depth ${cfg.model.depth}, log.optimum ${String(cfg.log.optimum)})`);
  const norms = optima.map((o) => o.name);
  const optimizers = optimizersOf(set);
  const seeds = new Set(set.runs.map((r) => r.summary.run.seed)).size;
  const task = cfg.data.task === 'parity' ? 'odd vs even (one output)' : `${first.data.classes.length} classes`;
  const lines: string[] = [];
  lines.push(`## ${cfg.name}: ${first.data.n} digits, ${task}`, '');
  lines.push(
    `\`configs/${cfg.name}.yaml\`: ${set.runs.length} runs (${optimizers.length} optimizers × β ∈ {${betasOf(set).join(', ')}} × ${seeds} seeds), ` +
      `${cfg.train.steps} steps, ${cfg.train.lr.schedule} rate (rel ${cfg.train.lr.rel}, decay ${cfg.train.lr.decay}).` +
      (set.failed.length > 0 ? ` ${set.failed.length} runs failed and are left out.` : ''),
    '',
  );

  // The optima, from the cache files (their solve times) and the summaries (γ* of each logged norm).
  const files = readdirSync(join(dir, 'optima')).filter((n) => n.endsWith('.json'));
  const solved = files.map((n) => JSON.parse(readFileSync(join(dir, 'optima', n), 'utf8')) as Optimum);
  lines.push('### The optima', '');
  lines.push('| norm | solved as | γ*_N | relative gap | solver | converged | solve time |', '|:---|:---|---:|---:|:---|:---|---:|');
  for (const o of optima) {
    const s = solved.find((x) => x.norm === o.base);
    lines.push(`| ${o.name} | ${o.base} | ${f(o.gamma, 6)} | ${o.gap.toExponential(1)} | ${o.solver} | ${o.converged ? 'yes' : '**no**'} | ${s ? `${s.seconds.toFixed(1)} s` : ''} |`);
  }
  lines.push('');

  for (const beta of betasOf(set)) {
    lines.push(`### β = ${beta}: the fraction γ_N(θ_T)/γ*_N reached at the end`, '');
    lines.push(`Mean ± half-width of the 95% Student-t interval over seeds; **bold**: the optimizer's own norm. Last column: the loss at the end (log10, mean).`, '');
    lines.push(`| optimizer (own norm) | ${norms.join(' | ')} | log10 loss |`, `|:---|${norms.map(() => '---:').join('|')}|---:|`);
    for (const o of optimizers) {
      const rs = runsOf(set, o, beta);
      if (rs.length === 0) continue;
      const own = ownNormName(o);
      const cells = norms.map((n) => {
        const v = ci(rs.map((r) => last(r)[ratioColumn(n)]!));
        return n === own ? `**${v}**` : v;
      });
      lines.push(`| ${o} (${own}) | ${cells.join(' | ')} | ${f(meanCI(rs.map((r) => last(r).log10_loss!)).mean, 3)} |`);
    }
    lines.push('');
    // Which optimizer gets closest to each optimum, and how close its own family gets.
    lines.push('Per norm: the optimizer closest to the optimum at the end (mean), and the least any run of the norm\'s own optimizers reached (the verdict\'s "reaches ≥ x"):', '');
    lines.push('| norm | closest (mean ratio) | own optimizers | own reach ≥ x |', '|:---|:---|:---|---:|');
    for (const n of norms) {
      const means = optimizers.map((o) => ({ o, m: meanCI(runsOf(set, o, beta).map((r) => last(r)[ratioColumn(n)]!)).mean }));
      const best = means.reduce((a, b) => (b.m > a.m ? b : a));
      // Optimizers that take the same steps (Muon and its hybrids at depth 1) tie up to rounding.
      const tied = means.filter((x) => Math.abs(x.m - best.m) <= 1e-9 * Math.abs(best.m)).map((x) => x.o);
      const own = optimizers.filter((o) => ownNormName(o) === n);
      const reach = own.length > 0 ? Math.min(...own.flatMap((o) => runsOf(set, o, beta).map((r) => last(r)[ratioColumn(n)]!))) : NaN;
      lines.push(`| ${n} | ${tied.join(' = ')} (${f(best.m)}) | ${own.join(', ') || '—'} | ${own.length > 0 ? f(reach) : '—'} |`);
    }
    lines.push('');
    // How fast: the own-norm ratio at loss levels, and the loss at which 0.9 and 0.99 are reached.
    lines.push(`How fast each optimizer approaches its own optimum: γ_own/γ*_own at its first passage of each loss level (mean over the seeds that got there), and the log10 loss at which it first reached ${FRACTIONS.join(' and ')} of it (mean; "—": not within ${cfg.train.steps} steps on any seed, "k/${seeds}": only k seeds):`, '');
    lines.push(`| optimizer | ${LEVELS.map((l) => `10^${l}`).join(' | ')} | ${FRACTIONS.map((x) => `loss at ${x}`).join(' | ')} | cos∠(θ_T, W*_own) |`);
    lines.push(`|:---|${LEVELS.map(() => '---:').join('|')}|${FRACTIONS.map(() => '---:').join('|')}|---:|`);
    for (const o of optimizers) {
      const rs = runsOf(set, o, beta);
      if (rs.length === 0) continue;
      const col = ratioColumn(ownNormName(o));
      const atLevel = LEVELS.map((l) => {
        const vs = rs.flatMap((r) => {
          const br = lossBracket(r.rows, l);
          return br ? [br.a[col]! + br.w * (br.b[col]! - br.a[col]!)] : [];
        });
        return vs.length === 0 ? '—' : `${f(meanCI(vs).mean, 3)}${vs.length < rs.length ? ` (${vs.length}/${rs.length})` : ''}`;
      });
      const reached = FRACTIONS.map((x) => {
        const ls = rs.flatMap((r) => {
          const v = lossWhenReached(r, col, x);
          return v === undefined ? [] : [v];
        });
        return ls.length === 0 ? '—' : `${f(meanCI(ls).mean, 3)}${ls.length < rs.length ? ` (${ls.length}/${rs.length})` : ''}`;
      });
      const cos = ci(rs.map((r) => last(r)[cosOptColumn(ownNormName(o))]!), 4);
      lines.push(`| ${o} | ${atLevel.join(' | ')} | ${reached.join(' | ')} | ${cos} |`);
    }
    lines.push('');
    const short = optimizers.flatMap((o) => {
      const rs = runsOf(set, o, beta);
      const col = ratioColumn(ownNormName(o));
      const vs = rs.map((r) => last(r)[col]!);
      return rs.length > 0 && Math.min(...vs) < 0.99 ? [`${o} (${ownNormName(o)}: ${f(Math.min(...vs))} – ${f(Math.max(...vs))} at log10 loss ${f(meanCI(rs.map((r) => last(r).log10_loss!)).mean, 3)})`] : [];
    });
    lines.push(short.length === 0 ? `Every optimizer ends within 1% of its own optimum on every seed.` : `Not within 1% of its own optimum by step ${cfg.train.steps} (range over seeds): ${short.join('; ')}.`, '');
  }
  return lines;
}

const header = [
  '<!-- The sections below are generated by scripts/linear-report.ts from the results folders; edit that script, not them. -->',
  '',
  ...(note ? [note, ''] : []),
];
const page = readFileSync(out, 'utf8');
const marker = '<!-- generated -->';
const at = page.indexOf(marker);
if (at < 0) throw new Error(`${out} has no "${marker}" line to write below`);
writeFileSync(out, `${page.slice(0, at + marker.length)}\n\n${[...header, ...dirs.flatMap(section)].join('\n')}`);
process.stderr.write(`wrote ${out}\n`);

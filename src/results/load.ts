import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { cosOptColumn, ratioColumn } from '../metrics/normTable.js';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ACTIVATIONS, OPTIMIZER_NAMES, type Activation } from '../config/types.js';
import { UsageError } from '../errors.js';
import { NORM_NAMES, NORM_TEXT, type NormName } from '../optimizers/families.js';
import { sha256Of } from './hash.js';
import { parseRunId, SWEEP_FILE } from './runs.js';
import { parseSummary, type RunSummary } from './summary.js';
import { readSweepFile } from './sweepFile.js';

/**
 * Reading a results folder (results/README.md): `<act>_<opt>_b<β>_s<seed>.json` summaries, the CSV
 * each names, and `sweep.json`. Figures and tables are made from these files alone (STYLE
 * "Provenance"), so everything wrong with them is a UsageError naming the file (and line).
 */

/** Columns the figures and tables need; everything else in a CSV is carried along. */
export const REQUIRED_COLUMNS = ['step', 'log10_loss', ...NORM_NAMES.map((n) => `margin_${n}` as const), 'cos_to_last'] as const;

/** KKT alignment per norm, in [−1, 1]; optional (drawn when present). */
export const ALIGN_COLUMNS = NORM_NAMES.map((n) => `align_${n}` as const);

export type Row = Record<string, number>;

export interface LoadedRun {
  /** Folder the run came from (as given). */
  dir: string;
  summary: RunSummary;
  csvPath: string;
  columns: string[];
  /** One per log point, in step order. */
  rows: Row[];
  /**
   * '' normally; for runs of different settings drawn together (`--allow-mixed`), the run's values
   * of the settings that differ, e.g. `steps=200` (src/figures/settings.ts).
   */
  variant: string;
}

export interface SweepFile {
  path: string;
  config: unknown;
  runs: string[];
  created_at: string | null;
}

/** A setting on which the runs of a set differ: each value with how many runs have it (src/report/settings.ts). */
export interface SettingDiff {
  key: string;
  values: { value: string; runs: number }[];
}

export interface ResultSet {
  dirs: string[];
  /** Finished runs (status ok), sorted: activation, optimizer (registry order), β descending, seed. */
  runs: LoadedRun[];
  /** Summaries of runs that stopped early (status failed): not used in figures or tables. */
  failed: RunSummary[];
  /** CSV files with no summary beside them: runs still going or killed. */
  unfinished: string[];
  sweeps: SweepFile[];
  /** Run ids listed in sweep.json (every folder's, merged) with no summary here, finished or failed. */
  missing: string[];
  /** Settings on which the finished runs differ (empty unless allowed: src/figures/settings.ts). */
  mixed: SettingDiff[];
}

/** A JSON file's text as a run summary, or a UsageError naming the file and what does not match. */
function readSummaryFile(path: string): RunSummary {
  const read = parseSummary(readFileSync(path, 'utf8'));
  if (!read.ok) throw new UsageError(`${path}: ${read.reason}`);
  return read.summary;
}

/**
 * Parse one run CSV (docs/science.md §8) with a real CSV parser: a header, then one row of numbers per log
 * point. Errors name the file and the 1-based line: missing columns, a row with the wrong number
 * of fields (a truncated file), a cell that is not a number, no rows at all.
 */
export function readRunCsv(path: string): { columns: string[]; rows: Row[] } {
  if (!existsSync(path)) throw new UsageError(`${path}: missing (named by the run's summary)`);
  const text = readFileSync(path, 'utf8');
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes with where it was read ({ record, info: { lines, … } }).
    records = parse(text, { relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new UsageError(`${path}${e.lines ? `: line ${e.lines}` : ''}: malformed CSV (${e.message})`);
  }
  if (records.length === 0) throw new UsageError(`${path}: empty file (no header)`);
  const columns = records[0]!.record.map((c) => c.trim());
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw new UsageError(`${path}: line 1: missing column(s) ${missing.join(', ')}`);
  if (records.length === 1) throw new UsageError(`${path}: no rows after the header`);
  const rows = records.slice(1).map(({ record, info }) => {
    if (record.length !== columns.length) {
      throw new UsageError(`${path}: line ${info.lines}: ${record.length} fields where the header has ${columns.length} (truncated or malformed)`);
    }
    const row: Row = {};
    record.forEach((cell, j) => {
      const v = Number(cell);
      if (cell.trim() === '' || (Number.isNaN(v) && cell.trim() !== 'NaN')) {
        throw new UsageError(`${path}: line ${info.lines}: column ${columns[j]}: "${cell}" is not a number`);
      }
      row[columns[j]!] = v;
    });
    return row;
  });
  for (let i = 1; i < rows.length; i++) {
    if (!(rows[i]!.step! > rows[i - 1]!.step!)) {
      throw new UsageError(`${path}: line ${records[i + 1]!.info.lines}: step ${rows[i]!.step} does not follow step ${rows[i - 1]!.step}`);
    }
  }
  return { columns, rows };
}

/** A summary's final row must be the CSV's last row: catches a CSV cut short at a row boundary. */
function checkFinalRow(csvPath: string, summaryPath: string, rows: Row[], final: Record<string, number | null> | null): void {
  if (!final) return;
  const last = rows[rows.length - 1]!;
  for (const [key, value] of Object.entries(final)) {
    if (!(key in last)) continue;
    const csv = last[key]!;
    // JSON has no NaN: the summary stores null where the CSV has NaN.
    const same = value === null ? !Number.isFinite(csv) : csv === value;
    if (!same) {
      throw new UsageError(
        `${csvPath}: last row (step ${last.step}) has ${key} = ${csv}, but ${basename(summaryPath)} says ${value} (truncated or edited CSV?)`,
      );
    }
  }
}

const activationRank = (a: Activation) => ACTIVATIONS.indexOf(a);
const optimizerRank = (o: string) => {
  const i = (OPTIMIZER_NAMES as readonly string[]).indexOf(o);
  return i >= 0 ? i : OPTIMIZER_NAMES.length;
};

/** Canonical order: activation, optimizer (registry order, then composed ones by name), β descending (0.9 before 0), seed. */
export function compareRuns(a: RunSummary, b: RunSummary): number {
  return (
    activationRank(a.run.activation) - activationRank(b.run.activation) ||
    optimizerRank(a.run.optimizer) - optimizerRank(b.run.optimizer) ||
    (a.run.optimizer < b.run.optimizer ? -1 : a.run.optimizer > b.run.optimizer ? 1 : 0) ||
    b.run.beta - a.run.beta ||
    a.run.seed - b.run.seed
  );
}

/**
 * Load every finished run of one or more results folders (shards of one sweep may be given
 * together). Throws a UsageError for a folder that does not exist, a set of folders with no
 * finished run, a run id found twice, or any malformed summary or CSV.
 */
export function loadResults(dirs: readonly string[]): ResultSet {
  if (dirs.length === 0) throw new UsageError('no results folder given');
  const runs: LoadedRun[] = [];
  const failed: RunSummary[] = [];
  const unfinished: string[] = [];
  const sweeps: SweepFile[] = [];
  const seen = new Map<string, string>();
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir}: not a folder`);
    const names = readdirSync(dir).sort();
    const sweepPath = join(dir, SWEEP_FILE);
    if (names.includes(SWEEP_FILE)) {
      const read = readSweepFile(dir);
      if (!read.ok) throw new UsageError(`${dir}: ${read.reason}`);
      sweeps.push({ path: sweepPath, config: read.sweep.config, runs: read.sweep.runs, created_at: read.sweep.created_at ?? null });
    }
    const summarized = new Set<string>();
    for (const name of names) {
      if (!name.endsWith('.json') || !parseRunId(name.slice(0, -'.json'.length))) continue;
      const path = join(dir, name);
      const summary = readSummaryFile(path);
      if (`${summary.id}.json` !== name) throw new UsageError(`${path}: its id is "${summary.id}", not the file's name`);
      const before = seen.get(summary.id);
      if (before) throw new UsageError(`run ${summary.id} found twice: ${before} and ${path}`);
      seen.set(summary.id, path);
      summarized.add(summary.files.csv);
      if (summary.status !== 'ok') {
        failed.push(summary);
        continue;
      }
      const csvPath = join(dir, summary.files.csv);
      const { columns, rows } = readRunCsv(csvPath);
      checkFinalRow(csvPath, path, rows, summary.final);
      const sha = summary.csv_sha256;
      if (sha !== undefined && sha256Of(readFileSync(csvPath)) !== sha) {
        throw new UsageError(`${csvPath}: does not match the csv_sha256 of ${name} (edited or truncated after the run?)`);
      }
      runs.push({ dir, summary, csvPath, columns, rows, variant: '' });
    }
    for (const name of names) {
      if (name.endsWith('.csv') && !summarized.has(name)) unfinished.push(join(dir, name));
    }
  }
  if (runs.length === 0) {
    const why = [
      failed.length > 0 ? `${failed.length} failed` : '',
      unfinished.length > 0 ? `${unfinished.length} CSV(s) without a summary, i.e. unfinished` : '',
    ].filter(Boolean);
    throw new UsageError(
      `${dirs.join(', ')}: no finished runs (expected <activation>_<optimizer>_b<β>_s<seed>.json summaries beside their CSVs)${why.length > 0 ? `; ${why.join(', ')}` : ''}`,
    );
  }
  runs.sort((a, b) => compareRuns(a.summary, b.summary));
  failed.sort(compareRuns);
  const present = new Set([...runs.map((r) => r.summary.id), ...failed.map((s) => s.id)]);
  const missing = [...new Set(sweeps.flatMap((s) => s.runs))].filter((id) => !present.has(id));
  return { dirs: [...dirs], runs, failed, unfinished, sweeps, missing, mixed: [] };
}

/** Whether every run of the set logs the four KKT alignment columns. */
export function hasAlignment(runs: readonly LoadedRun[]): boolean {
  return runs.length > 0 && runs.every((r) => ALIGN_COLUMNS.every((c) => r.columns.includes(c)));
}

/**
 * docs/science.md §14.5: the norms of `runs` (resultNorms) with an exact optimum, i.e. whose
 * `ratio_<name>` and `cos_opt_<name>` columns every run's CSV has (depth-1 runs); [] where some
 * run has none (deeper networks, `log.optimum: false`, older results).
 */
export function optimumNorms(runs: readonly LoadedRun[]): ResultNorm[] {
  if (runs.length === 0) return [];
  return resultNorms(runs).filter((n) => runs.every((r) => r.columns.includes(ratioColumn(n.name)) && r.columns.includes(cosOptColumn(n.name))));
}

/** The key of a curve or table cell group: one (activation, optimizer, β) and settings label. */
export interface GroupKey {
  activation: Activation;
  /** A preset's name or a composed optimizer's own. */
  optimizer: string;
  beta: number;
  /** The runs' settings label ('' unless runs of different settings are drawn together). */
  variant: string;
}

/** Group runs by (activation, optimizer, β, settings label), keeping the canonical order. */
export function groupRuns(runs: readonly LoadedRun[]): { key: GroupKey; runs: LoadedRun[] }[] {
  const groups = new Map<string, { key: GroupKey; runs: LoadedRun[] }>();
  for (const r of runs) {
    const { activation, optimizer, beta } = r.summary.run;
    const { variant } = r;
    const id = `${activation}|${optimizer}|${beta}|${variant}`;
    if (!groups.has(id)) groups.set(id, { key: { activation, optimizer, beta, variant }, runs: [] });
    groups.get(id)!.runs.push(r);
  }
  return [...groups.values()];
}

export type { NormName };

/** A norm a set of results logged, as its readers label it (docs/science.md §12.6). */
export interface ResultNorm {
  name: string;
  standard: boolean;
  text: string;
  latex: string;
  /** The norm written out (a composed norm's; '' for the standard ones, defined in docs/science.md §5). */
  definition: string;
}


/**
 * The norms every run of `runs` logged, in column order: the four standard ones (every results
 * folder has them, old ones included), then each extra `margin_<name>` column all the runs' CSVs
 * have, labelled from the summaries' `logged_norms` (the name itself where a summary lacks it).
 */
export function resultNorms(runs: readonly LoadedRun[]): ResultNorm[] {
  const standard = NORM_NAMES.map((name) => ({ name, standard: true, ...NORM_TEXT[name], definition: '' }));
  if (runs.length === 0) return standard;
  const extra = runs[0]!.columns
    .filter((c) => c.startsWith('margin_') && !(NORM_NAMES as readonly string[]).includes(c.slice(7)))
    .map((c) => c.slice(7))
    .filter((n) => runs.every((r) => r.columns.includes(`margin_${n}`)));
  const records = new Map(runs.flatMap((r) => r.summary.logged_norms ?? []).map((n) => [n.name, n]));
  return [
    ...standard,
    ...extra.map((name) => {
      const rec = records.get(name);
      return { name, standard: false, text: rec?.text ?? name, latex: rec?.latex ?? `\\texttt{${name.replace(/_/g, '\\_')}}`, definition: rec?.definition ?? '' };
    }),
  ];
}

// Inputs derived from the committed real sweep test/fixtures/smoke300 (see test/fixtures/README.md):
// each helper copies it into a fresh temporary folder and changes the copy.
import { cpSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE = fileURLToPath(new URL('../fixtures/smoke300', import.meta.url));

/** Make a temporary folder; `cleanup` removes every folder made so far. */
const made: string[] = [];
export function tempDir(prefix = 'margin-bench-fig-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function cleanup(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh copy of the fixture. */
export function copyFixture(): string {
  const dir = join(tempDir(), 'results');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** Partial seeds: remove the given runs (ids) from a copy. */
export function withoutRuns(ids: string[]): string {
  const dir = copyFixture();
  for (const id of ids) {
    rmSync(join(dir, `${id}.csv`));
    rmSync(join(dir, `${id}.json`));
  }
  return dir;
}

/**
 * Verdict must fail: swap the labels `a` and `b` (e.g. ngd and muon) in a copy: file names, and
 * the summary's id, run.optimizer, run.family and files.csv. sweep.json lists the same ids either way.
 */
export function swapOptimizers(a: string, b: string, families: Record<string, string>): string {
  const dir = copyFixture();
  const pattern = new RegExp(`_(${a}|${b})_b`);
  const swap = (name: string) => name.replace(pattern, (_, o: string) => `_${o === a ? b : a}_b`);
  const names = readdirSync(dir).filter((n) => pattern.test(n));
  for (const n of names) renameSync(join(dir, n), join(dir, `${n}.tmp`));
  for (const n of names) {
    const target = swap(n);
    if (n.endsWith('.json')) {
      const s = JSON.parse(readFileSync(join(dir, `${n}.tmp`), 'utf8'));
      s.id = target.replace(/\.json$/, '');
      s.run.optimizer = s.run.optimizer === a ? b : a;
      s.run.family = families[s.run.optimizer];
      s.files.csv = `${s.id}.csv`;
      writeFileSync(join(dir, target), JSON.stringify(s, null, 2) + '\n');
      rmSync(join(dir, `${n}.tmp`));
    } else {
      renameSync(join(dir, `${n}.tmp`), join(dir, target));
    }
  }
  return dir;
}

/** Rewrite one CSV of a copy with `edit(text)`. */
export function withEditedCsv(id: string, edit: (text: string) => string): { dir: string; csv: string } {
  const dir = copyFixture();
  const csv = join(dir, `${id}.csv`);
  writeFileSync(csv, edit(readFileSync(csv, 'utf8')));
  return { dir, csv };
}

/**
 * Add synthetic align_* columns to every CSV of a copy; `values(c)` gives the four (l2, linf,
 * spectral, hybrid) from the row's cos_to_last c (by default c, 0.9c, 0.8c, 0.7c).
 */
export function withAlignmentColumns(values: (c: number) => number[] = (c) => [c, c * 0.9, c * 0.8, c * 0.7]): string {
  const dir = copyFixture();
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.csv'))) {
    const [head, ...lines] = readFileSync(join(dir, n), 'utf8').trimEnd().split('\n');
    const cols = head!.split(',');
    const k = cols.indexOf('cos_to_last');
    const rows = lines.map((l) => `${l},${values(Number(l.split(',')[k])).join(',')}`);
    writeFileSync(join(dir, n), [`${head},align_l2,align_linf,align_spectral,align_hybrid`, ...rows].join('\n') + '\n');
  }
  return dir;
}

/** Ids of the fixture's runs (72). */
export function fixtureIds(): string[] {
  return readdirSync(FIXTURE)
    .filter((n) => n.endsWith('.json') && n !== 'sweep.json')
    .map((n) => n.replace(/\.json$/, ''));
}

/** One seed: a copy with only seed 0 of every group, as a sweep of seed 0 alone would write it. */
export function oneSeed(): string {
  const dir = withoutRuns(fixtureIds().filter((id) => !id.endsWith('_s0')));
  const sweep = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
  sweep.runs = sweep.runs.filter((id: string) => id.endsWith('_s0'));
  sweep.config.train.seeds = [0];
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(sweep, null, 2) + '\n');
  return withEditedSummaries((id) => id.endsWith('_s0'), (s) => (s.config.train.seeds = [0]), dir);
}

/** Edit the summaries (parsed JSON) of the runs whose id passes `which`, in `dir` (default: a fresh copy). */
export function withEditedSummaries(which: (id: string) => boolean, edit: (summary: any) => void, dir = copyFixture()): string {
  for (const id of fixtureIds().filter(which)) {
    const path = join(dir, `${id}.json`);
    const s = JSON.parse(readFileSync(path, 'utf8'));
    edit(s);
    writeFileSync(path, JSON.stringify(s, null, 2) + '\n');
  }
  return dir;
}

const SIGNED = ['qmin', 'margin_l2', 'margin_linf', 'margin_spectral', 'margin_hybrid'];

/**
 * Never separated: every run of `optimizer` gets q_min and all four margins ≤ 0 at every log point
 * (each value's sign flipped to minus in the CSV text, and in the summary's final row).
 */
export function withUnseparated(optimizer: string): string {
  const dir = copyFixture();
  const mine = (id: string) => new RegExp(`^(relu|sqrelu)_${optimizer}_b`).test(id);
  for (const id of fixtureIds().filter(mine)) {
    const csv = join(dir, `${id}.csv`);
    const [head, ...lines] = readFileSync(csv, 'utf8').trimEnd().split('\n');
    const cols = head!.split(',');
    const idx = SIGNED.map((c) => cols.indexOf(c));
    const rows = lines.map((l) => l.split(',').map((cell, j) => (idx.includes(j) && !cell.startsWith('-') ? `-${cell}` : cell)).join(','));
    writeFileSync(csv, [head, ...rows].join('\n') + '\n');
  }
  return withEditedSummaries(mine, (s) => {
    for (const c of SIGNED) s.final[c] = -Math.abs(s.final[c]);
  }, dir);
}

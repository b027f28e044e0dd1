import { stringify } from 'csv-stringify/sync';
import { writeFileAtomic } from './atomic.js';

/**
 * A run's log as CSV: a header of `columns`, one row per log point. Numbers are written with
 * JavaScript's shortest round-trip formatting (exact float64; NaN for a value that does not
 * exist), so files are byte-identical across runs of the same config.
 */
export function writeCsvAtomic<C extends string>(path: string, columns: readonly C[], rows: Record<C, number>[]): void {
  const body = stringify(
    rows.map((row) => columns.map((c) => String(row[c]))),
    { header: true, columns: [...columns] },
  );
  writeFileAtomic(path, body);
}

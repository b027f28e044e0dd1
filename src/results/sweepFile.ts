import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/types.js';
import { UsageError } from '../errors.js';
import { checkInputDir } from '../io/paths.js';
import { SWEEP_FILE } from './runs.js';

/**
 * `sweep.json`: what a results folder is meant to hold (docs/sweeps.md). Written by `run` (the
 * whole grid or one shard) and `merge`; read by `status`, `merge`, `figures` and `table` through
 * this one schema.
 */
export const SweepFileSchema = z.looseObject({
  /** The resolved config of the sweep (validated when it was loaded). */
  config: z.custom<Readonly<Config>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { error: 'expected the resolved config' }),
  /** Ids of the runs this folder holds: the whole grid, or one shard of it. */
  runs: z.array(z.string()),
  /** Runs in the config's whole grid (older files lack it). */
  grid_runs: z.int().min(0).optional(),
  shard: z.object({ index: z.int().min(1), count: z.int().min(1) }).nullable().optional(),
  /** Set by `merge`: the folders merged into this one. */
  merged_from: z.array(z.string()).optional(),
  /**
   * Set by `merge --partial`: runs of the config's grid that no merged folder declared; `runs`
   * leaves them out and `status` lists them as missing.
   */
  undeclared: z.array(z.string()).optional(),
  created_at: z.string().optional(),
});

export type SweepFile = z.infer<typeof SweepFileSchema>;

/** A folder's sweep.json, or why there is none that can be used (missing, not JSON, not a sweep file). */
export function readSweepFile(dir: string): { ok: true; sweep: SweepFile } | { ok: false; reason: string } {
  let text: string;
  try {
    text = readFileSync(join(dir, SWEEP_FILE), 'utf8');
  } catch {
    return { ok: false, reason: `no ${SWEEP_FILE}` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${SWEEP_FILE} is not valid JSON` };
  }
  const parsed = SweepFileSchema.safeParse(raw);
  if (parsed.success) return { ok: true, sweep: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, reason: `${SWEEP_FILE} is not a sweep file: ${issue.path.join('.') || '(top level)'}: ${issue.message}` };
}

/** Read a results folder's sweep.json or fail with a usage error naming the folder. */
export function requireSweepFile(dir: string): SweepFile {
  checkInputDir(dir, dir);
  const read = readSweepFile(dir);
  if (!read.ok) throw new UsageError(`${dir}: ${read.reason}; not a margin-bench results folder`);
  return read.sweep;
}

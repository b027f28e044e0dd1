import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/types.js';

/** `sweep.json`: what a results folder is meant to hold (read by `status` and `merge`). */
export interface SweepFile {
  config: Readonly<Config>;
  /** Ids of the runs this folder holds: the whole grid, or one shard of it. */
  runs: string[];
  /** Runs in the config's whole grid. */
  grid_runs: number;
  shard: { index: number; count: number } | null;
  /** Set by `merge`: the folders merged into this one. */
  merged_from?: string[];
  /**
   * Set by `merge --partial`: runs of the config's grid that no merged folder declared; `runs`
   * leaves them out and `status` lists them as missing.
   */
  undeclared?: string[];
  created_at: string;
}

export const SWEEP_FILE = 'sweep.json';

/** Read a folder's sweep.json; null when it has none (or it does not parse). */
export function readSweepFile(dir: string): SweepFile | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, SWEEP_FILE), 'utf8')) as SweepFile;
    return parsed && typeof parsed === 'object' && Array.isArray(parsed.runs) && parsed.config ? parsed : null;
  } catch {
    return null;
  }
}

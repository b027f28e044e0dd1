import type { Config } from '../config/types.js';
import { OPTIMIZER_NAMES, optimizerName } from '../config/types.js';
import { UsageError } from '../errors.js';
import type { RunSpec } from '../results/runs.js';

/**
 * Every run of a config, in a fixed order: activation, then optimizer, then β, then seed (the
 * order of the config's lists). The order only matters for progress display; results do not
 * depend on it.
 */
export function gridOf(config: Readonly<Config>): RunSpec[] {
  const specs: RunSpec[] = [];
  for (const activation of config.model.activations)
    for (const optimizer of config.train.optimizers.map(optimizerName))
      for (const beta of config.train.betas)
        for (const seed of config.train.seeds) specs.push({ activation, optimizer, beta, seed });
  return specs;
}

/** `--seeds 0-9`, `--seeds 0,3`, `--seeds 0-2,7` → sorted distinct seeds. */
export function parseSeeds(text: string): number[] {
  const seeds = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new UsageError(`--seeds ${text}: expected a list like 0-9 or 0,3,5`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new UsageError(`--seeds ${text}: range ${part.trim()} is empty`);
    for (let s = lo; s <= hi; s++) seeds.add(s);
  }
  return [...seeds].sort((a, b) => a - b);
}

/** `--only adam,muon` → optimizer names: presets, or composed optimizers' names ([A-Za-z][A-Za-z0-9_]*). */
export function parseOnly(text: string): string[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`--only ${text}: unknown optimizer "${name}", expected some of ${OPTIMIZER_NAMES.join(', ')} or a composed optimizer's name`);
    }
  }
  if (names.length === 0) throw new UsageError(`--only ${text}: expected optimizer names, e.g. --only adam,muon`);
  return names;
}

/**
 * The `--set` values that run only the optimizers `only` of `config`: train.optimizers keeps their
 * entries; a composed optimizer left out still has its norm logged (moved to log.norms without its
 * momentum), so every run writes the columns, and has the hash, it has in the whole grid.
 */
export function onlySets(config: Readonly<Config>, only: readonly string[]): string[] {
  const kept = config.train.optimizers.filter((e) => only.includes(optimizerName(e)));
  const moved = config.train.optimizers
    .filter((e): e is Exclude<typeof e, string> => typeof e !== 'string' && !only.includes(e.name))
    .map(({ momentum: _m, lion_beta2: _b, ...norm }) => norm);
  const sets = [`train.optimizers=${JSON.stringify(kept)}`];
  if (moved.length > 0) sets.push(`log.norms=${JSON.stringify([...(config.log.norms ?? []), ...moved])}`);
  return sets;
}

/** `[0, 1, 2, 5]` → `0-2,5`. */
function seedRanges(seeds: number[]): string {
  const sorted = [...new Set(seeds)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Runs listed for a message, every one of them but the seeds of one (activation, optimizer, β)
 * folded: `relu_adam_b0.9_s{0-4,7}, relu_muon_b0.9_s3`.
 */
export function describeRuns(specs: readonly RunSpec[]): string {
  const groups = new Map<string, number[]>();
  for (const s of specs) {
    const stem = `${s.activation}_${s.optimizer}_b${s.beta}_s`;
    groups.set(stem, [...(groups.get(stem) ?? []), s.seed]);
  }
  return [...groups].map(([stem, seeds]) => (seeds.length === 1 ? `${stem}${seeds[0]}` : `${stem}{${seedRanges(seeds)}}`)).join(', ');
}

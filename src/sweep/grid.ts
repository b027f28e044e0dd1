import type { Config, OptimizerName } from '../config/types.js';
import { OPTIMIZER_NAMES } from '../config/types.js';
import { UsageError } from '../errors.js';
import type { RunSpec } from '../train/train.js';

/**
 * Every run of a config, in a fixed order: activation, then optimizer, then β, then seed (the
 * order of the config's lists). The order only matters for progress display; results do not
 * depend on it.
 */
export function gridOf(config: Readonly<Config>): RunSpec[] {
  const specs: RunSpec[] = [];
  for (const activation of config.model.activations)
    for (const optimizer of config.train.optimizers)
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

/** `--only adam,muon` → optimizer names, each checked against the six. */
export function parseOnly(text: string): OptimizerName[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`--only ${text}: unknown optimizer "${name}", expected some of ${OPTIMIZER_NAMES.join(', ')}`);
    }
  }
  if (names.length === 0) throw new UsageError(`--only ${text}: expected optimizer names, e.g. --only adam,muon`);
  return names as OptimizerName[];
}

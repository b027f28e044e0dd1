import { ACTIVATIONS, type Activation } from '../config/types.js';
import type { ResultSet } from '../results/load.js';
import { ACTIVATION_LABEL, betaLabel } from './style.js';

/**
 * What a results set lacks, in words, for captions and table notes: missing seeds (against the
 * sweep files' seeds and every seed seen), failed runs, CSVs without a summary.
 */
export interface Coverage {
  /** Seeds a complete set would have for every (activation, optimizer, β). */
  expectedSeeds: number[];
  /** Finished seeds per group key `act|opt|β`. */
  seedsOf: Map<string, number[]>;
  /** One line per incomplete group, failed run or unfinished file; empty when complete. */
  notes: string[];
  /** Notes about the given optimizers only (for a figure's caption). */
  notesFor: (optimizers: readonly string[]) => string[];
}

const RUN_ID = new RegExp(`^(${ACTIVATIONS.join('|')})_([A-Za-z][A-Za-z0-9_]*)_b([0-9.e+-]+)_s(-?\\d+)$`);

const groupName = (activation: Activation, optimizer: string, beta: number) =>
  `${ACTIVATION_LABEL[activation]} ${optimizer} ${betaLabel(beta)}`;

const list = (xs: number[]) => xs.join(', ');

export function coverage(set: ResultSet): Coverage {
  const seeds = new Set<number>();
  const groups = new Map<string, { activation: Activation; optimizer: string; beta: number }>();
  const seedsOf = new Map<string, number[]>();
  const add = (activation: Activation, optimizer: string, beta: number) => {
    const key = `${activation}|${optimizer}|${beta}`;
    if (!groups.has(key)) groups.set(key, { activation, optimizer, beta });
    return key;
  };
  for (const r of set.runs) {
    const { activation, optimizer, beta, seed } = r.summary.run;
    const key = add(activation, optimizer, beta);
    seedsOf.set(key, [...(seedsOf.get(key) ?? []), seed]);
    seeds.add(seed);
  }
  for (const id of [...set.missing, ...set.failed.map((s) => s.id)]) {
    const m = RUN_ID.exec(id);
    if (!m) continue;
    add(m[1] as Activation, m[2]!, Number(m[3]));
    seeds.add(Number(m[4]));
  }
  const expectedSeeds = [...seeds].sort((a, b) => a - b);

  const perGroup: { optimizer: string; text: string }[] = [];
  for (const [key, g] of groups) {
    const have = seedsOf.get(key) ?? [];
    const lacking = expectedSeeds.filter((s) => !have.includes(s));
    if (lacking.length === 0) continue;
    perGroup.push({
      optimizer: g.optimizer,
      text: `${groupName(g.activation, g.optimizer, g.beta)}: ${have.length} of ${expectedSeeds.length} seeds (missing seed${lacking.length > 1 ? 's' : ''} ${list(lacking)})`,
    });
  }
  for (const s of set.failed) {
    perGroup.push({
      optimizer: s.run.optimizer,
      text: `${s.id}: failed${s.failure ? ` at step ${s.failure.step} (${s.failure.reason})` : ''}; left out`,
    });
  }
  const unfinished = set.unfinished.map((p) => `${p}: no summary beside it (unfinished run); left out`);
  const notesFor = (optimizers: readonly string[]) => [
    ...perGroup.filter((n) => optimizers.includes(n.optimizer)).map((n) => n.text),
    ...(unfinished.length > 0 ? [`${unfinished.length} CSV file(s) without a summary left out`] : []),
  ];
  return { expectedSeeds, seedsOf, notes: [...perGroup.map((n) => n.text), ...unfinished], notesFor };
}

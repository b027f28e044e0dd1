import { adam } from './adam.js';
import { colL2 } from './colL2.js';
import { frobenius } from './frobenius.js';
import { l1 } from './l1.js';
import { linf } from './linf.js';
import { rowL2 } from './rowL2.js';
import type { LayerRule, RuleModule } from './rule.js';
import { schatten } from './schatten.js';
import { spectral } from './spectral.js';

export type { DeviceRule, LayerRule, PolarMethod, RuleModule, RuleWork } from './rule.js';

/**
 * docs/science.md §12.1: every per-layer rule, by the name a config writes. Adding a rule is one
 * file in this folder and one line here (docs/extending.md).
 */
export const RULES: Readonly<Record<string, RuleModule>> = {
  frobenius,
  linf,
  spectral,
  l1,
  row_l2: rowL2,
  col_l2: colL2,
  schatten,
  adam,
};

/**
 * A rule as a config writes it: a name (`spectral`) or a one-key map to its parameter
 * (`{ schatten: 4 }`). Returns the built rule, or the reason it is not one.
 */
export function parseRule(value: unknown): LayerRule | string {
  const known = Object.keys(RULES).join(', ');
  if (typeof value === 'string') {
    const mod = RULES[value];
    if (!mod) return `unknown rule "${value}", expected one of ${known}`;
    if (mod.param) return `rule "${value}" needs its parameter: { ${value}: <${mod.param.meaning}> }`;
    return mod.build();
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1) {
    const [name, param] = Object.entries(value)[0]!;
    const mod = RULES[name];
    if (!mod) return `unknown rule "${name}", expected one of ${known}`;
    if (!mod.param) return `rule "${name}" takes no parameter (write it as ${name})`;
    const bad = mod.param.check(param);
    return bad ? `${name}: ${bad}` : mod.build(param as number);
  }
  return `expected a rule name or a one-key map such as { schatten: 4 }, found ${JSON.stringify(value)}`;
}

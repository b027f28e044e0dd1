import { lineRule } from './rowL2.js';

/** docs/science.md §12.1 `col_l2`: the ℓ1→ℓ2 operator norm (src/optimizers/rules/rowL2.ts has both). TF.js: refused. */
export const colL2 = lineRule(false);

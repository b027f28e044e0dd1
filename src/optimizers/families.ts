import type { OptimizerName } from '../config/types.js';

/**
 * What each optimizer is, as plain data (docs/science.md §1, §5, §6): the norm whose max-margin
 * problem its implicit bias solves, and the rule each layer's step follows. Readers of results
 * (figures, tables, status) import this, not the optimizers' numerics.
 */

/** docs/science.md §5: the four norms whose normalized margins are logged. */
export const NORM_NAMES = ['l2', 'linf', 'spectral', 'hybrid'] as const;
export type NormName = (typeof NORM_NAMES)[number];
/** Their labels: in text and in LaTeX. */
export const NORM_TEXT: Record<NormName, { text: string; latex: string }> = {
  l2: { text: 'ℓ2', latex: '$\\ell_2$' },
  linf: { text: 'ℓ∞', latex: '$\\ell_\\infty$' },
  spectral: { text: 'spectral', latex: 'spectral' },
  hybrid: { text: 'hybrid', latex: 'hybrid' },
};

/** How one layer's step is made from its momentum buffer (docs/science.md §6). */
export type LayerRule = 'l2' | 'sign' | 'adam' | 'polar';

export interface OptimizerDef {
  /** The norm whose max-margin problem this optimizer's implicit bias solves (docs/science.md §1). */
  family: NormName;
  /** Rule for a layer, given whether it is a Muon layer (docs/science.md §5). */
  rule: (isMuonLayer: boolean) => LayerRule;
}

/** docs/science.md §1 table: the one place that says what each optimizer does. */
export const OPTIMIZERS: Record<OptimizerName, OptimizerDef> = {
  ngd: { family: 'l2', rule: () => 'l2' },
  signum: { family: 'linf', rule: () => 'sign' },
  adam: { family: 'linf', rule: () => 'adam' },
  muon: { family: 'spectral', rule: () => 'polar' },
  muon_signum: { family: 'hybrid', rule: (muon) => (muon ? 'polar' : 'sign') },
  muon_adam: { family: 'hybrid', rule: (muon) => (muon ? 'polar' : 'adam') },
};

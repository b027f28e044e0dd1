import { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { OPTIMIZER_NAMES, optimizerName } from '../config/types.js';
import { requirePath } from '../io/paths.js';
import { loggedNorms, ownNormName, runComposition } from '../metrics/normTable.js';
import { describeComposition, type Composition } from '../optimizers/compose.js';
import { resolveMuonLayers } from '../metrics/norms.js';
import { presetComposition } from '../optimizers/compose.js';
import { RULES } from '../optimizers/rules/index.js';

/** One composition in words: per-layer rules and rates, aggregation, momentum, and its implied norm. */
function describe(c: Composition): string[] {
  const layers = c.rules.map((r, l) => `${l}: ${r.id}${c.rates[l] !== 1 ? ` (rate ${c.rates[l]})` : ''}`).join(', ');
  // The TF.js engine runs the six presets; a composition runs on the f64 engine (docs/engines.md).
  const device = c.preset === null ? '; f64 engine only' : '';
  return [
    `    layers ${layers}; aggregate ${c.aggregate}; momentum ${c.momentum}${c.momentum === 'lion' ? ` (β2 ${c.lionBeta2})` : ''}${device}`,
    `    implied norm N(θ) = ${describeComposition(c)}`,
  ];
}

/**
 * `margin-bench optimizers [config]`: the per-layer rules, the six presets written as compositions,
 * and for a config each optimizer's composition and implied norm, and every norm its runs log
 * (docs/science.md §12).
 */
export function optimizersCommand(): Command {
  return new Command('optimizers')
    .description('list the per-layer rules and the presets; with a config, each optimizer written out as a composition with its implied norm, and the norms its runs log')
    .argument('[config]', 'run config, YAML or JSON: its optimizers and logged norms')
    .addHelpText(
      'after',
      `
A composed optimizer (an entry of train.optimizers) is a rule per layer (selectors all, hidden =
every layer but the output, input = layer 0, output, or a 0-based index; each layer exactly once),
rates per layer (default 1), an aggregation (max, l2, sum; default max) and a momentum rule (ema,
nesterov, lion, none; default ema). Its implied norm is logged as margin_<name> for every run of
the config; log.norms adds more. docs/science.md §12 has the algebra, docs/extending.md how to add
a rule. Exit codes: 0, 2 for a bad config.

Examples:
  margin-bench optimizers
  margin-bench optimizers configs/engineered.yaml`,
    )
    .action((configPath: string | undefined) => {
      const out: string[] = ['per-layer rules (train.optimizers[].layers, log.norms[].layers):'];
      const width = Math.max(...Object.keys(RULES).map((n) => n.length + 12));
      for (const [name, mod] of Object.entries(RULES)) {
        const usage = mod.param ? `{ ${name}: ${mod.param.meaning.split(',')[0]} }` : name;
        out.push(`  ${usage.padEnd(width)} ${mod.summary}`);
      }
      if (configPath === undefined) {
        // The presets for the default depth-2 network: Muon layer 0, output layer 1.
        out.push('', 'presets (a depth-2 network, train.muon_layers null, hybrid_ratio 1):');
        for (const name of OPTIMIZER_NAMES) out.push(`  ${name}`, ...describe(presetComposition(name, resolveMuonLayers(null, 2), 1)));
        process.stdout.write(`${out.join('\n')}\n`);
        return;
      }
      requirePath(configPath, 'config');
      const config = loadConfig(configPath);
      const depth = config.model.depth;
      out.push('', `optimizers of ${configPath} (depth ${depth}):`);
      for (const name of config.train.optimizers.map(optimizerName)) {
        out.push(`  ${name}${OPTIMIZER_NAMES.includes(name as never) ? ' (preset)' : ''} — own norm ${ownNormName(name)}`, ...describe(runComposition(config, name, depth)));
      }
      out.push('', 'norms every run logs (CSV columns margin_<name>, norm_<name>, align_<name>):');
      for (const n of loggedNorms(config, depth)) out.push(`  ${n.name.padEnd(16)} ${n.definition}`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}

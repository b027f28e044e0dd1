import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { loadDataset } from '../data/dataset.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { readWeights } from '../io/weights.js';
import { createProgress } from '../report/progress.js';
import { runId } from '../train/train.js';
import { gridOf } from './grid.js';
import { executeRun, shapesFor, type RunSummary } from './runOne.js';

export interface SweepOptions {
  saveWeights?: boolean;
  /** Show progress on stderr (default true). */
  progress?: boolean;
}

/**
 * The run is a function (STYLE): train every cell of the config's grid, writing each run's CSV and
 * summary into outDir, and return the summaries. Data is loaded once and shared; all optimizers
 * of one seed start from the same initial weights.
 */
export function runSweep(config: Readonly<Config>, outDir: string, options: SweepOptions = {}): RunSummary[] {
  // Everything that can be wrong with the input is checked before the first write.
  const data = loadDataset(config.data);
  const init = config.train.init_from ? readWeights(config.train.init_from, shapesFor(config, data)) : null;
  const specs = gridOf(config);
  writeJsonAtomic(join(outDir, 'sweep.json'), {
    config,
    runs: specs.map(runId),
    created_at: new Date().toISOString(),
  });
  const progress = options.progress === false ? null : createProgress(specs.length);
  const summaries: RunSummary[] = [];
  try {
    for (const spec of specs) {
      const id = runId(spec);
      progress?.runStarted(id, config.train.steps);
      const summary = executeRun(config, spec, data, outDir, {
        init,
        saveWeights: options.saveWeights,
        onStep: progress ? (done) => progress.step(done) : undefined,
      });
      summaries.push(summary);
      const f = summary.final;
      const detail =
        summary.status === 'ok' && f
          ? `log10 loss ${f.log10_loss.toFixed(1)}, acc ${f.train_acc}, ${summary.ms_per_step.toFixed(2)} ms/step`
          : `FAILED: ${summary.failure?.reason}`;
      progress?.runFinished(id, detail);
    }
  } finally {
    progress?.stop();
  }
  return summaries;
}

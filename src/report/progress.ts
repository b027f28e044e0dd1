import cliProgress from 'cli-progress';

/** Progress of a sweep, on stderr (stdout is for data). */
export interface SweepProgress {
  runStarted(id: string, steps: number): void;
  step(done: number): void;
  runFinished(id: string, message: string): void;
  stop(): void;
}

/**
 * On a terminal: two cli-progress bars (runs done / total with ETA, steps of the current run).
 * Elsewhere (CI logs): one plain line per finished run, no control characters.
 */
export function createProgress(totalRuns: number, stream: NodeJS.WriteStream = process.stderr): SweepProgress {
  if (!stream.isTTY) {
    let done = 0;
    return {
      runStarted() {},
      step() {},
      runFinished(id, message) {
        done++;
        stream.write(`[${done}/${totalRuns}] ${id} ${message}\n`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format: '{label} [{bar}] {value}/{total} | ETA {eta_formatted} | {detail}',
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  const runs = multi.create(totalRuns, 0, { label: 'runs ', detail: '' });
  const steps = multi.create(1, 0, { label: 'steps', detail: '' });
  let lastUpdate = 0;
  return {
    runStarted(id, total) {
      steps.start(total, 0, { label: 'steps', detail: id });
    },
    step(done) {
      // Redrawing on every step would cost more than the step itself.
      const now = Date.now();
      if (now - lastUpdate > 100) {
        steps.update(done);
        lastUpdate = now;
      }
    },
    runFinished(id, message) {
      runs.increment(1, { detail: `last: ${id} ${message}` });
    },
    stop() {
      multi.stop();
    },
  };
}

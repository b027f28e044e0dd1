import cliProgress from 'cli-progress';

/** Progress of a sweep, on stderr (stdout is for data). Runs may overlap (one per worker). */
export interface SweepProgress {
  /** A line of its own (a plan, a warning), above the bar on a terminal. */
  note(line: string): void;
  /** A run began on a worker; `cost` is its expected cost (src/sweep/cost.ts), in any unit. */
  runStarted(id: string, cost: number, steps: number): void;
  /** Updates done so far by a run under way. */
  runProgress(id: string, done: number): void;
  /** A run ended, ok or failed, with a short description. */
  runFinished(id: string, ok: boolean, message: string): void;
  stop(): void;
}

export interface SweepPlan {
  /** Runs to do in this sweep. */
  runs: number;
  /** Their total expected cost, in the unit of runStarted's `cost`. */
  cost: number;
}

/** `95` → `1m35s`; `3725` → `1h02m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * Work done, weighted by expected cost (src/sweep/cost.ts: a Muon run counts for several Adam runs), including the part
 * of the runs under way, and the ETA that follows from the rate so far.
 */
class Tally {
  finished = 0;
  failed = 0;
  private doneCost = 0;
  private readonly running = new Map<string, { cost: number; steps: number; done: number }>();
  private readonly t0 = performance.now();

  constructor(readonly plan: SweepPlan) {}

  start(id: string, cost: number, steps: number) {
    this.running.set(id, { cost, steps, done: 0 });
  }
  step(id: string, done: number) {
    const r = this.running.get(id);
    if (r) r.done = done;
  }
  finish(id: string, ok: boolean) {
    this.doneCost += this.running.get(id)?.cost ?? 0;
    this.running.delete(id);
    this.finished++;
    if (!ok) this.failed++;
  }
  /** Fraction of the expected cost done, in [0, 1]. */
  fraction(): number {
    if (this.plan.cost <= 0) return 1;
    let c = this.doneCost;
    for (const r of this.running.values()) c += r.steps > 0 ? (r.cost * r.done) / r.steps : 0;
    return Math.min(1, c / this.plan.cost);
  }
  eta(): string {
    const f = this.fraction();
    const elapsed = (performance.now() - this.t0) / 1000;
    return f > 0 ? formatDuration((elapsed * (1 - f)) / f) : '?';
  }
  /** The runs under way with their step fraction: `relu_muon_b0.9_s3 40%`. */
  current(): string {
    return [...this.running.entries()]
      .map(([id, r]) => `${id} ${r.steps > 0 ? Math.floor((100 * r.done) / r.steps) : 0}%`)
      .join(', ');
  }
}

/**
 * One display for the whole sweep, whatever the number of workers.
 * On a terminal: one cli-progress bar — cost-weighted percentage, runs done / to do, failures, ETA,
 * and the runs under way. Elsewhere (CI logs): one plain line per finished run, no control
 * characters: `[k/N] <id> <message> | ETA 3m05s` (and `| f failed` once a run failed).
 */
export function createProgress(plan: SweepPlan, stream: NodeJS.WriteStream = process.stderr): SweepProgress {
  const tally = new Tally(plan);
  if (!stream.isTTY) {
    return {
      note: (line) => stream.write(`${line}\n`),
      runStarted: (id, cost, steps) => tally.start(id, cost, steps),
      runProgress: (id, done) => tally.step(id, done),
      runFinished(id, ok, message) {
        tally.finish(id, ok);
        const failed = tally.failed > 0 ? ` | ${tally.failed} failed` : '';
        const eta = tally.finished < plan.runs ? ` | ETA ${tally.eta()}` : '';
        stream.write(`[${tally.finished}/${plan.runs}] ${id} ${message}${failed}${eta}\n`);
      },
      stop() {},
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: false,
      hideCursor: true,
      format: 'sweep [{bar}] {percentage}% | {runs} runs{failed} | ETA {etaText} | {current}',
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  const SCALE = 1000; // bar resolution: per mille of the expected cost
  const bar = multi.create(SCALE, 0, { runs: `0/${plan.runs}`, failed: '', etaText: '?', current: '' });
  const redraw = () =>
    bar.update(Math.round(SCALE * tally.fraction()), {
      runs: `${tally.finished}/${plan.runs}`,
      failed: tally.failed > 0 ? `, ${tally.failed} failed` : '',
      etaText: tally.eta(),
      current: tally.current(),
    });
  return {
    note: (line) => multi.log(`${line}\n`),
    runStarted(id, cost, steps) {
      tally.start(id, cost, steps);
      redraw();
    },
    runProgress(id, done) {
      tally.step(id, done);
      redraw();
    },
    runFinished(id, ok, message) {
      tally.finish(id, ok);
      if (!ok) multi.log(`${id} ${message}\n`);
      redraw();
    },
    stop() {
      redraw();
      multi.stop();
    },
  };
}

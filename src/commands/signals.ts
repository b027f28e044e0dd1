import { constants } from 'node:os';

/** SIGINT and SIGTERM while a command writes: stop the work, keep what is whole, exit 128 + the signal's number. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** 128 + the signal number, what shells report: SIGINT 130, SIGTERM 143. */
export const exitCodeFor = (signal: StopSignal): number => 128 + constants.signals[signal];

/**
 * Run `work` with SIGINT and SIGTERM turned into an abort of the signal it is given (instead of
 * Node's immediate exit, which would leave the folder's lock and half a run behind). A second
 * signal gets Node's default again. Returns what `work` returned and the first signal received.
 */
export async function withStopSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<{ result: T; received: StopSignal | null }> {
  const controller = new AbortController();
  let received: StopSignal | null = null;
  const handlers = STOP_SIGNALS.map((name) => {
    const handler = () => {
      received ??= name;
      controller.abort();
    };
    process.once(name, handler);
    return [name, handler] as const;
  });
  try {
    const result = await work(controller.signal);
    return { result, received };
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
  }
}

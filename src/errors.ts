/**
 * Two kinds of failure, two exit codes (STYLE "CLI manners"):
 * - UsageError: the user's input is wrong (config key, flag, data file). Exit 2, one line.
 * - RunError: the input was fine but the run failed (non-finite values, I/O). Exit 1.
 * Library code throws these; only src/cli.ts turns them into exit codes.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export class RunError extends Error {
  override name = 'RunError';
}

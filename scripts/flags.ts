// The scripts' flags: `--name value` pairs after the script's path.

const args = process.argv.slice(2);

/** The value after `--name`, or the fallback (as text). */
export function flag(name: string, fallback: string | number): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : String(fallback);
}

/** Whether `--name` is given. */
export const hasFlag = (name: string): boolean => args.includes(name);

/** Every value of a repeated flag, e.g. each `--set key=value`. */
export function flagAll(name: string): string[] {
  return args.flatMap((a, i) => (a === name && i + 1 < args.length ? [args[i + 1]!] : []));
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

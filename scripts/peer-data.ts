#!/usr/bin/env node
// The training set of a config, exactly as margin-bench trains on it, for scripts/torch_peer.py:
//
//   node --import tsx scripts/peer-data.ts CONFIG --out FILE.json [--set key=value ...]
//
// writes FILE.json (the resolved config, n, d, the output width, the labels, the global indices)
// and FILE.x.f64 (the pixel matrix X [n, d], row-major, little-endian float64). With the initial
// weights of a run (`margin-bench run --save-weights` writes <run>.init.weights.json) the peer then
// trains the very run margin-bench trained.
import { dirname, basename, join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/types.js';
import { loadDataset, type Dataset } from '../src/data/dataset.js';
import { UsageError } from '../src/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/io/atomic.js';
import { flag, flagAll } from './flags.js';

export const PEER_DATA_FORMAT = 'margin-bench peer data 1';

/** Write `data` (the training set of `config`) as FILE.json + FILE.x.f64; returns the two paths. */
export function writePeerData(config: Readonly<Config>, data: Dataset, path: string): { json: string; x: string } {
  const x = join(dirname(path), `${basename(path, '.json')}.x.f64`);
  const bytes = new Uint8Array(data.X.buffer, data.X.byteOffset, data.X.byteLength);
  // Float64Array is in the host's byte order; every host margin-bench supports is little-endian.
  writeFileAtomic(x, bytes);
  writeJsonAtomic(path, {
    format: PEER_DATA_FORMAT,
    config,
    n: data.n,
    d: data.d,
    num_classes: data.numClasses,
    binary: data.numClasses === 1,
    x: basename(x),
    y: Array.from(data.y),
    indices: data.indices,
  });
  return { json: path, x };
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const [configPath] = process.argv.slice(2);
  const out = flag('--out', '');
  if (!configPath || configPath.startsWith('--') || !out) {
    process.stderr.write('usage: node --import tsx scripts/peer-data.ts CONFIG --out FILE.json [--set key=value ...]\n');
    process.exit(2);
  }
  try {
    const config = loadConfig(configPath, flagAll('--set'));
    const { json, x } = writePeerData(config, loadDataset(config.data), out);
    process.stdout.write(`${json}\n${x}\n`);
  } catch (err) {
    process.stderr.write(`peer-data: ${(err as Error).message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}

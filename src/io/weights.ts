import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { LayerShape, Params } from '../model/mlp.js';
import { writeJsonAtomic } from './atomic.js';

/**
 * The weights file format, for both `train.init_from` and `--save-weights`:
 *   {"layers": [W_1, …, W_L]}
 * each W_l a row-major nested array of shape [out][in] (W_1 is [width][784]). Numbers are written
 * with JavaScript's shortest round-trip formatting, so reading a saved file gives back the exact
 * float64 values.
 */
export interface WeightsFile {
  layers: number[][][];
}

export function paramsToJson(params: Params, shapes: LayerShape[]): WeightsFile {
  return {
    layers: params.map((w, l) => {
      const { out, in: cols } = shapes[l]!;
      return Array.from({ length: out }, (_, i) => Array.from(w.subarray(i * cols, (i + 1) * cols)));
    }),
  };
}

export function writeWeights(path: string, params: Params, shapes: LayerShape[]): void {
  writeJsonAtomic(path, paramsToJson(params, shapes));
}

/** Read a weights file and check it against the model's layer shapes; errors name the file and the layer. */
export function readWeights(path: string, shapes: LayerShape[]): Params {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new UsageError(`train.init_from: ${path}: ${why}`);
  }
  const layers = (raw as Partial<WeightsFile> | null)?.layers;
  if (!Array.isArray(layers)) throw new UsageError(`train.init_from: ${path}: expected {"layers": [W_1, …, W_L]}`);
  if (layers.length !== shapes.length) {
    throw new UsageError(`train.init_from: ${path}: has ${layers.length} layers, the model has depth ${shapes.length}`);
  }
  return shapes.map(({ out, in: cols }, l) => {
    const rows = layers[l];
    const bad = (what: string) =>
      new UsageError(`train.init_from: ${path}: layer ${l + 1} ${what}, expected shape [${out}][${cols}]`);
    if (!Array.isArray(rows) || rows.length !== out) throw bad(`has ${Array.isArray(rows) ? rows.length : 0} rows`);
    const w = new Float64Array(out * cols);
    rows.forEach((row: unknown, i: number) => {
      if (!Array.isArray(row) || row.length !== cols) throw bad(`row ${i} has ${Array.isArray(row) ? row.length : 0} entries`);
      row.forEach((v: unknown, j: number) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`entry [${i}][${j}] is not a finite number`);
        w[i * cols + j] = v;
      });
    });
    return w;
  });
}

/** Every digit a source offers, in global-index order (docs/science.md §2). */
export interface DigitPool {
  images: Float64Array; // [n, d] row-major, pixels in [0, 1]
  digits: Int32Array; // [n] digit 0..9 of each global index
  n: number;
  d: number;
  source: string;
}

// The one place that turns kernels.wat into bytes (build-wasm.ts and the kernel test share it).
import wabtFactory from 'wabt';

/** WebAssembly text → binary, with the SIMD feature, validated. */
export async function assembleKernels(watText: string): Promise<Uint8Array> {
  const wabt = await wabtFactory();
  const module = wabt.parseWat('kernels.wat', watText, { simd: true });
  try {
    module.validate();
    return Uint8Array.from(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

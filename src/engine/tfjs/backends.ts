import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type * as TF from '@tensorflow/tfjs-core';
import type { BackendName } from '../../config/types.js';
import { UsageError } from '../../errors.js';

/**
 * The TF.js backends the tfjs engine can run on (docs/engines.md), and how each is found. The wasm
 * and cpu backends are dependencies of margin-bench; webgpu (Dawn's prebuilt binaries ship inside
 * the `webgpu` package) is an optional dependency, installed wherever npm can; the libtensorflow
 * ones download libtensorflow when installed, so they are never listed in package.json. Every
 * backend but wasm and cpu is loaded with a dynamic import() when present, and a missing one is a
 * usage error that says how to install it.
 *
 * TF.js keeps its engine and backend registry in a process-wide (per-thread) global; that is TF.js's
 * own state, not ours. Every loader here is idempotent.
 */

/** The TF.js version the optional packages must match (that of @tensorflow/tfjs-core in package.json). */
export const TFJS_VERSION = '4.22.0';

export type ConcreteBackend = Exclude<BackendName, 'auto'>;

export interface BackendInfo {
  name: ConcreteBackend;
  /** npm packages it needs beyond @tensorflow/tfjs-core. */
  packages: string[];
  /** The exact command that installs them. */
  install: string;
  /** What installing it involves, for `margin-bench engines`. */
  note: string;
  /** A native addon or a GPU device: one per process, so a sweep on it runs one worker. */
  exclusive: boolean;
  /** The name TF.js registers it under. */
  tfName: string;
  /**
   * Tensors read back synchronously (dataSync). Not on webgpu in Node: TF.js 4.22 does that through
   * OffscreenCanvas, which Node lacks, so the engine there reads with `await tensor.data()`
   * (src/engine/tfjs/device.ts).
   */
  syncReadback: boolean;
}

export const BACKEND_INFO: Record<ConcreteBackend, BackendInfo> = {
  'tensorflow-gpu': {
    name: 'tensorflow-gpu',
    packages: ['@tensorflow/tfjs-node-gpu'],
    install: `npm install @tensorflow/tfjs-node-gpu@${TFJS_VERSION}`,
    note: 'downloads libtensorflow with CUDA at install time; needs an NVIDIA driver, CUDA 11.2 and cuDNN 8.1 (Linux x64)',
    exclusive: true,
    tfName: 'tensorflow',
    syncReadback: true,
  },
  tensorflow: {
    name: 'tensorflow',
    packages: ['@tensorflow/tfjs-node'],
    install: `npm install @tensorflow/tfjs-node@${TFJS_VERSION}`,
    note: 'downloads libtensorflow (CPU) at install time',
    exclusive: true,
    tfName: 'tensorflow',
    syncReadback: true,
  },
  webgpu: {
    name: 'webgpu',
    packages: ['@tensorflow/tfjs-backend-webgpu', 'webgpu'],
    install: `npm install @tensorflow/tfjs-backend-webgpu@${TFJS_VERSION} webgpu@0.6.2`,
    note: 'an optional dependency of margin-bench: Dawn (the `webgpu` package, prebuilt binaries, no download) on Vulkan/Metal/D3D12; needs a GPU adapter',
    exclusive: true,
    tfName: 'webgpu',
    syncReadback: false,
  },
  wasm: {
    name: 'wasm',
    packages: ['@tensorflow/tfjs-backend-wasm'],
    install: `npm install @tensorflow/tfjs-backend-wasm@${TFJS_VERSION}`,
    note: 'a dependency of margin-bench (WebAssembly with SIMD, no download)',
    exclusive: false,
    tfName: 'wasm',
    syncReadback: true,
  },
  cpu: {
    name: 'cpu',
    packages: ['@tensorflow/tfjs-backend-cpu'],
    install: `npm install @tensorflow/tfjs-backend-cpu@${TFJS_VERSION}`,
    note: 'a dependency of margin-bench (plain JavaScript kernels, slowest)',
    exclusive: false,
    tfName: 'cpu',
    syncReadback: true,
  },
};

/** `backend: auto` takes the first of these that loads (docs/engines.md). webgpu is never picked on its own. */
export const AUTO_ORDER: ConcreteBackend[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

const require = createRequire(import.meta.url);

/** Whether a package resolves from margin-bench's own location (what a dynamic import would find). */
export function isInstalled(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** The packages of a backend that are not installed. */
export function missingPackages(backend: ConcreteBackend): string[] {
  return BACKEND_INFO[backend].packages.filter((p) => !isInstalled(p));
}

/** The usage error for a backend that is not installed: one line, with the command that installs it. */
export function notInstalledError(backend: ConcreteBackend, key = 'train.backend'): UsageError {
  const info = BACKEND_INFO[backend];
  const missing = missingPackages(backend);
  return new UsageError(
    `${key} ${backend}: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed; install with: ${info.install}`,
  );
}

/**
 * Without loading anything: the backend a config's `backend` setting will use, or a usage error if
 * it names one that is not installed. `auto` picks the first installed one of AUTO_ORDER (wasm
 * always is), so it resolves the same way in the main thread and in every worker.
 */
export function resolveInstalledBackend(backend: BackendName): ConcreteBackend {
  if (backend !== 'auto') {
    if (missingPackages(backend).length > 0) throw notInstalledError(backend);
    return backend;
  }
  return AUTO_ORDER.find((b) => missingPackages(b).length === 0) ?? 'cpu';
}

export type Tf = typeof TF;

/** TF.js, loaded and set to one backend. */
export interface TfRuntime {
  tf: Tf;
  backend: ConcreteBackend;
  /**
   * The device it computes on, where the backend can tell: a GPU, or a CPU standing in for one
   * (lavapipe behind webgpu, libtensorflow without CUDA behind tensorflow-gpu); null where it cannot.
   */
  device: { description: string; gpu: boolean } | null;
}

/**
 * Load @tensorflow/tfjs-core and the backend, make it the active one and wait for it to be ready.
 * Throws a UsageError when the backend is not installed, and an Error saying why when it is
 * installed but does not start (no GPU adapter, a libtensorflow that does not load).
 */
export async function loadBackend(backend: ConcreteBackend): Promise<TfRuntime> {
  if (missingPackages(backend).length > 0) throw notInstalledError(backend);
  const tf = await import('@tensorflow/tfjs-core');
  // PROD mode: no per-op NaN checks, and the "install tfjs-node" hint of the cpu backend stays quiet.
  tf.enableProdMode();
  const info = BACKEND_INFO[backend];
  let device: TfRuntime['device'] = null;
  switch (backend) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      break;
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the .wasm files are read from disk; point TF.js at the package's own dist folder.
      const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      wasm.setWasmPaths(`${dir}/`);
      break;
    }
    case 'tensorflow':
    case 'tensorflow-gpu':
      // libtensorflow's cuBLAS multiplies float32 matrices in TF32 (10-bit mantissa, ~1e-3 relative)
      // on Ampere and newer GPUs unless told not to, which would undo the float32 accuracy the engine
      // relies on (docs/engines.md). Read by CUDA's libraries when they load, so set before the import.
      if (backend === 'tensorflow-gpu') process.env.NVIDIA_TF32_OVERRIDE ??= '0';
      // Registers the 'tensorflow' backend (libtensorflow through a native addon).
      await import(info.packages[0]!);
      break;
    case 'webgpu':
      device = await installWebGpu();
      await import('@tensorflow/tfjs-backend-webgpu' as string);
      break;
  }
  if (tf.getBackend() !== info.tfName) {
    const ok = await tf.setBackend(info.tfName);
    if (!ok) throw new Error(`TF.js backend ${backend} is installed but did not start (tf.setBackend('${info.tfName}') failed)`);
  }
  await tf.ready();
  if (backend === 'tensorflow-gpu') {
    // tfjs-node(-gpu)'s backend says whether libtensorflow found a CUDA device; without one it runs on the CPU.
    const onGpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
    if (onGpu !== undefined) device = { description: onGpu ? 'CUDA GPU (libtensorflow)' : 'CPU (libtensorflow found no CUDA GPU)', gpu: onGpu };
  }
  return { tf, backend, device };
}

/**
 * WebGPU in Node: the `webgpu` package (Dawn) provides navigator.gpu and the GPU* globals that
 * @tensorflow/tfjs-backend-webgpu expects from a browser. Fails when Dawn finds no adapter.
 */
async function installWebGpu(): Promise<TfRuntime['device']> {
  type Adapter = { info?: { description?: string; vendor?: string; architecture?: string; isFallbackAdapter?: boolean } } | null;
  type Gpu = { requestAdapter(): Promise<Adapter> };
  const g = globalThis as unknown as { navigator?: { gpu?: Gpu } };
  const describe = (adapter: Adapter): TfRuntime['device'] => {
    const info = adapter?.info;
    if (!info) return null;
    const description = info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
    // A fallback adapter is a CPU implementation (lavapipe's llvmpipe, SwiftShader).
    return { description, gpu: !info.isFallbackAdapter };
  };
  if (g.navigator?.gpu) return describe(await g.navigator.gpu.requestAdapter());
  const dawn = (await import('webgpu' as string)) as { create: (flags: string[]) => Gpu; globals: Record<string, unknown> };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('webgpu: Dawn found no GPU adapter on this machine (it needs a Vulkan driver with libvulkan.so.1; for a CPU-only check see docs/engines.md: lavapipe)');
  // Node 20 has no navigator; Node ≥ 21 has one without `gpu`.
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  return describe(adapter);
}

/**
 * `backend: auto` at run time: the first backend of AUTO_ORDER that is installed and starts, so a
 * broken GPU install falls back to the next one instead of failing the run.
 */
export async function loadAutoBackend(): Promise<TfRuntime> {
  const failures: string[] = [];
  for (const backend of AUTO_ORDER) {
    if (missingPackages(backend).length > 0) continue;
    try {
      return await loadBackend(backend);
    } catch (err) {
      failures.push(`${backend}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  throw new Error(`train.backend auto: no TF.js backend starts (${failures.join('; ')})`);
}

/** How one backend stands on this machine, for `margin-bench engines`. */
export interface BackendReport {
  name: ConcreteBackend;
  status: 'usable' | 'installed, not usable' | 'missing';
  detail: string;
  /** For a usable backend that can tell: the device it computes on (TfRuntime.device). */
  device?: TfRuntime['device'];
}

/**
 * Try each backend: missing packages are reported with the install command; installed ones are
 * loaded and run one small matmul to show they work. Loading a native backend registers it for the
 * rest of the process, which is fine for this one-shot report.
 */
export async function probeBackends(): Promise<BackendReport[]> {
  const reports: BackendReport[] = [];
  for (const name of ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as ConcreteBackend[]) {
    const info = BACKEND_INFO[name];
    const missing = missingPackages(name);
    if (missing.length > 0) {
      reports.push({ name, status: 'missing', detail: `${missing.join(', ')} not installed: ${info.install} (${info.note})` });
      continue;
    }
    try {
      const { tf, device } = await loadBackend(name);
      // Read back asynchronously: the one read every backend supports (webgpu has no dataSync in Node).
      const t = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])));
      const product = (await t.data())[0]!;
      t.dispose();
      if (product !== 3) throw new Error(`a test matmul gave ${product}, expected 3`);
      const on = device ? `; on ${device.description}${device.gpu ? '' : ' (a CPU, not a GPU)'}` : '';
      reports.push({ name, status: 'usable', detail: `${info.note}${on}`, ...(device ? { device } : {}) });
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      reports.push({ name, status: 'installed, not usable', detail: message });
    }
  }
  return reports;
}

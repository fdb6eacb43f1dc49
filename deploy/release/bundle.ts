/**
 * `kuroko release`: builds dist/, stages what a hub or node runs (compiled JS, production
 * node_modules for the target with every native part built for it, firmware .hex, node model,
 * deploy files) and packs it with a signed manifest.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { RELEASE_ARCHES, type ReleaseArch, type ReleaseManifest } from './manifest.ts';
import { BundleError, packTree } from './pack.ts';
import type { SigningKey } from './keys.ts';
import { BUILD_ONLY, planModules, stageModules } from './modules.ts';
import { auditNatives, buildEpoll, placeBinary } from './natives.ts';
import { stageGpioAddon } from './addon.ts';

export const FIRMWARE_IN_BUNDLE = 'dist/firmware-config/firmware/build/kuroko-atmega328p.hex';
export const MODEL_IN_BUNDLE = 'dist/models/kuroko-tiny';
/** Deploy files a hub or node uses (unit files, broker config, dashboard, model backends). */
const DEPLOY_DIRS = ['deploy/systemd', 'deploy/mosquitto', 'deploy/grafana', 'deploy/llm'];

/** Extra binaries built elsewhere for the target (our GPIO addon registers itself here). */
export interface ExtraNative {
  /** Lockfile-style path of the package in the bundle, e.g. node_modules/epoll, or "." for the app. */
  pkgPath: string;
  rel: string;
  build: (root: string, arch: ReleaseArch, cacheDir: string) => string;
}

export interface CreateBundleOptions {
  /** The repository root (package.json, package-lock.json, node_modules). */
  root: string;
  arch: string;
  out: string;
  key: SigningKey;
  /** Where fetched packages and built binaries are cached between runs (default ROOT/var/release-cache). */
  cacheDir?: string;
  /** Skip `npm run build` (the caller built dist/ already). */
  skipBuild?: boolean;
  extraNatives?: ExtraNative[];
  log?: (line: string) => void;
}

/** Refuses anything but the two 64-bit Linux targets, saying why. */
export function checkArch(arch: string): ReleaseArch {
  if ((RELEASE_ARCHES as readonly string[]).includes(arch)) return arch as ReleaseArch;
  if (/arm(v7|hf|v6)|linux-arm$/.test(arch)) {
    throw new BundleError(`--arch ${arch}: 32-bit ARM is not supported, because onnxruntime-node (the node's model) has no armv7 build (microsoft/onnxruntime#19028). Use a 64-bit OS on the Pi (linux-arm64)`);
  }
  throw new BundleError(`--arch must be one of ${RELEASE_ARCHES.join(', ')} (not "${arch}")`);
}

function gitCommit(root: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function copyNonTs(src: string, dest: string): void {
  cpSync(src, dest, { recursive: true, filter: (f) => statSync(f).isDirectory() || !f.endsWith('.ts') });
}

function versionOf(stage: string, pkg: string): string | undefined {
  const f = join(stage, 'node_modules', pkg, 'package.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { version: string }).version : undefined;
}

export async function createBundle(opts: CreateBundleOptions): Promise<ReleaseManifest> {
  const log = opts.log ?? (() => {});
  const arch = checkArch(opts.arch);
  const root = opts.root;
  const cacheDir = opts.cacheDir ?? join(root, 'var', 'release-cache');
  const t0 = performance.now();
  if (!opts.skipBuild) {
    log('building dist/ (npm run build)');
    const r = spawnSync(process.execPath, [join(root, 'bin', 'build.js')], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new BundleError(`npm run build failed:\n${r.stdout}${r.stderr}`);
  }
  if (!existsSync(join(root, 'dist', 'bin', 'cli.js'))) throw new BundleError('dist/ is missing: run npm run build');
  if (!existsSync(join(root, FIRMWARE_IN_BUNDLE))) throw new BundleError(`${FIRMWARE_IN_BUNDLE} is missing: the firmware did not build (install gcc-avr binutils-avr avr-libc, then npm run build)`);

  const stage = join(cacheDir, `stage-${arch}-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown> & { version: string; dependencies: Record<string, string>; engines?: { node?: string } };
    cpSync(join(root, 'dist'), join(stage, 'dist'), { recursive: true });
    mkdirSync(join(stage, 'bin'));
    cpSync(join(root, 'bin', 'kuroko.js'), join(stage, 'bin', 'kuroko.js'));
    for (const d of DEPLOY_DIRS) if (existsSync(join(root, d))) copyNonTs(join(root, d), join(stage, d));
    for (const f of ['README.md', 'LICENSE', 'PRIVACY.md']) if (existsSync(join(root, f))) cpSync(join(root, f), join(stage, f));
    const deps = Object.fromEntries(Object.entries(pkg.dependencies).filter(([n]) => !BUILD_ONLY.includes(n)));
    writeFileSync(join(stage, 'package.json'), JSON.stringify({
      name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, type: 'module',
      engines: pkg.engines, bin: pkg.bin, dependencies: deps,
    }, null, 2) + '\n');

    log(`production node_modules for ${arch}`);
    const plan = planModules(root, arch);
    const versions = stageModules(root, stage, arch, plan, cacheDir);
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { optional?: boolean; devOptional?: boolean }> };
    const optional = new Set(plan.include.filter((p) => lock.packages[p]?.optional || lock.packages[p]?.devOptional));

    log(`native parts for ${arch}`);
    const builtHere = new Set<string>();
    placeBinary(stage, 'node_modules/epoll', 'build/Release/epoll.node', buildEpoll(root, arch, cacheDir));
    builtHere.add('node_modules/epoll');
    for (const extra of opts.extraNatives ?? []) {
      placeBinary(stage, extra.pkgPath, extra.rel, extra.build(root, arch, cacheDir));
      builtHere.add(extra.pkgPath);
    }
    await stageGpioAddon(root, stage, arch, log);
    const audit = auditNatives(stage, arch, versions, optional, builtHere, new Map([['native/gpio', { name: 'kuroko_gpio', version: pkg.version }]]));

    const firmwareVersion = readFileSync(join(root, 'firmware-config', 'firmware', 'VERSION'), 'utf8').trim();
    const components: Record<string, string> = { kuroko: pkg.version, firmware: firmwareVersion, node: process.version };
    for (const p of ['onnxruntime-node', 'serialport', '@serialport/bindings-cpp', 'onoff', 'epoll', 'node-llama-cpp', 'mqtt', '@huggingface/transformers']) {
      const v = versionOf(stage, p);
      if (v) components[p] = v;
    }
    const modelManifest = JSON.parse(readFileSync(join(stage, MODEL_IN_BUNDLE, 'manifest.json'), 'utf8')) as { name: string; defaultDtype?: string };
    components.model = modelManifest.name;
    log('hashing and signing');
    const manifest = await packTree(stage, opts.out, {
      name: 'kuroko',
      version: pkg.version,
      arch,
      createdAt: new Date().toISOString(),
      commit: gitCommit(root),
      node: { engines: pkg.engines?.node ?? '>=20', modules: process.versions.modules, napi: process.versions.napi ?? '' },
      entry: 'bin/kuroko.js',
      components,
      firmware: { version: firmwareVersion, file: FIRMWARE_IN_BUNDLE },
      model: { name: modelManifest.name, dir: MODEL_IN_BUNDLE, dtype: modelManifest.defaultDtype ?? 'int8' },
      natives: audit.natives,
      omitted: [...plan.unused, ...audit.omitted],
    }, opts.key);
    log(`${relative(process.cwd(), opts.out) || opts.out}: ${manifest.files.length} files, ${(statSync(opts.out).size / 1e6).toFixed(1)} MB, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return manifest;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

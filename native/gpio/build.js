#!/usr/bin/env node
// Builds the kuroko_gpio addon with @mapbox/node-pre-gyp for x64 (native) and arm64 (cross-compiled
// with Debian's gcc-aarch64-linux-gnu), and packs each with `node-pre-gyp package` into
// native/gpio/prebuilt/v<version>/ — the files a mirror or a release bundle serves to `npm install`.
//   node native/gpio/build.js [--arch x64|arm64|all] [--no-package]
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
export const NODE_PRE_GYP = join(dirname(require.resolve('@mapbox/node-pre-gyp/package.json')), 'bin', 'node-pre-gyp');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
export const NAPI = pkg.binary.napi_versions[0];

/** Where node-pre-gyp puts (and the loader finds) the binary for an arch. */
export function binaryPath(arch, root = ROOT) {
  return join(root, 'native/gpio/lib/binding', `napi-v${NAPI}-linux-${arch}`, 'kuroko_gpio.node');
}
/** The package node-pre-gyp makes for an arch, relative to a mirror's root. */
export function packageName(arch) {
  return `v${pkg.version}/kuroko_gpio-v${pkg.version}-napi-v${NAPI}-linux-${arch}.tar.gz`;
}

/** The mirror layout of node-pre-gyp packages (serve this folder, or point file:// at it). */
export const PREBUILT_DIR = (root = ROOT) => join(root, 'native/gpio/prebuilt');

/** Node's C headers: installed beside this node (no download; CI has no route to nodejs.org). */
export function nodeDir() {
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

export function gypEnv(arch) {
  const env = { ...process.env };
  const dir = process.env.npm_config_nodedir || nodeDir();
  if (dir) env.npm_config_nodedir = dir;
  if (arch === 'arm64' && process.arch !== 'arm64') {
    Object.assign(env, { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++', AR: 'aarch64-linux-gnu-ar' });
  }
  return env;
}

function run(args, arch, cwd) {
  const r = spawnSync(process.execPath, [NODE_PRE_GYP, ...args, `--target_arch=${arch}`], { cwd, env: gypEnv(arch), encoding: 'utf8' });
  if (r.status !== 0) {
    const out = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /error|ERR!|not found/i.test(l)).slice(-15).join('\n');
    throw new Error(`node-pre-gyp ${args[0]} for ${arch} failed:\n${out}`);
  }
}

/** Builds (and packages) the addon for arch; returns the binary and the package's path. */
export function buildAddon(arch, { root = ROOT, pack = true } = {}) {
  if (arch === 'arm64' && process.arch !== 'arm64' && spawnSync('aarch64-linux-gnu-gcc', ['--version']).status !== 0) {
    throw new Error('aarch64-linux-gnu-gcc not found: install Debian\'s gcc-aarch64-linux-gnu to cross-compile the GPIO addon for arm64');
  }
  run(['rebuild'], arch, root);
  if (!pack) return { binary: binaryPath(arch, root) };
  run(['package'], arch, root);
  // build/ is wiped by the next arch's rebuild: keep the package where a mirror can serve it.
  const tarball = join(PREBUILT_DIR(root), packageName(arch));
  mkdirSync(dirname(tarball), { recursive: true });
  copyFileSync(join(root, 'build', 'stage', packageName(arch)), tarball);
  return { binary: binaryPath(arch, root), tarball };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--arch');
  const which = i > 0 ? process.argv[i + 1] : process.arch;
  const arches = which === 'all' ? ['x64', 'arm64'] : [which];
  try {
    for (const a of arches) {
      const t0 = performance.now();
      const r = buildAddon(a, { pack: !process.argv.includes('--no-package') });
      console.log(`kuroko_gpio ${a}: ${r.binary.slice(ROOT.length)}${process.argv.includes('--no-package') ? '' : ` + ${r.tarball.slice(ROOT.length)}`} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}

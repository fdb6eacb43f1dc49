/**
 * Our GPIO addon in a bundle: the binary where native/gpio/binding.cjs loads it, and its
 * node-pre-gyp package under native/gpio/prebuilt/ (a mirror for checkouts on the node:
 * npm_config_kuroko_gpio_binary_host_mirror=file:///…/native/gpio/prebuilt/). Built with
 * native/gpio/build.js (cross-compiled for arm64) unless the binary is newer than its sources.
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ReleaseArch } from './manifest.ts';
import { cpuOf } from './modules.ts';
import { BundleError } from './pack.ts';

const SOURCES = ['native/gpio/src/kuroko_gpio.c', 'binding.gyp', 'package.json'];

function upToDate(root: string, files: string[]): boolean {
  if (!files.every((f) => existsSync(f))) return false;
  const oldest = Math.min(...files.map((f) => statSync(f).mtimeMs));
  return SOURCES.every((s) => statSync(join(root, s)).mtimeMs <= oldest);
}

export async function stageGpioAddon(root: string, stage: string, arch: ReleaseArch, log: (l: string) => void): Promise<void> {
  // Loaded from the checkout at run time (the compiled release code in dist/ has no copy of it).
  const { binaryPath, buildAddon, packageName, PREBUILT_DIR } = await import(pathToFileURL(join(root, 'native/gpio/build.js')).href) as typeof import('../../native/gpio/build.js');
  const cpu = cpuOf(arch);
  const binary = binaryPath(cpu, root);
  const tarball = join(PREBUILT_DIR(root), packageName(cpu));
  if (!upToDate(root, [binary, tarball])) {
    log(`building the GPIO addon for ${arch} (node-pre-gyp${cpu !== process.arch ? ', cross-compiled' : ''})`);
    try {
      buildAddon(cpu, { root });
    } catch (e) {
      throw new BundleError((e as Error).message);
    }
  }
  for (const f of [join(root, 'native/gpio/binding.cjs'), binary, tarball]) {
    const dest = join(stage, relative(root, f));
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(f, dest);
  }
}

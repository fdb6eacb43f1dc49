/**
 * Small release bundles for the fleet tests, made with the real bundle API (packTree: manifest
 * with the sha256 of every file, ed25519 signature) but holding only what the test needs: an
 * entry script and the firmware .hex. The entry of a working release hands over to this
 * checkout's `kuroko` (the stand-in for the compiled JS a real bundle carries, which would make
 * each test bundle hundreds of MB); a broken release's entry fails the way a bad build does.
 */
import { mkdirSync, mkdtempSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateKeyFiles, loadSigningKey, packTree, type SigningKey } from '../../deploy/release/index.ts';
import { buildFirmware } from '../../firmware-config/build-tools.ts';
import { FIRMWARE_VERSION_TEXT } from '../../firmware-config/firmware/version.ts';

const CHECKOUT_CLI = fileURLToPath(new URL('../../bin/kuroko.js', import.meta.url));

export interface TestKeys { dir: string; privateFile: string; publicFile: string; key: SigningKey }

export function testKeys(): TestKeys {
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-keys-'));
  const { privateFile, publicFile } = generateKeyFiles(dir, 'fleet-test');
  return { dir, privateFile, publicFile, key: loadSigningKey(privateFile) };
}

export type TestRelease = 'working' | 'crashes' | 'never-ready';

/** Writes a signed bundle `out` of `version`; returns its path. */
export async function makeTestBundle(out: string, version: string, kind: TestRelease, key: SigningKey): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-bundle-src-'));
  try {
    mkdirSync(join(dir, 'bin'));
    mkdirSync(join(dir, 'firmware'));
    const entry = {
      working: `// Release ${version} (test bundle): runs this checkout's kuroko.\nawait import(${JSON.stringify(pathToFileURL(CHECKOUT_CLI).href)});\n`,
      // A bad build: a module the release needs is not in it.
      crashes: `// Release ${version} (test bundle): a broken build.\nawait import('./missing-module-of-${version}.js');\n`,
      // Starts and stays up but never joins the show (as a release with a wrong broker setting would).
      'never-ready': `// Release ${version} (test bundle): never reaches ready.\nprocess.on('SIGTERM', () => process.exit(0));\nsetInterval(() => undefined, 1000);\n`,
    }[kind];
    writeFileSync(join(dir, 'bin', 'kuroko.js'), entry, { mode: 0o755 });
    copyFileSync(buildFirmware(), join(dir, 'firmware', 'kuroko-atmega328p.hex'));
    await packTree(dir, out, {
      name: 'kuroko', version, arch: `linux-${process.arch}` as 'linux-x64', createdAt: new Date().toISOString(),
      node: { engines: '>=20.11', modules: process.versions.modules, napi: process.versions.napi ?? '' },
      entry: 'bin/kuroko.js', components: { kuroko: version, test: kind },
      firmware: { version: FIRMWARE_VERSION_TEXT, file: 'firmware/kuroko-atmega328p.hex' },
      natives: [], omitted: [],
    }, key);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

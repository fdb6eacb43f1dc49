/**
 * The whole release path for a Raspberry Pi / Jetson: `createBundle` for linux-arm64 on this
 * x86-64 machine, `verifyBundle`, `extractBundle`, then an arm64 Node (qemu-user) loads every
 * native part from the unpacked bundle — our GPIO addon, serialport's prebuild, epoll (compiled
 * here with the cross g++), onoff, onnxruntime-node with the tokenizer (and sharp) generating
 * tokens from the shipped int8 model — and runs the compiled CLI. Nothing is compiled on the
 * "node": the bundle is used as unpacked.
 * CI cost: about 1–2 min (bundle ~40–60 s at gzip level 1, the arm64 Node under qemu ~30–60 s).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/stage.ts';
import { ensureArm64Node, runArm64 } from '../helpers/arm64.ts';
import {
  createBundle, verifyBundle, extractBundle, generateKeyFiles, loadSigningKey, loadTrustedKey, type ReleaseManifest,
} from '../../deploy/release/index.ts';

let dir: string;
let bundle: string;
let manifest: ReleaseManifest;
let trusted: ReturnType<typeof loadTrustedKey>;

beforeAll(async () => {
  mkdirSync(join(ROOT, 'var'), { recursive: true }); // a fresh checkout has no var/ yet
  dir = mkdtempSync(join(ROOT, 'var', 'test-arm64-'));
  const k = generateKeyFiles(join(dir, 'keys'));
  trusted = loadTrustedKey(k.publicFile);
  bundle = join(dir, 'kuroko-linux-arm64.tar.gz');
  const t0 = performance.now();
  manifest = await createBundle({ root: ROOT, arch: 'linux-arm64', out: bundle, key: loadSigningKey(k.privateFile), gzipLevel: 1 });
  console.log(`arm64 bundle: ${manifest.files.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 600000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arm64 release bundle', () => {
  it('holds what a node runs, every native part built for arm64, and no build tools', () => {
    const paths = new Set(manifest.files.map((f) => f.path));
    for (const p of ['bin/kuroko.js', 'dist/bin/cli.js', 'dist/edge/node.js', 'dist/firmware-config/firmware/build/kuroko-atmega328p.hex',
      'dist/models/kuroko-tiny/onnx/model_int8.onnx', 'native/gpio/lib/binding/napi-v8-linux-arm64/kuroko_gpio.node',
      'native/gpio/prebuilt/v0.1.0/kuroko_gpio-v0.1.0-napi-v8-linux-arm64.tar.gz', 'node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1',
      'node_modules/epoll/build/Release/epoll.node', 'deploy/systemd/kuroko-edge.service']) {
      expect(paths.has(p), p).toBe(true);
    }
    expect([...paths].filter((p) => /^node_modules\/(tsx|esbuild|@esbuild|typescript|vitest|onnxruntime-web)\//.test(p))).toEqual([]);
    expect([...paths].filter((p) => /(linux\/x64\/|linux-x64).*\.(node|so[.\d]*)$/.test(p))).toEqual([]);
    const natives = Object.fromEntries(manifest.natives.map((n) => [n.package, n]));
    for (const pkg of ['kuroko_gpio', 'epoll', 'onnxruntime-node', '@serialport/bindings-cpp', '@img/sharp-linux-arm64']) expect(natives[pkg], pkg).toBeDefined();
    expect(natives.kuroko_gpio!.origin).toBe('built');
    expect(natives.epoll!.origin).toBe('built');
    expect(manifest.omitted.map((o) => o.package.split('@')[0])).toContain('onnxruntime-web');
    expect(manifest.firmware!.version).toMatch(/^\d+\.\d+$/);
  });

  it('verifies, unpacks, and its native parts load and run in an arm64 Node (qemu-user)', async () => {
    const v = await verifyBundle(bundle, [trusted]);
    expect(v.problems).toEqual([]);
    const dest = join(dir, 'releases', manifest.version);
    await extractBundle(bundle, dest, [trusted]);
    expect(existsSync(join(dest, 'node_modules', 'tsx'))).toBe(false);
    copyFileSync(join(ROOT, 'test/release/arm64-probe.mjs'), join(dest, 'probe.mjs'));
    const node = ensureArm64Node();
    const t0 = performance.now();
    const r = runArm64(node, ['probe.mjs'], dest);
    console.log(`arm64 probe under qemu: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.status, `${r.stderr}\n${r.error ?? ''}`).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({
      arch: 'arm64',
      node: process.version,
      gpioEvent: { offset: 17, rising: true },
      gpioError: 'ENOENT',
      serialBinary: 'prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node',
      serialOpen: 'function',
      epoll: 'function',
      onoffAccessible: false,
      modelTokens: 6,
      modelText: 'string',
      validate: 0,
    });
    expect(r.stdout).toMatch(/ok +dist\/hub\/shows\/blade.yaml: show blade/);
  }, 600000);
});

/**
 * Installing the kuroko_gpio addon the node-pre-gyp way, in a private copy of the package (so the
 * binary other tests have loaded is never rewritten): build + `node-pre-gyp package`, then
 * `npm install`'s step (native/gpio/install.js) fetches it from a mirror over HTTP on 127.0.0.1,
 * and builds from source when the mirror has no binary for this machine.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import * as tar from 'tar';
import { ROOT } from '../helpers/stage.ts';

let dir: string;
let server: Server;
let mirrorUrl: string;
const requests: string[] = [];
const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const pkgName = `v${version}/kuroko_gpio-v${version}-napi-v8-linux-${process.arch}.tar.gz`;
const binary = () => join(dir, `native/gpio/lib/binding/napi-v8-linux-${process.arch}/kuroko_gpio.node`);
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Async on purpose: the mirror is served from this process, so its event loop must keep running. */
function install(mirror: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['native/gpio/install.js'], {
      cwd: dir, encoding: 'utf8', timeout: 170000,
      env: { ...process.env, npm_config_kuroko_gpio_binary_host_mirror: mirror, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' },
    }, (_err, stdout, stderr) => resolve({ stdout, stderr }));
  });
}

beforeAll(async () => {
  mkdirSync(join(ROOT, 'var'), { recursive: true });
  dir = mkdtempSync(join(ROOT, 'var', 'test-addon-'));
  for (const f of ['package.json', 'binding.gyp', 'native/gpio/src', 'native/gpio/binding.cjs', 'native/gpio/build.js', 'native/gpio/install.js']) {
    cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  }
  const b = spawnSync(process.execPath, ['native/gpio/build.js', '--arch', process.arch], { cwd: dir, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  // The packages become the mirror; the installed binary goes away.
  renameSync(join(dir, 'native/gpio/prebuilt'), join(dir, 'mirror'));
  rmSync(join(dir, 'native/gpio/lib'), { recursive: true, force: true });
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const file = join(dir, 'mirror', decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(join(dir, 'mirror')) || !existsSync(file)) { res.writeHead(404).end('not here'); return; }
    res.writeHead(200, { 'content-type': 'application/gzip' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  mirrorUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}, 180000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('kuroko_gpio install (node-pre-gyp)', () => {
  it('fetches the packaged binary from a mirror over HTTP', async () => {
    const r = await install(mirrorUrl);
    expect(r.stdout, r.stderr).toMatch(/fetched from the mirror/);
    expect(requests).toContain(`GET /${pkgName}`);
    const packed = join(dir, 'unpacked');
    mkdirSync(packed);
    await tar.x({ file: join(dir, 'mirror', pkgName), cwd: packed });
    const inPackage = spawnSync('find', [packed, '-name', 'kuroko_gpio.node'], { encoding: 'utf8' }).stdout.trim();
    expect(sha(binary())).toBe(sha(inPackage));
    const load = spawnSync(process.execPath, ['-e', `const b = require(${JSON.stringify(join(dir, 'native/gpio/binding.cjs'))}).load(); console.log(b.EVENT_SIZE)`], { encoding: 'utf8' });
    expect(load.stdout.trim()).toBe('48');
    // A second install finds it in place and fetches nothing.
    const n = requests.length;
    expect((await install(mirrorUrl)).stdout).toMatch(/is in place/);
    expect(requests.length).toBe(n);
  });

  it('builds from source when the mirror has no binary for this machine', async () => {
    rmSync(join(dir, 'native/gpio/lib'), { recursive: true, force: true });
    rmSync(join(dir, 'mirror'), { recursive: true, force: true });
    const r = await install(mirrorUrl);
    expect(requests.at(-1)).toBe(`GET /${pkgName}`);
    expect(r.stdout, r.stderr).toMatch(/built from source/);
    expect(existsSync(binary())).toBe(true);
  }, 180000);
});

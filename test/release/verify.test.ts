/**
 * Signed bundles, on small folders: a good bundle verifies; every kind of tampering is refused
 * and named (changed file, added file, removed file, edited manifest, unknown signer, no key).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import * as tar from 'tar';
import {
  packTree, verifyBundle, extractBundle, readManifest, generateKeyFiles, loadSigningKey, loadTrustedKey,
  MANIFEST_FILE, checkArch, type ManifestFields, type TrustedKey, type SigningKey,
} from '../../deploy/release/index.ts';

const FIELDS: ManifestFields = {
  name: 'kuroko', version: '9.9.9', arch: 'linux-arm64', createdAt: new Date(0).toISOString(),
  node: { engines: '>=20', modules: '115', napi: '9' }, entry: 'bin/kuroko.js', components: { kuroko: '9.9.9' },
  natives: [], omitted: [],
};

let dir: string;
let key: SigningKey;
let trusted: TrustedKey;
let stranger: TrustedKey;
let good: string;

function makeTree(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'dist/hub'), { recursive: true });
  writeFileSync(join(root, 'bin/kuroko.js'), '#!/usr/bin/env node\nconsole.log("hi")\n', { mode: 0o755 });
  writeFileSync(join(root, 'dist/hub/hub.js'), 'export const hub = 1;\n');
  writeFileSync(join(root, 'dist/hub/b.txt'), 'bee\n');
}

/** Unpacks a bundle as-is (no checks), lets `edit` change it, and packs it again without re-signing. */
async function tamper(name: string, edit: (d: string) => void): Promise<string> {
  const d = join(dir, `t-${name}`);
  mkdirSync(d);
  await tar.x({ file: good, cwd: d });
  edit(d);
  const out = join(dir, `${name}.tar.gz`);
  const files = execFileSync('find', ['.', '-type', 'f'], { cwd: d, encoding: 'utf8' }).trim().split('\n').map((f) => f.slice(2))
    .sort((a, b) => (a.startsWith('kuroko-release') ? -1 : b.startsWith('kuroko-release') ? 1 : a.localeCompare(b)));
  await tar.c({ cwd: d, file: out, gzip: true, portable: true, noDirRecurse: true }, files);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kuroko-release-'));
  const k = generateKeyFiles(join(dir, 'keys'));
  key = loadSigningKey(k.privateFile);
  trusted = loadTrustedKey(k.publicFile);
  stranger = loadTrustedKey(generateKeyFiles(join(dir, 'other-keys')).publicFile);
  makeTree(join(dir, 'tree'));
  good = join(dir, 'good.tar.gz');
  await packTree(join(dir, 'tree'), good, FIELDS, key);
});

describe('release bundles: signing and verifying', () => {
  it('a bundle signed by a trusted key verifies, with the manifest first and every file hashed', async () => {
    const r = await verifyBundle(good, [trusted]);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.manifest!.files.map((f) => f.path)).toEqual(['bin/kuroko.js', 'dist/hub/b.txt', 'dist/hub/hub.js']);
    expect(r.manifest!.files[0]!.mode).toBe(0o755);
    expect(r.manifest!.signer.keyId).toBe(trusted.keyId);
    const listed: string[] = [];
    await tar.t({ file: good, onReadEntry: (e) => { listed.push(e.path); } });
    expect(listed.slice(0, 2)).toEqual(['kuroko-release.json', 'kuroko-release.sig']);
    // packing leaves the source folder as it was
    expect(existsSync(join(dir, 'tree', MANIFEST_FILE))).toBe(false);
    expect((await readManifest(good)).manifest.version).toBe('9.9.9');
  });

  it('refuses without a trusted key, and names the signer when the key is not trusted', async () => {
    const none = await verifyBundle(good, []);
    expect(none.ok).toBe(false);
    expect(none.problems[0]!.message).toMatch(/no trusted public key.*--key/);
    const other = await verifyBundle(good, [stranger]);
    expect(other.ok).toBe(false);
    expect(other.problems[0]!.message).toContain(`signed by key ${trusted.keyId}, which is not trusted`);
  });

  it('names a changed file, an added file and a removed file', async () => {
    const changed = await tamper('changed', (d) => writeFileSync(join(d, 'dist/hub/hub.js'), 'export const hub = 2;\n'));
    const r1 = await verifyBundle(changed, [trusted]);
    expect(r1.problems.map((p) => [p.kind, p.path])).toEqual([['content', 'dist/hub/hub.js']]);
    expect(r1.problems[0]!.message).toMatch(/dist\/hub\/hub.js: content differs from the manifest/);

    const added = await tamper('added', (d) => writeFileSync(join(d, 'dist/evil.js'), 'process.exit(1)\n'));
    const r2 = await verifyBundle(added, [trusted]);
    expect(r2.problems.map((p) => [p.kind, p.path])).toEqual([['extra', 'dist/evil.js']]);

    const removed = await tamper('removed', (d) => rmSync(join(d, 'dist/hub/b.txt')));
    const r3 = await verifyBundle(removed, [trusted]);
    expect(r3.problems.map((p) => [p.kind, p.path])).toEqual([['missing', 'dist/hub/b.txt']]);
  });

  it('refuses a manifest edited to match a changed file (the signature no longer fits)', async () => {
    const forged = await tamper('forged', (d) => {
      writeFileSync(join(d, 'dist/hub/b.txt'), 'wasp\n');
      const m = JSON.parse(readFileSync(join(d, MANIFEST_FILE), 'utf8'));
      const f = m.files.find((x: { path: string }) => x.path === 'dist/hub/b.txt');
      f.size = 5;
      f.sha256 = execFileSync('sha256sum', [join(d, 'dist/hub/b.txt')], { encoding: 'utf8' }).slice(0, 64);
      writeFileSync(join(d, MANIFEST_FILE), JSON.stringify(m, null, 1) + '\n');
    });
    const r = await verifyBundle(forged, [trusted]);
    expect(r.problems.map((p) => p.kind)).toEqual(['signature']);
    expect(r.problems[0]!.message).toMatch(/does not match kuroko-release.json/);
  });

  it('refuses what is not a bundle, with the reason', async () => {
    const junk = join(dir, 'junk.tar.gz');
    writeFileSync(junk, 'not a tarball at all');
    const r = await verifyBundle(junk, [trusted]);
    expect(r.ok).toBe(false);
    expect(r.problems[0]!.kind).toMatch(/unreadable|manifest/);
    const r2 = await verifyBundle(join(dir, 'nope.tar.gz'), [trusted]);
    expect(r2.problems[0]!.message).toMatch(/does not exist/);
  });

  it('extractBundle unpacks only a verified bundle, only into an empty folder', async () => {
    const dest = join(dir, 'releases', '9.9.9');
    const m = await extractBundle(good, dest, [trusted]);
    expect(m.version).toBe('9.9.9');
    expect(readFileSync(join(dest, 'dist/hub/b.txt'), 'utf8')).toBe('bee\n');
    expect(statSync(join(dest, 'bin/kuroko.js')).mode & 0o111).not.toBe(0);
    await expect(extractBundle(good, dest, [trusted])).rejects.toThrow(/not empty/);
    const changed = join(dir, 'changed.tar.gz');
    await expect(extractBundle(changed, join(dir, 'releases', 'bad'), [trusted])).rejects.toThrow(/refused:[\s\S]*dist\/hub\/hub.js: content differs/);
    expect(existsSync(join(dir, 'releases', 'bad'))).toBe(false);
  });

  it('refuses 32-bit ARM and says why', () => {
    expect(() => checkArch('linux-armv7l')).toThrow(/onnxruntime-node .* has no armv7 build/);
    expect(() => checkArch('darwin-arm64')).toThrow(/linux-x64, linux-arm64/);
    expect(checkArch('linux-arm64')).toBe('linux-arm64');
  });

  it('`kuroko release verify` prints each problem and exits 1', () => {
    const r = spawnSync(process.execPath, ['bin/kuroko.js', 'release', 'verify', join(dir, 'changed.tar.gz'), '--key', trusted.source], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/FAIL .*changed.tar.gz: 1 problem\n\s+content\s+dist\/hub\/hub.js: content differs/);
    const ok = spawnSync(process.execPath, ['bin/kuroko.js', 'release', 'verify', good, '--key', trusted.source], { encoding: 'utf8' });
    expect(ok.stdout).toMatch(/^ok .*kuroko 9.9.9 for linux-arm64, 3 files/);
    expect(ok.status).toBe(0);
  });
});

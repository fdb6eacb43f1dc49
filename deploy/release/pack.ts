/**
 * Turns a folder into a signed bundle: hashes every file, writes the manifest and its ed25519
 * signature first in a gzip tarball, then the files in sorted order. Used by `kuroko release` (on
 * a staged tree) and usable on any folder (the fleet tests build small bundles this way).
 */
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, rmSync, writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { MANIFEST_FILE, MANIFEST_FORMAT, SIGNATURE_FILE, type ManifestFile, type ReleaseManifest } from './manifest.ts';
import { rawPublicKey, signBytes, type SigningKey } from './keys.ts';

export class BundleError extends Error {
  override name = 'BundleError';
}

/** Everything in a manifest except what packTree computes (files, signer, format). */
export type ManifestFields = Omit<ReleaseManifest, 'format' | 'files' | 'signer'>;

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** Every regular file under dir, relative, sorted; symlinks and special files are refused. */
export function listTree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) out.push(...listTree(dir, r));
    else if (st.isFile()) out.push(r);
    else throw new BundleError(`${join(dir, r)}: only regular files go into a bundle (this is a ${st.isSymbolicLink() ? 'symlink' : 'special file'})`);
  }
  return out;
}

export async function hashTree(dir: string, paths = listTree(dir)): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const path of paths) {
    const st = lstatSync(join(dir, path));
    files.push({ path, size: st.size, mode: st.mode & 0o777, sha256: await sha256File(join(dir, path)) });
  }
  return files;
}

/**
 * Packs dir into out (a .tar.gz) with a signed manifest. dir must not already hold the manifest
 * files; they are written there for the packing and removed after.
 */
export async function packTree(dir: string, out: string, fields: ManifestFields, key: SigningKey): Promise<ReleaseManifest> {
  const paths = listTree(dir).filter((p) => p !== MANIFEST_FILE && p !== SIGNATURE_FILE);
  if (paths.length === 0) throw new BundleError(`${dir} is empty: nothing to bundle`);
  const manifest: ReleaseManifest = {
    format: MANIFEST_FORMAT,
    ...fields,
    signer: { keyId: key.keyId, publicKey: rawPublicKey(key.publicKey) },
    files: await hashTree(dir, paths),
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 1) + '\n');
  writeFileSync(join(dir, MANIFEST_FILE), bytes);
  writeFileSync(join(dir, SIGNATURE_FILE), signBytes(key, bytes).toString('base64') + '\n');
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.partial-${process.pid}`;
  try {
    // Manifest first, so readManifest can stop after two entries. No directory entries: the
    // manifest lists files only, and extraction creates parents.
    await tar.c({ cwd: dir, file: tmp, gzip: { level: 6 }, portable: true, noDirRecurse: true }, [MANIFEST_FILE, SIGNATURE_FILE, ...paths]);
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(join(dir, MANIFEST_FILE), { force: true });
    rmSync(join(dir, SIGNATURE_FILE), { force: true });
  }
  return manifest;
}

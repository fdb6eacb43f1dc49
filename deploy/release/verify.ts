/**
 * Checking a bundle: the manifest's ed25519 signature against the keys the caller trusts, then
 * every file against the manifest (sha256, size, mode), in one streaming pass. Each problem names
 * the file and what is wrong, so `kuroko release verify` and the fleet agent can say exactly why a
 * bundle is refused.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { MANIFEST_FILE, SIGNATURE_FILE, isSafeBundlePath, parseManifest, ManifestError, type ReleaseManifest } from './manifest.ts';
import { verifyBytes, type TrustedKey } from './keys.ts';
import { BundleError, listTree, sha256File } from './pack.ts';

export type ProblemKind = 'unreadable' | 'manifest' | 'signature' | 'missing' | 'extra' | 'content' | 'size' | 'mode' | 'entry';

export interface BundleProblem {
  kind: ProblemKind;
  /** The file inside the bundle, when the problem is about one. */
  path?: string;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  /** The parsed manifest when it could be read (even if the signature failed: for messages only). */
  manifest?: ReleaseManifest;
  problems: BundleProblem[];
}

interface SeenEntry { size: number; sha256: string; mode: number }

const short = (hex: string) => hex.slice(0, 12);
const entryPath = (p: string) => p.replace(/^\.\//, '');

/** Streams the tarball once; calls back with each regular file's bytes hashed. */
function scanBundle(file: string, onEntry: (path: string, type: string, got?: SeenEntry, raw?: Buffer) => void,
  keepBytesOf: Set<string>, stopWhen?: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!existsSync(file)) return reject(new BundleError(`${file} does not exist`));
    const input = createReadStream(file);
    let done = false;
    const finish = (err?: Error) => { if (done) return; done = true; input.destroy(); err ? reject(err) : resolve(); };
    const parser = new tar.Parser({
      strict: true,
      onReadEntry: (entry) => {
        const path = entryPath(entry.path);
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          onEntry(path, entry.type);
          entry.resume();
          return;
        }
        const h = createHash('sha256');
        const chunks: Buffer[] = [];
        let size = 0;
        entry.on('data', (d: Buffer) => { h.update(d); size += d.length; if (keepBytesOf.has(path)) chunks.push(d); });
        entry.on('end', () => {
          onEntry(path, entry.type, { size, sha256: h.digest('hex'), mode: (entry.mode ?? 0) & 0o777 }, keepBytesOf.has(path) ? Buffer.concat(chunks) : undefined);
          if (stopWhen?.()) finish();
        });
      },
    });
    parser.on('error', (e: Error) => finish(new BundleError(`${file} is not a readable bundle (${e.message})`)));
    parser.on('end', () => finish());
    input.on('error', (e) => finish(new BundleError(`${file}: ${e.message}`)));
    input.pipe(parser);
  });
}

/** Reads only the manifest and signature (they come first). Throws when either is missing or malformed. */
export async function readManifest(file: string): Promise<{ manifest: ReleaseManifest; manifestBytes: Buffer; signature: Buffer }> {
  let manifestBytes: Buffer | undefined;
  let signature: Buffer | undefined;
  await scanBundle(file, (path, _type, _got, raw) => {
    if (path === MANIFEST_FILE) manifestBytes = raw;
    if (path === SIGNATURE_FILE) signature = raw;
  }, new Set([MANIFEST_FILE, SIGNATURE_FILE]), () => !!manifestBytes && !!signature);
  if (!manifestBytes) throw new BundleError(`${file} has no ${MANIFEST_FILE}: not a Kuroko release bundle`);
  if (!signature) throw new BundleError(`${file} has no ${SIGNATURE_FILE}: the bundle is unsigned`);
  return { manifest: parseManifest(manifestBytes), manifestBytes, signature: Buffer.from(signature.toString('utf8').trim(), 'base64') };
}

/** Checks the signature of manifestBytes against the trusted keys; returns the problems. */
export function checkSignature(manifest: ReleaseManifest, manifestBytes: Buffer, signature: Buffer, trusted: TrustedKey[]): BundleProblem[] {
  if (trusted.length === 0) {
    return [{ kind: 'signature', message: `no trusted public key given: cannot tell who made this bundle (signed by key ${manifest.signer.keyId}; pass --key FILE.pub)` }];
  }
  const key = trusted.find((k) => k.keyId === manifest.signer.keyId);
  if (!key) {
    return [{ kind: 'signature', message: `signed by key ${manifest.signer.keyId}, which is not trusted here (trusted: ${trusted.map((k) => `${k.keyId} from ${k.source}`).join(', ')})` }];
  }
  if (!verifyBytes(key.publicKey, manifestBytes, signature)) {
    return [{ kind: 'signature', path: MANIFEST_FILE, message: `the signature does not match ${MANIFEST_FILE} for key ${key.keyId}: the manifest was changed after signing, or the signature was replaced` }];
  }
  return [];
}

function compareFile(path: string, want: { size: number; sha256: string; mode: number }, got: SeenEntry, checkMode: boolean): BundleProblem[] {
  if (got.size !== want.size) return [{ kind: 'size', path, message: `${path}: ${got.size} bytes, the manifest says ${want.size}` }];
  if (got.sha256 !== want.sha256) return [{ kind: 'content', path, message: `${path}: content differs from the manifest (sha256 ${short(got.sha256)}…, expected ${short(want.sha256)}…)` }];
  if (checkMode && got.mode !== want.mode) return [{ kind: 'mode', path, message: `${path}: mode ${got.mode.toString(8)}, the manifest says ${want.mode.toString(8)}` }];
  return [];
}

/** Verifies a bundle file: signature by a trusted key, then every file. Never throws for a bad bundle. */
export async function verifyBundle(file: string, trusted: TrustedKey[]): Promise<VerifyResult> {
  const problems: BundleProblem[] = [];
  let head: Awaited<ReturnType<typeof readManifest>>;
  try {
    head = await readManifest(file);
  } catch (e) {
    return { ok: false, problems: [{ kind: e instanceof ManifestError ? 'manifest' : 'unreadable', message: (e as Error).message }] };
  }
  const { manifest } = head;
  problems.push(...checkSignature(manifest, head.manifestBytes, head.signature, trusted));
  const want = new Map(manifest.files.map((f) => [f.path, f]));
  const seen = new Set<string>();
  try {
    await scanBundle(file, (path, type, got) => {
      if (path === MANIFEST_FILE || path === SIGNATURE_FILE) return;
      if (type === 'Directory') return;
      if (!isSafeBundlePath(path)) { problems.push({ kind: 'entry', path, message: `${path}: unsafe path in the bundle (absolute, or climbing with "..")` }); return; }
      if (!got) { problems.push({ kind: 'entry', path, message: `${path}: a ${type} entry; bundles hold regular files only` }); return; }
      if (seen.has(path)) { problems.push({ kind: 'entry', path, message: `${path}: appears twice in the bundle` }); return; }
      seen.add(path);
      const w = want.get(path);
      if (!w) { problems.push({ kind: 'extra', path, message: `${path}: in the bundle but not in the manifest (added after signing?)` }); return; }
      problems.push(...compareFile(path, w, got, true));
    }, new Set());
  } catch (e) {
    problems.push({ kind: 'unreadable', message: (e as Error).message });
  }
  for (const f of manifest.files) {
    if (!seen.has(f.path)) problems.push({ kind: 'missing', path: f.path, message: `${f.path}: listed in the manifest but missing from the bundle` });
  }
  return { ok: problems.length === 0, manifest, problems };
}

/** Compares an unpacked folder with a manifest (e.g. an installed release, before switching to it). */
export async function verifyTree(dir: string, manifest: ReleaseManifest): Promise<BundleProblem[]> {
  const problems: BundleProblem[] = [];
  const present = new Set(listTree(dir).filter((p) => p !== MANIFEST_FILE && p !== SIGNATURE_FILE));
  for (const f of manifest.files) {
    if (!present.has(f.path)) { problems.push({ kind: 'missing', path: f.path, message: `${f.path}: listed in the manifest but missing from ${dir}` }); continue; }
    present.delete(f.path);
    const full = join(dir, f.path);
    problems.push(...compareFile(f.path, f, { size: lstatSync(full).size, sha256: await sha256File(full), mode: lstatSync(full).mode & 0o777 }, false));
  }
  for (const p of present) problems.push({ kind: 'extra', path: p, message: `${p}: in ${dir} but not in the manifest` });
  return problems;
}

/**
 * Verifies, then unpacks into dest (which must be missing or empty), then checks the unpacked
 * files once more. Throws a BundleError listing every problem; returns the manifest.
 */
export async function extractBundle(file: string, dest: string, trusted: TrustedKey[]): Promise<ReleaseManifest> {
  const result = await verifyBundle(file, trusted);
  if (!result.ok || !result.manifest) throw new BundleError(`${file} is refused:\n  ${result.problems.map((p) => p.message).join('\n  ')}`);
  if (existsSync(dest) && readdirSync(dest).length > 0) throw new BundleError(`${dest} is not empty; unpack a release into a new folder`);
  mkdirSync(dest, { recursive: true });
  await tar.x({ file, cwd: dest, strict: true, preserveOwner: false });
  const after = await verifyTree(dest, result.manifest);
  if (after.length) throw new BundleError(`${file} changed while it was unpacked into ${dest}:\n  ${after.map((p) => p.message).join('\n  ')}`);
  return result.manifest;
}

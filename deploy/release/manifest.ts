/**
 * The release manifest: what a bundle holds (every file with its size, mode and sha256), what it
 * was built for, and the versions inside. It is stored in the bundle as MANIFEST_FILE, signed as
 * those exact bytes (no canonical-JSON step to get wrong); the signature is SIGNATURE_FILE.
 */
export const MANIFEST_FILE = 'kuroko-release.json';
export const SIGNATURE_FILE = 'kuroko-release.sig';
export const MANIFEST_FORMAT = 'kuroko-release/1';

/** 64-bit Linux only: onnxruntime-node (the node model) has no 32-bit ARM build (microsoft/onnxruntime#19028). */
export const RELEASE_ARCHES = ['linux-x64', 'linux-arm64'] as const;
export type ReleaseArch = (typeof RELEASE_ARCHES)[number];

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  /** Unix permission bits (0o755 for executables). */
  mode: number;
}

export interface NativePart {
  /** The npm package (or "kuroko-gpio" for our own addon). */
  package: string;
  version: string;
  /** The binaries of this part inside the bundle, all built for `arch`. */
  files: string[];
  /** "prebuilt" (shipped by the package), "built" (compiled here for the target). */
  origin: 'prebuilt' | 'built';
}

export interface ReleaseManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  version: string;
  arch: ReleaseArch;
  createdAt: string;
  /** The git commit the bundle was built from, when known. */
  commit?: string;
  /** Node.js the bundle runs on: engines range, and the ABI of the one non-N-API addon (epoll). */
  node: { engines: string; modules: string; napi: string };
  /** The command to run, relative to the bundle root. */
  entry: string;
  components: Record<string, string>;
  firmware?: { version: string; file: string };
  model?: { name: string; dir: string; dtype: string };
  natives: NativePart[];
  /** Optional dependencies left out, with why (they would need a compiler on the node). */
  omitted: { package: string; reason: string }[];
  signer: { keyId: string; publicKey: string };
  files: ManifestFile[];
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const SHA256 = /^[0-9a-f]{64}$/;

/** A bundle path we accept: relative, forward slashes, no "..", no empty or "." parts. */
export function isSafeBundlePath(p: string): boolean {
  if (!p || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Parses and checks a manifest; every problem names the field. */
export function parseManifest(bytes: Buffer | string): ReleaseManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(bytes.toString()) as Record<string, unknown>;
  } catch (e) {
    throw new ManifestError(`${MANIFEST_FILE} is not JSON (${(e as Error).message})`);
  }
  const problems: string[] = [];
  const need = (field: string, ok: boolean, what: string) => { if (!ok) problems.push(`"${field}" must be ${what}`); };
  if (!m || typeof m !== 'object') throw new ManifestError(`${MANIFEST_FILE} must be an object`);
  need('format', m.format === MANIFEST_FORMAT, `"${MANIFEST_FORMAT}" (found ${JSON.stringify(m.format)})`);
  need('version', typeof m.version === 'string' && m.version.length > 0, 'a version string');
  need('arch', RELEASE_ARCHES.includes(m.arch as ReleaseArch), `one of ${RELEASE_ARCHES.join(', ')}`);
  need('entry', typeof m.entry === 'string' && isSafeBundlePath(m.entry), 'a relative path');
  const signer = m.signer as { keyId?: unknown; publicKey?: unknown } | undefined;
  need('signer', !!signer && typeof signer.keyId === 'string' && typeof signer.publicKey === 'string', 'an object with keyId and publicKey');
  if (!Array.isArray(m.files)) problems.push('"files" must be a list');
  else {
    const seen = new Set<string>();
    m.files.forEach((f: Partial<ManifestFile>, i) => {
      if (typeof f?.path !== 'string' || !isSafeBundlePath(f.path)) problems.push(`files[${i}].path must be a safe relative path (found ${JSON.stringify(f?.path)})`);
      else if (seen.has(f.path)) problems.push(`files[${i}].path ${f.path} is listed twice`);
      else seen.add(f.path);
      if (typeof f?.sha256 !== 'string' || !SHA256.test(f.sha256)) problems.push(`files[${i}].sha256 must be 64 hex digits`);
      if (!Number.isInteger(f?.size) || (f.size as number) < 0) problems.push(`files[${i}].size must be a byte count`);
    });
  }
  if (problems.length) throw new ManifestError(`${MANIFEST_FILE} is not a Kuroko release manifest: ${problems.join('; ')}`);
  return m as unknown as ReleaseManifest;
}

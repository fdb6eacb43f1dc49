/**
 * Release signing keys: ed25519 (node:crypto). The private key signs a bundle's manifest on the
 * build machine; nodes keep only the public key and refuse a bundle it did not sign.
 * Files are PEM (PKCS#8 private, SPKI public), so openssl reads them too.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class ReleaseKeyError extends Error {
  override name = 'ReleaseKeyError';
}

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

export interface TrustedKey {
  publicKey: KeyObject;
  keyId: string;
  /** Where it came from (a file path, or "manifest"), for messages. */
  source: string;
}

/** The raw 32-byte ed25519 public key, base64: what a manifest carries to name its signer. */
export function rawPublicKey(publicKey: KeyObject): string {
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('base64');
}

/** A short, stable name for a public key: the first 16 hex digits of sha256(raw key). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(Buffer.from(rawPublicKey(publicKey), 'base64')).digest('hex').slice(0, 16);
}

/** Rebuilds a public key object from the raw base64 form (see rawPublicKey). */
export function publicKeyFromRaw(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) throw new ReleaseKeyError(`an ed25519 public key is 32 bytes, not ${bytes.length}`);
  // SPKI prefix for ed25519 (OID 1.3.101.112) followed by the 32 key bytes.
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), bytes]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** Writes a new key pair as NAME.key (mode 0600) and NAME.pub in dir; refuses to overwrite. */
export function generateKeyFiles(dir: string, name = 'kuroko-release'): { privateFile: string; publicFile: string; keyId: string } {
  const privateFile = join(dir, `${name}.key`);
  const publicFile = join(dir, `${name}.pub`);
  for (const f of [privateFile, publicFile]) {
    if (existsSync(f)) throw new ReleaseKeyError(`${f} already exists; move it away first (a new key would orphan every bundle signed with it)`);
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  mkdirSync(dir, { recursive: true });
  writeFileSync(privateFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ format: 'pem', type: 'spki' }));
  return { privateFile, publicFile, keyId: keyIdOf(publicKey) };
}

function readKeyFile(file: string, what: string): string {
  if (!existsSync(file)) throw new ReleaseKeyError(`${what} ${file} does not exist (make one with: kuroko release keygen --out DIR)`);
  return readFileSync(file, 'utf8');
}

/** Loads a private signing key (PEM); the error names the file and what is wrong with it. */
export function loadSigningKey(file: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readKeyFile(file, 'signing key'));
  } catch (e) {
    if (e instanceof ReleaseKeyError) throw e;
    throw new ReleaseKeyError(`${file} is not a PEM private key (${(e as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new ReleaseKeyError(`${file} is a ${privateKey.asymmetricKeyType} key; release keys are ed25519`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** Loads a trusted public key (PEM SPKI; a private key file is accepted and reduced to its public half). */
export function loadTrustedKey(file: string): TrustedKey {
  const text = readKeyFile(file, 'public key');
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(text);
  } catch (e) {
    throw new ReleaseKeyError(`${file} is not a PEM public key (${(e as Error).message})`);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new ReleaseKeyError(`${file} is a ${publicKey.asymmetricKeyType} key; release keys are ed25519`);
  return { publicKey, keyId: keyIdOf(publicKey), source: file };
}

export function signBytes(key: SigningKey, bytes: Buffer): Buffer {
  return sign(null, bytes, key.privateKey);
}

export function verifyBytes(publicKey: KeyObject, bytes: Buffer, signature: Buffer): boolean {
  try {
    return verify(null, bytes, publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * The adoption request, sealed with the node's pairing code: the fleet never sends the code itself.
 * key = scrypt(code, random salt); AES-256-GCM over the whole request (token, credentials, profile),
 * with the agent's name as associated data. Only an agent that knows the code can read it, and only
 * someone who knows the code can make one the agent accepts (a failed tag is a wrong code, counted
 * by the agent's lock-out). Someone watching the network sees neither the code, nor the node's
 * credentials, nor the fleet's token; guessing the code from a captured request costs one scrypt
 * (N = 2^15, ~0.2–1 s) per guess over 31^8 codes. Shared by the fleet (seal) and the agent (open).
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, o: object) => Promise<Buffer>;
export const SEAL_ALG = 'scrypt-aes-256-gcm' as const;
const KDF = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export interface SealedT { alg: typeof SEAL_ALG; salt: string; iv: string; tag: string; data: string }

/** Upper case, without spaces or dashes: "k7qm 4xpd" and "K7QM-4XPD" are the same code. */
export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

/** What binds a sealed request to one agent: its name. */
export const sealContext = (agentName: string) => `kuroko-adopt-v1:${agentName}`;

export async function sealWithCode(code: string, plaintext: string, context: string): Promise<SealedT> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await scrypt(normalizeCode(code), salt, 32, KDF);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(context));
  const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return { alg: SEAL_ALG, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** The plaintext, or null when the code (or the context) is not the one it was sealed with. */
export async function openWithCode(code: string, s: SealedT, context: string): Promise<string | null> {
  const salt = Buffer.from(s.salt, 'base64');
  const iv = Buffer.from(s.iv, 'base64');
  const tag = Buffer.from(s.tag, 'base64');
  if (salt.length !== 16 || iv.length !== 12 || tag.length !== 16) return null;
  const key = await scrypt(normalizeCode(code), salt, 32, KDF);
  const d = createDecipheriv('aes-256-gcm', key, iv);
  d.setAAD(Buffer.from(context));
  d.setAuthTag(tag);
  try {
    return Buffer.concat([d.update(Buffer.from(s.data, 'base64')), d.final()]).toString('utf8');
  } catch {
    return null;
  }
}

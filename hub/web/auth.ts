/**
 * The control token of the stage manager's page. Whoever holds it may press GO; without it the
 * page is at most a read-only view. It comes from --token or KUROKO_TOKEN, else it is random and
 * printed at start, so a page on the theatre network cannot be driven by anyone who finds it.
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';

export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

/** The configured token (flag first, then environment), else a fresh random one. */
export function resolveToken(flag?: string, env: NodeJS.ProcessEnv = process.env): { token: string; generated: boolean } {
  const given = flag ?? env.KUROKO_TOKEN;
  if (given !== undefined && given !== '') {
    if (given.length < 8) throw new Error('the control token (--token or KUROKO_TOKEN) must be at least 8 characters');
    return { token: given, generated: false };
  }
  return { token: newToken(), generated: true };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokenMatches(expected: string, given: unknown): boolean {
  return typeof given === 'string' && given.length > 0 && timingSafeEqual(digest(expected), digest(given));
}

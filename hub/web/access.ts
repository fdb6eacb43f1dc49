/**
 * Who may use the page: log-in exchanges a secret for a session cookie (HttpOnly, SameSite=Strict,
 * so no token stays in an address bar or in page script), the Origin of every control request and
 * WebSocket must be the page's own, repeated wrong secrets lock the source out with a growing
 * back-off, and each session has a role: a viewer watches, an operator acts.
 *
 * `authenticate(secret) → role | null` is the one place a secret is checked; the default compares
 * against the control token (operator) and the viewer token, and a credentials store can replace it.
 */
import { randomBytes, createHmac, createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { tokenMatches } from './auth.ts';
import type { RoleT } from './page-protocol.ts';

export type Role = RoleT;
export type Authenticate = (secret: string) => Role | null | Promise<Role | null>;

/** The default: the control token is an operator, the viewer token (if any) a viewer. */
export function tokenAuthenticator(o: { operator: string; viewer?: string }): Authenticate {
  return (secret) => {
    if (tokenMatches(o.operator, secret)) return 'operator';
    if (o.viewer && tokenMatches(o.viewer, secret)) return 'viewer';
    return null;
  };
}

export interface Session { id: string; role: Role; expires: number }

const SESSION_MS = 24 * 3600_000;

/**
 * Sessions are signed, not stored: the cookie carries role and expiry with an HMAC under a key the
 * hub derives from its secrets. So a hub restarted mid-show with the same tokens keeps its operators
 * logged in, and changing a token logs everyone out. Log-out revokes the one cookie.
 */
export class Sessions {
  private readonly revoked = new Set<string>();
  constructor(readonly cookieName: string, private readonly key: Buffer, private readonly secure = false) {}

  create(role: Role): Session {
    const expires = Date.now() + SESSION_MS;
    const body = `${role}.${expires}.${randomBytes(12).toString('base64url')}`;
    return { id: `${body}.${this.mac(body)}`, role, expires };
  }

  of(req: IncomingMessage): Session | null {
    const id = cookie(req, this.cookieName);
    if (!id || this.revoked.has(id)) return null;
    const i = id.lastIndexOf('.');
    const body = id.slice(0, i);
    const mac = Buffer.from(id.slice(i + 1), 'base64url');
    const want = Buffer.from(this.mac(body), 'base64url');
    if (i < 0 || mac.length !== want.length || !timingSafeEqual(mac, want)) return null;
    const [role, expires] = body.split('.');
    if (role !== 'operator' && role !== 'viewer') return null;
    if (!(Number(expires) > Date.now())) return null;
    return { id, role, expires: Number(expires) };
  }

  end(req: IncomingMessage): void {
    const id = cookie(req, this.cookieName);
    if (id && this.revoked.size < 10000) this.revoked.add(id);
  }

  setCookie(s: Session): string {
    return `${this.cookieName}=${s.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}${this.secure ? '; Secure' : ''}`;
  }

  clearCookie(): string {
    return `${this.cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${this.secure ? '; Secure' : ''}`;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** The default session key: from the hub's secrets, so it survives a restart and dies with a token change. */
export function sessionKeyFrom(...secrets: Array<string | undefined>): Buffer {
  return createHash('sha256').update(`kuroko-page-session\0${secrets.map((s) => s ?? '').join('\0')}`).digest();
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/**
 * Lock-out with back-off: after `free` wrong secrets from one source, each further attempt must
 * wait baseMs, doubling per failure up to maxMs. A right secret clears the count. One shared
 * budget across all sources (`global`) slows a guesser who spreads over many addresses.
 */
export class LockOut {
  private readonly failures = new Map<string, { count: number; until: number }>();
  constructor(private readonly o = { free: 5, baseMs: 1000, maxMs: 5 * 60_000, globalFree: 50 }) {}

  /** ms to wait before this source may try again (0: now). */
  waitMs(source: string): number {
    const now = Date.now();
    return Math.max(0, (this.failures.get(source)?.until ?? 0) - now, (this.failures.get('*')?.until ?? 0) - now);
  }

  fail(source: string): void {
    this.bump(source, this.o.free);
    this.bump('*', this.o.globalFree);
  }

  succeed(source: string): void {
    this.failures.delete(source);
  }

  private bump(key: string, free: number): void {
    if (this.failures.size > 10000) this.failures.clear();
    const f = this.failures.get(key) ?? { count: 0, until: 0 };
    f.count++;
    if (f.count >= free) f.until = Date.now() + Math.min(this.o.maxMs, this.o.baseMs * 2 ** (f.count - free));
    this.failures.set(key, f);
  }
}

/**
 * A browser always sends Origin with a WebSocket and a POST; it must be this page's own origin
 * (scheme, host and port as the browser reached us). A request without Origin is refused too:
 * controls come from the page only.
 */
export function sameOrigin(req: IncomingMessage, extraOrigins: string[] = []): boolean {
  const origin = req.headers.origin;
  if (!origin) return false;
  if (extraOrigins.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  try {
    const u = new URL(origin);
    return u.host === host && (u.protocol === 'http:' || u.protocol === 'https:');
  } catch {
    return false;
  }
}

/** The peer's address, "::ffff:" stripped. */
export function sourceOf(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

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
/** Who logged in: an identity of the show's credentials store, or "token" / "viewer-token". */
export interface PageUser { id: string; role: Role }
/** A bare role means the control token's kind of log-in (id "token" or "viewer-token"). */
export type Authenticate = (secret: string) => Role | PageUser | null | Promise<Role | PageUser | null>;

/** The default: the control token is an operator, the viewer token (if any) a viewer. */
export function tokenAuthenticator(o: { operator: string; viewer?: string }): Authenticate {
  return (secret) => {
    if (tokenMatches(o.operator, secret)) return { id: 'token', role: 'operator' };
    if (o.viewer && tokenMatches(o.viewer, secret)) return { id: 'viewer-token', role: 'viewer' };
    return null;
  };
}

export function pageUserOf(r: Role | PageUser): PageUser {
  return typeof r === 'string' ? { id: r === 'operator' ? 'token' : 'viewer-token', role: r } : r;
}

/**
 * What a session is still bound to, per user id: a string that goes into the cookie's MAC (so a
 * change of it, e.g. a rotated password, ends the sessions issued before), or null when that user
 * may no longer log in at all (a revoked identity). Default: every id stays valid.
 */
export type SessionBinding = (id: string) => string | null;

export interface Session { id: string; user: PageUser; expires: number }

const SESSION_MS = 24 * 3600_000;

/**
 * Sessions are signed, not stored: the cookie carries role and expiry with an HMAC under a key the
 * hub derives from its secrets. So a hub restarted mid-show with the same tokens keeps its operators
 * logged in, and changing a token logs everyone out. Log-out revokes the one cookie.
 */
export class Sessions {
  private readonly revoked = new Set<string>();
  constructor(readonly cookieName: string, private readonly key: Buffer, private readonly secure = false, private readonly binding: SessionBinding = () => '') {}

  create(user: PageUser): Session {
    const expires = Date.now() + SESSION_MS;
    const body = `${user.role}.${user.id}.${expires}.${randomBytes(12).toString('base64url')}`;
    return { id: `${body}.${this.mac(body, this.binding(user.id) ?? '')}`, user, expires };
  }

  of(req: IncomingMessage): Session | null {
    const id = cookie(req, this.cookieName);
    if (!id || this.revoked.has(id)) return null;
    const i = id.lastIndexOf('.');
    const body = id.slice(0, i);
    const [role, user, expires] = body.split('.');
    if (i < 0 || !user || (role !== 'operator' && role !== 'viewer')) return null;
    // A revoked identity's sessions end; a rotated one's change their MAC and so end too.
    const bound = this.binding(user);
    if (bound === null) return null;
    const mac = Buffer.from(id.slice(i + 1), 'base64url');
    const want = Buffer.from(this.mac(body, bound), 'base64url');
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return null;
    if (!(Number(expires) > Date.now())) return null;
    return { id, user: { id: user, role }, expires: Number(expires) };
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

  private mac(body: string, bound: string): string {
    return createHmac('sha256', this.key).update(`${body}\0${bound}`).digest('base64url');
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

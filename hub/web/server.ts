/**
 * The stage manager's web server, in the hub process: the page (static files and its script,
 * built from TypeScript), log-in (/login exchanges a secret for a session cookie), the live
 * WebSocket (/ws), the transcript as subtitles (/transcript.srt) and Prometheus metrics (/metrics).
 * node:http and ws only; no framework. Access rules live in access.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Hub } from '../hub.ts';
import { transcriptToSrt } from '../srt.ts';
import { createHubMetrics, type HubMetrics } from '../metrics.ts';
import { LiveStage } from './live.ts';
import { serveStatic, FAVICON_SVG } from './static.ts';
import { iconFile, MANIFEST } from './icons.ts';
import { tokenMatches } from './auth.ts';
import { Sessions, LockOut, sameOrigin, sourceOf, isLoopback, pageUserOf, type Authenticate, type PageUser, type SessionBinding } from './access.ts';
import { pageAccess } from './store-access.ts';
import type { AccessStore } from '../access/store.ts';
import { pageBundle } from './page-bundle.ts';

export const DEFAULT_HTTP_PORT = 8080;

export interface WebServerOptions {
  /** 0 takes any free port. */
  port?: number;
  /** Address the page listens on (--bind; default 0.0.0.0, so a tablet on the theatre network reaches it). */
  host?: string;
  /** The control token: logs in as operator (with the default authenticate). */
  token: string;
  /** A token that logs in as viewer (watch only). */
  viewerToken?: string;
  /** The show's credentials store: its operator and viewer identities log in with their passwords. */
  store?: AccessStore;
  /** Checks a log-in secret; default: token → operator, viewerToken → viewer, then the store's passwords. */
  authenticate?: Authenticate;
  /** Let pages that have not logged in watch (never control). */
  readOnlyView?: boolean;
  /** When the port is taken, take any free one instead of failing (for the default port). */
  portFallback?: boolean;
  /** /metrics needs "Authorization: Bearer <this>"; without it /metrics answers this machine only. */
  metricsToken?: string;
  /** Origins besides the page's own that may open the WebSocket and log in (e.g. behind a proxy). */
  allowedOrigins?: string[];
  /** Lock-out tuning (tests). */
  lockOut?: LockOut;
  /** Signs session cookies; default: derived from the store's show key, else from the tokens. */
  sessionKey?: Buffer;
  /** What each user's sessions stay bound to (store-access.ts); default: the tokens and the store. */
  sessionBinding?: SessionBinding;
}

export interface WebServer {
  readonly port: number;
  /** http://localhost:PORT */
  readonly url: string;
  /** The page's address with the control token: opening it logs in (the token leaves the address at once). */
  readonly pageUrl: string;
  /** The same on this machine's network addresses, for a tablet. */
  readonly lanUrls: string[];
  readonly fellBack: boolean;
  readonly live: LiveStage;
  readonly metrics: HubMetrics;
  /** /metrics needs its token (else it answers loopback only). */
  readonly metricsProtected: boolean;
  /** Closes the live pages whose session no longer holds (after the store was reread: revoke, rotate). */
  revalidate(): number;
  close(): Promise<void>;
}

const MAX_LOGIN_BODY = 4096;

export async function startWebServer(hub: Hub, o: WebServerOptions): Promise<WebServer> {
  const readOnlyView = o.readOnlyView ?? false;
  const access = pageAccess({ token: o.token, ...(o.viewerToken ? { viewerToken: o.viewerToken } : {}), ...(o.store ? { store: o.store } : {}) });
  const authenticate = o.authenticate ?? access.authenticate;
  const sessionBinding = o.sessionBinding ?? access.sessionBinding;
  const lockOut = o.lockOut ?? new LockOut();
  // Build (or load) the page's script before listening, so the first page load is not the one that waits.
  const script = await pageBundle();
  const metrics = createHubMetrics(hub);
  const live = new LiveStage(hub);
  const sessionKey = o.sessionKey ?? access.sessionKey;
  let sessions: Sessions = new Sessions('kuroko_session', sessionKey, false, sessionBinding);
  // Watchers let in by --read-only-view without logging in have no identity of their own.
  const userOf = (req: IncomingMessage): PageUser | null => sessions.of(req)?.user ?? (readOnlyView ? { id: 'read-only-view', role: 'viewer' } : null);

  /** One log-in attempt, lock-out first: who, or why not. Tries that reach the secret check are journaled. */
  const logIn = async (req: IncomingMessage, secret: unknown): Promise<{ user: PageUser } | { status: number; error: string; retryAfterMs?: number }> => {
    const source = sourceOf(req);
    const wait = lockOut.waitMs(source);
    // Not journaled: the lock-out already bounds the failures that are, and this one checked nothing.
    if (wait > 0) return { status: 429, error: `too many wrong tokens: try again in ${Math.ceil(wait / 1000)} s`, retryAfterMs: wait };
    const found = typeof secret === 'string' && secret.length > 0 && secret.length <= 512 ? await authenticate(secret) : null;
    if (!found) {
      lockOut.fail(source);
      hub.emit('page-login', { ok: false, source });
      hub.audit({ action: 'page login', by: { id: 'unknown', role: 'none' }, ok: false, detail: `from ${source}` });
      return { status: 401, error: 'that token is not right' };
    }
    const user = pageUserOf(found);
    lockOut.succeed(source);
    hub.emit('page-login', { ok: true, source, role: user.role });
    hub.audit({ action: 'page login', by: user, ok: true, detail: `from ${source}` });
    return { user };
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${e.message}\n`);
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const { pathname } = url;
    if (req.method === 'POST' && (pathname === '/login' || pathname === '/logout')) {
      // A control request: only from the page itself.
      if (!sameOrigin(req, o.allowedOrigins)) return json(res, 403, { error: 'cross-origin request refused: log in from the page itself' });
      if (pathname === '/logout') {
        sessions.end(req);
        res.setHeader('set-cookie', sessions.clearCookie());
        return json(res, 200, { ok: true });
      }
      const body = await readBody(req, MAX_LOGIN_BODY).catch(() => null);
      let secret: unknown;
      try { secret = (JSON.parse(body ?? '') as { token?: unknown }).token; } catch { secret = undefined; }
      const r = await logIn(req, secret);
      if ('status' in r) {
        if (r.retryAfterMs) res.setHeader('retry-after', String(Math.ceil(r.retryAfterMs / 1000)));
        return json(res, r.status, { error: r.error, ...(r.retryAfterMs ? { retryAfterMs: r.retryAfterMs } : {}) });
      }
      res.setHeader('set-cookie', sessions.setCookie(sessions.create(r.user)));
      return json(res, 200, { role: r.user.role, id: r.user.id });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET here; controls go over the WebSocket\n');
    if (pathname === '/metrics') {
      const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7).trim() : undefined;
      const allowed = o.metricsToken ? tokenMatches(o.metricsToken, bearer) : isLoopback(sourceOf(req));
      if (!allowed) return text(res, o.metricsToken ? 401 : 403, o.metricsToken ? 'metrics need "Authorization: Bearer <metrics token>"\n' : 'metrics answer this machine only; start the hub with --metrics-token T to scrape from elsewhere\n');
      res.writeHead(200, { 'content-type': metrics.contentType });
      return void res.end(await metrics.metrics());
    }
    if (pathname === '/transcript.srt') {
      if (!userOf(req)) return text(res, 401, 'the transcript needs a log-in: open the page and log in first\n');
      const names = Object.fromEntries(hub.o.show.cast.map((c) => [c.id, c.name]));
      res.writeHead(200, { 'content-type': 'application/x-subrip; charset=utf-8', 'content-disposition': `attachment; filename="${hub.o.show.show}.srt"` });
      return void res.end(transcriptToSrt(hub.transcript, names));
    }
    if (pathname === '/healthz') return text(res, 200, 'ok\n');
    if (pathname === '/favicon.svg') {
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=86400' });
      return void res.end(FAVICON_SVG);
    }
    // favicon.ico (16/32/48), PNGs for phones and the manifest: made from the same mark (icons.ts).
    const icon = iconFile(pathname);
    if (icon) {
      res.writeHead(200, { 'content-type': icon.type, 'cache-control': 'max-age=86400', 'x-content-type-options': 'nosniff' });
      return void res.end(icon.body);
    }
    if (pathname === '/manifest.webmanifest') {
      res.writeHead(200, { 'content-type': 'application/manifest+json', 'cache-control': 'max-age=86400' });
      return void res.end(MANIFEST);
    }
    if (pathname === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      return void res.end(script);
    }
    // The address the hub prints carries the token: exchange it for the cookie and drop it from the address.
    if (pathname === '/' && url.searchParams.has('token')) {
      const r = await logIn(req, url.searchParams.get('token'));
      if ('status' in r) {
        res.writeHead(303, { location: `/?login=${r.status === 429 ? 'locked' : 'wrong'}`, 'cache-control': 'no-store' });
        return void res.end();
      }
      res.writeHead(303, { location: '/', 'set-cookie': sessions.setCookie(sessions.create(r.user)), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      return void res.end();
    }
    // The page itself holds no show data (that comes over the WebSocket, after log-in).
    if (await serveStatic(pathname, res)) return;
    text(res, 404, 'not found\n');
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') return void socket.destroy();
    // Cross-site WebSocket hijacking: a page elsewhere would ride on this browser's cookie.
    if (!sameOrigin(req, o.allowedOrigins)) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\ncross-origin WebSocket refused\n');
      return;
    }
    const user = userOf(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!user) return live.refuse(ws, 'Log in with the control token (the hub printed it at start), your operator or viewer password, or a viewer token to watch.');
      live.attach(ws, user);
      attached.set(ws, req);
      ws.on('close', () => attached.delete(ws));
    });
  });
  /** Live pages and the upgrade request that let each in (its cookie), so revalidate() can check them again. */
  const attached = new Map<WebSocket, IncomingMessage>();
  const sockets = new Set<Socket>();
  let closing: Promise<void> | undefined;
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  const host = o.host ?? '0.0.0.0';
  let fellBack = false;
  try {
    await listen(server, o.port ?? DEFAULT_HTTP_PORT, host);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !o.portFallback) {
      live.close();
      metrics.close();
      throw (e as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? new Error(`web page: port ${o.port} is already in use; pass --http-port N (0 takes any free port)`)
        : e;
    }
    fellBack = true;
    await listen(server, 0, host);
  }
  const port = (server.address() as { port: number }).port;
  // Cookies are not told apart by port: name the session after it, so two hubs on one machine do not clash.
  sessions = new Sessions(`kuroko_session_${port}`, sessionKey, false, sessionBinding);
  const q = `/?token=${encodeURIComponent(o.token)}`;
  const lanUrls = host === '0.0.0.0' ? lanAddresses().map((a) => `http://${a}:${port}${q}`) : [];
  return {
    port,
    url: `http://localhost:${port}`,
    pageUrl: `http://localhost:${port}${q}`,
    lanUrls,
    fellBack,
    live,
    metrics,
    metricsProtected: !!o.metricsToken,
    revalidate() {
      let ended = 0;
      for (const [ws, req] of attached) {
        if (userOf(req)) continue;
        live.refuse(ws, 'Your session has ended (your access was revoked or its password changed): log in again.');
        attached.delete(ws);
        ended++;
      }
      return ended;
    },
    close() {
      // Once, whoever asks first (the CLI at shutdown, or the hub stopping its extensions).
      closing ??= (async () => {
        live.close();
        metrics.close();
        wss.close();
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closing;
    },
  };
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => { server.off('listening', onListening); reject(e); };
    const onListening = () => { server.off('error', onError); resolve(); };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function json(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) { reject(new Error('too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function lanAddresses(): string[] {
  return Object.values(networkInterfaces()).flat()
    .filter((a): a is NonNullable<typeof a> => !!a && a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
}

/**
 * The stage manager's web server, in the hub process: the page (static files), its live WebSocket
 * (/ws), the transcript as subtitles (/transcript.srt) and Prometheus metrics (/metrics).
 * node:http and ws only; no framework.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { Hub } from '../hub.ts';
import { transcriptToSrt } from '../srt.ts';
import { createHubMetrics, type HubMetrics } from '../metrics.ts';
import { LiveStage } from './live.ts';
import { serveStatic } from './static.ts';
import { tokenMatches, requestToken } from './auth.ts';

export const DEFAULT_HTTP_PORT = 8080;

export interface WebServerOptions {
  /** 0 takes any free port. */
  port?: number;
  host?: string;
  token: string;
  /** Let pages without the token watch (never control). */
  readOnlyView?: boolean;
  /** When the port is taken, take any free one instead of failing (for the default port). */
  portFallback?: boolean;
}

export interface WebServer {
  readonly port: number;
  /** http://localhost:PORT */
  readonly url: string;
  /** The page's address with the control token. */
  readonly pageUrl: string;
  /** The same on this machine's network addresses, for a tablet. */
  readonly lanUrls: string[];
  readonly fellBack: boolean;
  readonly live: LiveStage;
  readonly metrics: HubMetrics;
  close(): Promise<void>;
}

export async function startWebServer(hub: Hub, o: WebServerOptions): Promise<WebServer> {
  const readOnlyView = o.readOnlyView ?? false;
  const metrics = createHubMetrics(hub);
  const live = new LiveStage(hub, { token: o.token, readOnlyView });
  const canView = (req: IncomingMessage) => readOnlyView || tokenMatches(o.token, requestToken(req));

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${e.message}\n`);
    });
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { pathname } = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET here; controls go over the WebSocket\n');
    if (pathname === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.contentType });
      return void res.end(await metrics.metrics());
    }
    if (pathname === '/transcript.srt') {
      if (!canView(req)) return text(res, 401, 'the transcript needs the control token: /transcript.srt?token=...\n');
      const names = Object.fromEntries(hub.o.show.cast.map((c) => [c.id, c.name]));
      res.writeHead(200, { 'content-type': 'application/x-subrip; charset=utf-8', 'content-disposition': `attachment; filename="${hub.o.show.show}.srt"` });
      return void res.end(transcriptToSrt(hub.transcript, names));
    }
    if (pathname === '/healthz') return text(res, 200, 'ok\n');
    // The page itself holds no show data (that comes over the WebSocket, which checks the token).
    if (await serveStatic(pathname, res)) return;
    text(res, 404, 'not found\n');
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => live.attach(ws, req));
  });
  const sockets = new Set<Socket>();
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
    async close() {
      live.close();
      metrics.close();
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
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

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(body);
}

function lanAddresses(): string[] {
  return Object.values(networkInterfaces()).flat()
    .filter((a): a is NonNullable<typeof a> => !!a && a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
}

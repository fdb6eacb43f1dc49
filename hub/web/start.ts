/**
 * The web page's command-line flags, shared by `kuroko hub` and `kuroko demo`, and the lines that
 * tell the operator where the page is.
 */
import { UsageError } from '../../bin/errors.ts';
import type { Hub } from '../hub.ts';
import type { AccessStore } from '../access/store.ts';
import { isIP } from 'node:net';
import { resolveToken } from './auth.ts';
import { startWebServer, DEFAULT_HTTP_PORT, type WebServer, type WebServerOptions } from './server.ts';

export const WEB_OPTIONS = {
  'http-port': { type: 'string' },
  token: { type: 'string' },
  'read-only-view': { type: 'boolean', default: false },
  'viewer-token': { type: 'string' },
  'metrics-token': { type: 'string' },
  bind: { type: 'string' },
} as const;

export const WEB_HELP = `  --http-port N      port of the stage manager's web page and /metrics (default ${DEFAULT_HTTP_PORT};
                     0 takes any free port)
  --token TOKEN      control token of the page: logs in as operator (default: $KUROKO_TOKEN, else a
                     random one, printed)
  --viewer-token T   a token that logs in as viewer: watches, never acts ($KUROKO_VIEWER_TOKEN)
  --read-only-view   let pages that have not logged in watch the show (never control it)
  --bind ADDR        address the page listens on (default 0.0.0.0; 127.0.0.1 for this machine only)
  --metrics-token T  /metrics needs "Authorization: Bearer T" ($KUROKO_METRICS_TOKEN); without it
                     /metrics answers this machine only`;

export interface WebFlags { 'http-port'?: string; token?: string; 'read-only-view'?: boolean; 'viewer-token'?: string; 'metrics-token'?: string; bind?: string }

/** Checks the flags before anything starts, so a bad one costs nothing. */
export function parseWebFlags(flags: WebFlags): WebServerOptions {
  let port = DEFAULT_HTTP_PORT;
  if (flags['http-port'] !== undefined) {
    port = Number(flags['http-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--http-port ${flags['http-port']} is not a port number (0-65535)`);
  }
  let token: string;
  try {
    token = resolveToken(flags.token).token;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const viewerToken = flags['viewer-token'] ?? process.env.KUROKO_VIEWER_TOKEN;
  const metricsToken = flags['metrics-token'] ?? process.env.KUROKO_METRICS_TOKEN;
  for (const [flag, v] of [['--viewer-token', viewerToken], ['--metrics-token', metricsToken]] as const) {
    if (v !== undefined && v.length < 8) throw new UsageError(`${flag} must be at least 8 characters`);
  }
  if (viewerToken !== undefined && viewerToken === token) throw new UsageError('--viewer-token must differ from the control token');
  if (flags.bind !== undefined && !isIP(flags.bind)) throw new UsageError(`--bind ${flags.bind} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)`);
  return {
    port,
    token,
    ...(viewerToken ? { viewerToken } : {}),
    ...(metricsToken ? { metricsToken } : {}),
    ...(flags.bind ? { host: flags.bind } : {}),
    readOnlyView: !!flags['read-only-view'],
    // Only the default port may move: a port the operator chose fails loudly instead.
    portFallback: flags['http-port'] === undefined,
  };
}

/**
 * Starts the page (with its live feed and /metrics) for a started hub, attached as an extension so
 * it stops with the hub; if it cannot start, stops the hub and throws.
 */
export async function startWebOrStopHub(hub: Hub, o: WebServerOptions): Promise<WebServer> {
  let web: WebServer;
  try {
    web = await startWebServer(hub, o);
  } catch (e) {
    await hub.stop();
    throw e;
  }
  hub.use({ name: `page:${web.port}`, stop: () => web.close() });
  return web;
}

/** What to print: the page with its token, and where the metrics are. */
export function describeWeb(web: WebServer, opts: { lan?: boolean; store?: AccessStore } = {}): string[] {
  // Opening the address logs in (the token is exchanged for a cookie and leaves the address bar).
  const lines = [`  stage   ${web.pageUrl}${web.fellBack ? `   (port ${DEFAULT_HTTP_PORT} was busy)` : ''}`];
  if (opts.lan) for (const u of web.lanUrls) lines.push(`          ${u}`);
  if (opts.store) lines.push(`          or log in at ${web.url} with an operator's or viewer's password (${opts.store.dir}/clients/operator.json, viewer.json)`);
  lines.push(`  metrics ${web.url}/metrics${web.metricsProtected ? '   (Authorization: Bearer <metrics token>)' : '   (this machine only)'}`);
  return lines;
}

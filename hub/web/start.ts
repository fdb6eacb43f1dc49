/**
 * The web page's command-line flags, shared by `kuroko hub` and `kuroko demo`, and the lines that
 * tell the operator where the page is.
 */
import { UsageError } from '../../bin/errors.ts';
import type { Hub } from '../hub.ts';
import { resolveToken } from './auth.ts';
import { startWebServer, DEFAULT_HTTP_PORT, type WebServer, type WebServerOptions } from './server.ts';

export const WEB_OPTIONS = {
  'http-port': { type: 'string' },
  token: { type: 'string' },
  'read-only-view': { type: 'boolean', default: false },
} as const;

export const WEB_HELP = `  --http-port N      port of the stage manager's web page and /metrics (default ${DEFAULT_HTTP_PORT};
                     0 takes any free port)
  --token TOKEN      control token of the page (default: $KUROKO_TOKEN, else a random one, printed)
  --read-only-view   let pages without the token watch the show (never control it)`;

export interface WebFlags { 'http-port'?: string; token?: string; 'read-only-view'?: boolean }

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
  return {
    port,
    token,
    readOnlyView: !!flags['read-only-view'],
    // Only the default port may move: a port the operator chose fails loudly instead.
    portFallback: flags['http-port'] === undefined,
  };
}

/** Starts the page for a started hub; if it cannot, stops the hub and throws. */
export async function startWebOrStopHub(hub: Hub, o: WebServerOptions): Promise<WebServer> {
  try {
    return await startWebServer(hub, o);
  } catch (e) {
    await hub.stop();
    throw e;
  }
}

/** What to print: the page with its token, and where the metrics are. */
export function describeWeb(web: WebServer, opts: { lan?: boolean } = {}): string[] {
  const lines = [`  stage   ${web.pageUrl}${web.fellBack ? `   (port ${DEFAULT_HTTP_PORT} was busy)` : ''}`];
  if (opts.lan) for (const u of web.lanUrls) lines.push(`          ${u}`);
  lines.push(`  metrics ${web.url}/metrics`);
  return lines;
}

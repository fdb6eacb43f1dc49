/**
 * Serves the page's static files from hub/web/public (HTML, CSS); the script is built from
 * TypeScript (page-bundle.ts) and served by server.ts.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerResponse } from 'node:http';

/** Kuroko's mark: a black-clad stagehand's hood (kuroko) on the stage's amber, for the browser tab. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#ffd23f"/><path d="M14 56c0-18 8-34 18-34s18 16 18 34z" fill="#000"/><circle cx="32" cy="18" r="11" fill="#000"/><rect x="24" y="15" width="16" height="4" rx="2" fill="#ffd23f"/></svg>\n`;

export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Answers a GET for a file under PUBLIC_DIR; false when there is no such file. */
export async function serveStatic(pathname: string, res: ServerResponse, dir = PUBLIC_DIR): Promise<boolean> {
  const rel = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
  const file = normalize(join(dir, rel));
  // No way out of the public folder (../, encoded or not).
  if (!file.startsWith(normalize(dir.endsWith(sep) ? dir : dir + sep))) return false;
  const type = TYPES[extname(file)];
  if (!type) return false;
  try {
    const body = await readFile(file);
    // no-cache: an operator reloading mid-show gets the files this hub serves, not stale ones.
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(body);
    return true;
  } catch {
    return false;
  }
}

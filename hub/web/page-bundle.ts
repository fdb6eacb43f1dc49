/**
 * The page's script, built from TypeScript (hub/web/page/*.ts and the page protocol) with esbuild.
 * `npm run build:page` writes hub/web/page/dist/app.js ahead of time; without it (a fresh clone,
 * `npm ci && npm start`) the hub builds the same bundle in memory at start, in well under a second.
 * A prebuilt file older than any page source is ignored, so a stale bundle is never served.
 * `npm run build` (bin/build.js) writes the same file into dist/ (dist/hub/web/page/dist/app.js);
 * dist/ holds no page sources, so there the prebuilt file is always used and esbuild (a build-time
 * devDependency, left out of release bundles) is never loaded.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
export const ENTRY = join(PAGE_DIR, 'app.ts');
export const PREBUILT = join(PAGE_DIR, 'dist', 'app.js');
const SOURCES = [fileURLToPath(new URL('./page-protocol.ts', import.meta.url))];

/** The newest page source's mtime; -Infinity in dist/, which ships the bundle and no sources. */
function newestSource(): number {
  const here = existsSync(PAGE_DIR) ? readdirSync(PAGE_DIR).filter((f) => f.endsWith('.ts')).map((f) => join(PAGE_DIR, f)) : [];
  const files = [...here, ...SOURCES].filter((f) => existsSync(f));
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

export async function buildPage(): Promise<string> {
  if (!existsSync(ENTRY)) throw new Error(`no prebuilt ${PREBUILT} and no page sources to build it from: rebuild with \`npm run build\``);
  const { build } = await import('esbuild');
  const r = await build({
    entryPoints: [ENTRY], bundle: true, write: false, format: 'esm', target: 'es2022', platform: 'browser',
    minify: false, sourcemap: false, legalComments: 'none', logLevel: 'silent',
  });
  return r.outputFiles[0]!.text;
}

let cached: Promise<string> | null = null;

/** The page script: the prebuilt file when it is fresh, else built once per process. */
export function pageBundle(): Promise<string> {
  if (existsSync(PREBUILT) && statSync(PREBUILT).mtimeMs >= newestSource()) return Promise.resolve(readFileSync(PREBUILT, 'utf8'));
  cached ??= buildPage().catch((e: unknown) => { cached = null; throw new Error(`the page's script could not be built: ${(e as Error).message}`); });
  return cached;
}

/** `npm run build:page`. */
export async function writePageBundle(out = PREBUILT): Promise<string> {
  const js = await buildPage();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, js);
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  const out = await writePageBundle(process.argv[2]);
  console.log(`page script: ${out} (${(statSync(out).size / 1024).toFixed(1)} KiB, ${Math.round(performance.now() - t0)} ms)`);
}

#!/usr/bin/env node
// `npm run build`: compiles the TypeScript sources to dist/ (JS + source maps, same folder layout
// as the sources) and copies beside them the files the code reads at run time (web page, shows,
// profiles, firmware VERSION and .hex, the node model). bin/kuroko.js then runs dist/ instead of
// the sources through tsx. Plain JS on purpose: building must not need tsx.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Run-time files next to the code that reads them (paths relative to the repository root). */
export const ASSETS = [
  'hub/web/public',
  'hub/shows',
  'hub/show.schema.json',
  'firmware-config/profiles',
  'firmware-config/profile.schema.json',
  'firmware-config/firmware/VERSION',
  'models/kuroko-tiny',
];
/** Where hub/web/page-bundle.ts looks for the prebuilt page script (relative to dist/). */
export const PAGE_BUNDLE = 'hub/web/page/dist/app.js';
const PAGE_BUNDLER = 'hub/web/page-bundle.ts';
const VALIDATOR_BUILDER = 'bin/build-validators.ts';
const FIRMWARE_HEX = 'firmware-config/firmware/build/kuroko-atmega328p.hex';
const SOURCE_DIRS = ['bin', 'protocol', 'hub', 'edge', 'models/runtime', 'firmware-config', 'deploy'];

function tscPath() {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
}

function listSources(dir, out = []) {
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'build') listSources(rel, out); }
    else if (e.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

function firmwareHex() {
  // The firmware is part of what ships: build it when avr-gcc is here, else keep a prebuilt one.
  const r = spawnSync('sh', [join(ROOT, 'firmware-config/firmware/build.sh')], { encoding: 'utf8' });
  if (r.status === 0) return true;
  if (existsSync(join(ROOT, FIRMWARE_HEX))) {
    console.warn(`build: could not rebuild the firmware (${(r.stderr || '').trim()}); using the existing ${FIRMWARE_HEX}`);
    return true;
  }
  console.warn(`build: no firmware .hex (${(r.stderr || '').trim()}); dist/ works, but \`kuroko release\` needs it`);
  return false;
}

/** Builds into outDir (default dist/; tests build elsewhere so running processes keep theirs). */
export function build({ quiet = false, outDir = join(ROOT, 'dist') } = {}) {
  const DIST = resolve(outDir);
  const TMP = `${DIST}.building`;
  const t0 = performance.now();
  rmSync(TMP, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [tscPath(), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', TMP], { stdio: 'inherit' });
  if (tsc.status !== 0) { rmSync(TMP, { recursive: true, force: true }); throw new Error('build: tsc failed (errors above)'); }
  for (const a of ASSETS) cpSync(join(ROOT, a), join(TMP, a), { recursive: true });
  // Ajv's standalone code for the contract's and the documents' schemas: compiled processes load
  // these instead of compiling schemas at start (protocol/validators.ts, bin/build-validators.ts).
  const validators = spawnSync(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, VALIDATOR_BUILDER), TMP], { encoding: 'utf8' });
  if (validators.status !== 0) { rmSync(TMP, { recursive: true, force: true }); throw new Error(`build: the precompiled validators did not build:\n${validators.stdout}${validators.stderr}`); }
  // mqtt, TypeBox, yaml and pino bundled into dist/vendor/ and imported from there (bin/build-vendor.js).
  const vendor = spawnSync(process.execPath, [join(ROOT, 'bin/build-vendor.js'), TMP], { encoding: 'utf8' });
  if (vendor.status !== 0) { rmSync(TMP, { recursive: true, force: true }); throw new Error(`build: vendoring failed:\n${vendor.stdout}${vendor.stderr}`); }
  // The operator page's script, bundled now (esbuild is a devDependency): dist/ and release bundles
  // serve this file and never need esbuild at run time (hub/web/page-bundle.ts).
  const page = spawnSync(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, PAGE_BUNDLER), join(TMP, PAGE_BUNDLE)], { encoding: 'utf8' });
  if (page.status !== 0) { rmSync(TMP, { recursive: true, force: true }); throw new Error(`build: the page's script did not build:\n${page.stdout}${page.stderr}`); }
  if (firmwareHex()) { mkdirSync(dirname(join(TMP, FIRMWARE_HEX)), { recursive: true }); cpSync(join(ROOT, FIRMWARE_HEX), join(TMP, FIRMWARE_HEX)); }
  // The launcher the compiled demo spawns (hub/demo.js resolves ../bin/kuroko.js inside dist/).
  writeFileSync(join(TMP, 'bin/kuroko.js'),
    "#!/usr/bin/env node\nimport { main } from './cli.js';\nawait main(process.argv.slice(2));\n", { mode: 0o755 });
  const sources = SOURCE_DIRS.flatMap((d) => listSources(d));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  // build-info.json lets bin/kuroko.js tell a stale dist/ from a fresh one (sources edited since).
  writeFileSync(join(TMP, 'build-info.json'), JSON.stringify({ version: pkg.version, builtAt: Date.now(), sources }, null, 1) + '\n');
  rmSync(DIST, { recursive: true, force: true });
  renameSync(TMP, DIST);
  if (!quiet) console.log(`build: ${sources.length} sources → ${relative(process.cwd(), DIST) || 'dist'}/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--out');
  try { build(i > 0 ? { outDir: process.argv[i + 1] } : {}); } catch (e) { console.error(e.message); process.exit(1); }
}

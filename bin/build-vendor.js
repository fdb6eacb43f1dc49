// Build step (bin/build.js runs it on the freshly compiled tree): the pure-JS packages every hub
// and node loads at start (mqtt, TypeBox, yaml, pino) bundled by esbuild into a few files under
// vendor/, and the compiled code's imports of them pointed there. Node resolves and reads ~300
// small module files for these packages otherwise, which was a third of a compiled node's start-up
// CPU; the bundled code is the same code (the versions in package-lock.json). Only what the
// compiled code imports by these exact names is redirected; anything else still loads them from
// node_modules (TypeBox marks schemas with Symbol.for keys, so its copies understand each other).
// pino's worker transports would not work from the bundle (they find their worker file next to
// pino's own); Kuroko logs in-process only (bin/log.ts), and pino-pretty still loads from node_modules.
// Plain JS on purpose, like bin/build.js.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Package specifier → the vendor entry that re-exports it. */
export const VENDORED = {
  mqtt: 'mqtt',
  yaml: 'yaml',
  '@sinclair/typebox': 'typebox',
  '@sinclair/typebox/value': 'typebox-value',
  pino: 'pino',
};

function jsFiles(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'vendor') jsFiles(p, out); }
    else if (e.name.endsWith('.js')) out.push(p);
  }
  return out;
}

/** Bundles the vendored packages into outDir/vendor/ and rewrites the imports under outDir. */
export async function vendorPackages(outDir) {
  const { build } = await import('esbuild');
  const vendorDir = join(outDir, 'vendor');
  const stdinEntries = Object.entries(VENDORED).map(([spec, name]) => ({ in: `kuroko-vendor:${spec}`, out: name }));
  await build({
    entryPoints: stdinEntries,
    bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
    outdir: vendorDir, entryNames: '[name]', chunkNames: 'chunk-[hash]', logLevel: 'error', legalComments: 'inline',
    // CommonJS packages inside (mqtt and its deps) call require() for Node's built-ins.
    banner: { js: "import { createRequire as __kurokoCreateRequire } from 'node:module'; const require = __kurokoCreateRequire(import.meta.url);" },
    plugins: [{
      name: 'kuroko-vendor-entries',
      setup(b) {
        b.onResolve({ filter: /^kuroko-vendor:/ }, (a) => ({ path: a.path.slice('kuroko-vendor:'.length), namespace: 'kuroko-vendor' }));
        // `export *` re-exports an ES module's names; mqtt is CommonJS, so its names are listed from the package itself.
        b.onLoad({ filter: /.*/, namespace: 'kuroko-vendor' }, async (a) => {
          const mod = await import(a.path);
          const names = Object.keys(mod).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
          const hasDefault = 'default' in mod;
          return { contents: `import * as m from ${JSON.stringify(a.path)};\nexport const { ${names.join(', ')} } = m;\n${hasDefault ? 'export default m.default;\n' : ''}`, resolveDir: ROOT, loader: 'js' };
        });
      },
    }],
  });
  const pattern = new RegExp(`(\\bfrom\\s*|\\bimport\\s*\\(\\s*)(['"])(${Object.keys(VENDORED).map((s) => s.replace(/[/.]/g, '\\$&')).join('|')})\\2`, 'g');
  let rewritten = 0;
  for (const f of jsFiles(outDir)) {
    const text = readFileSync(f, 'utf8');
    const next = text.replace(pattern, (_, lead, q, spec) => {
      let rel = relative(dirname(f), join(vendorDir, `${VENDORED[spec]}.js`)).split('\\').join('/');
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return `${lead}${q}${rel}${q}`;
    });
    if (next !== text) { writeFileSync(f, next); rewritten++; }
  }
  return rewritten;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2];
  if (!out) { console.error('usage: node bin/build-vendor.js OUT_DIR'); process.exit(2); }
  vendorPackages(resolve(out)).then((n) => console.log(`vendored ${Object.keys(VENDORED).join(', ')}: ${n} files point to ${join(out, 'vendor')}/`), (e) => { console.error(e.message); process.exit(1); });
}

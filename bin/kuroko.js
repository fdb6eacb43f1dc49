#!/usr/bin/env node
// The `kuroko` command. It runs the compiled JS in dist/ (`npm run build`; a release bundle holds
// only dist/), so production hubs and nodes never load tsx. In a checkout whose sources are newer
// than dist/ (or with no dist/), it runs the TypeScript sources through tsx instead, so editing a
// file never runs stale code. KUROKO_RUNTIME=dist|tsx forces one.
import { existsSync, readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const info = new URL('dist/build-info.json', root);

function distIsFresh() {
  if (!existsSync(info)) return false;
  try {
    const { builtAt, sources } = JSON.parse(readFileSync(info, 'utf8'));
    // A release bundle has no sources: every stat fails and dist/ is used.
    return sources.every((s) => { try { return statSync(new URL(s, root)).mtimeMs <= builtAt; } catch { return true; } });
  } catch { return false; }
}

const forced = process.env.KUROKO_RUNTIME;
if (forced === 'dist' || (forced !== 'tsx' && distIsFresh())) {
  const { main } = await import('../dist/bin/cli.js');
  await main(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('./cli.ts');
  await main(process.argv.slice(2));
}

#!/usr/bin/env node
// The `kuroko` command. Kuroko runs its TypeScript sources through tsx, so an
// edge node needs no build step after `npm ci`.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('./cli.ts');
await main(process.argv.slice(2));

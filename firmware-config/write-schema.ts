/**
 * Writes firmware-config/profile.schema.json from the TypeBox schema, for editors
 * (yaml-language-server) and for anyone validating profiles outside Kuroko.
 * Run: node bin/run-ts.js firmware-config/write-schema.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Profile } from './profile-schema.ts';

export function profileJsonSchema(): string {
  const schema = { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'https://kuroko.dev/schemas/profile.schema.json', ...Profile };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

const target = fileURLToPath(new URL('./profile.schema.json', import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = profileJsonSchema();
  if (process.argv.includes('--check')) {
    let old = '';
    try { old = readFileSync(target, 'utf8'); } catch { /* missing */ }
    if (old !== text) { console.error('firmware-config/profile.schema.json is stale: run npm run schemas:profile'); process.exit(1); }
    console.log('profile.schema.json is up to date');
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
}

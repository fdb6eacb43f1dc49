/** Writes protocol/asyncapi.yaml from the code (npm run contract:doc). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { asyncApiYaml } from './asyncapi.ts';

const file = fileURLToPath(new URL('./asyncapi.yaml', import.meta.url));
writeFileSync(file, asyncApiYaml());
console.log(`wrote ${file}`);

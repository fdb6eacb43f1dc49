/** Writes the JSON Schemas of the show file and the hardware profile for editors (npm run schemas). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Show } from '../hub/show/schema.ts';
import { Profile } from '../firmware-config/profile-schema.ts';

for (const [rel, schema, id] of [['../hub/show.schema.json', Show, 'show'], ['../firmware-config/profile.schema.json', Profile, 'profile']] as const) {
  const file = fileURLToPath(new URL(rel, import.meta.url));
  writeFileSync(file, JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', $id: `https://kuroko.dev/schemas/${id}.json`, ...JSON.parse(JSON.stringify(schema)) }, null, 2) + '\n');
  console.log(`wrote ${file}`);
}

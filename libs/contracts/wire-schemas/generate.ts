// npm run wire-schemas: writes docs/schemas/*.schema.json from the contract's types.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildWireSchemas, WIRE_SCHEMAS_DIR } from './wire-schemas';

mkdirSync(WIRE_SCHEMAS_DIR, { recursive: true });
for (const [file, text] of Object.entries(buildWireSchemas())) {
  writeFileSync(join(WIRE_SCHEMAS_DIR, file), `${text}\n`);
  console.log(`wrote docs/schemas/${file}`);
}

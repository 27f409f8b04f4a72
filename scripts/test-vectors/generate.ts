// Writes the cross-language test vectors (npm run vectors); see libs/contracts/test-vectors/README.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVectors, vectorFileText, VECTORS_DIR } from './vectors';

for (const [name, content] of Object.entries(buildVectors())) {
  const text = vectorFileText(content);
  writeFileSync(join(VECTORS_DIR, name), text);
  console.log(`${name}: ${Buffer.byteLength(text)} bytes`);
}

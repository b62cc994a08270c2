// Writes the OTA JSON Schemas from their TypeBox source (contracts/firmware-ota.ts):
//   npx tsx firmware-specs/ota/write-schemas.ts
// schemas.test.ts fails when the committed files differ from what this writes.
import { writeFileSync } from 'node:fs';
import { otaJsonSchemas } from '../../contracts/firmware-ota.js';

export const SCHEMAS_DIR = new URL('./schemas/', import.meta.url);

export function schemaFileText(doc: Record<string, unknown>): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  for (const [name, doc] of Object.entries(otaJsonSchemas())) writeFileSync(new URL(name, SCHEMAS_DIR), schemaFileText(doc));
}

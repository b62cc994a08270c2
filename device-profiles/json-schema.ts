import { DeviceProfile } from '../contracts/profile.js';

/**
 * The profile schema as a plain JSON Schema document, for editors (yaml-language-server) and other
 * tools. Generated from the one TypeBox source in contracts/profile.ts; profile.schema.json is its
 * committed copy and a test keeps the two equal.
 */
export function profileJsonSchema(): Record<string, unknown> {
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'gridsense device profile', ...JSON.parse(JSON.stringify(DeviceProfile)) };
}

import type { TSchema, Static } from 'typebox';
import Value from 'typebox/value';
import { Settings } from 'typebox/system';
import { GsError, type ErrorCode, type ErrorDetail } from './errors.js';

// TypeBox stops after 8 errors by default; a technician fixing a file wants every problem at once.
Settings.Set({ maxErrors: 200 });

/** Every schema violation of `value`, as path + message (file added when the value came from one). */
export function schemaErrors(schema: TSchema, value: unknown, file?: string): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, value)) {
    // additionalProperties reports twice (once per extra key as "schema is false"); keep the readable one.
    if (e.keyword === 'boolean' && e.message === 'schema is false') {
      const key = `${e.instancePath}|unknown`;
      if (seen.has(key)) continue;
      seen.add(key);
      details.push(withFile({ path: e.instancePath, message: 'is not a known field' }, file));
      continue;
    }
    if (e.keyword === 'additionalProperties') continue;
    const key = `${e.instancePath}|${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push(withFile({ path: e.instancePath, message: e.message ?? 'is not valid' }, file));
  }
  return details;
}

function withFile(d: ErrorDetail, file?: string): ErrorDetail {
  return file ? { ...d, file } : d;
}

/** Returns the value typed by its schema, or throws a GsError carrying every violation. */
export function assertSchema<S extends TSchema>(
  schema: S,
  value: unknown,
  code: ErrorCode,
  what: string,
  file?: string,
): Static<S> {
  if (Value.Check(schema, value)) return value as Static<S>;
  const details = schemaErrors(schema, value, file);
  throw new GsError(code, `${what}${file ? ` (${file})` : ''} is not valid: ${details.length} problem(s)`, details);
}

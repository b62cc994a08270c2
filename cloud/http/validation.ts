import type { ErrorDetail } from '../../contracts/errors.js';

interface ValidationIssue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Fastify's validation errors (TypeBox's, AJV-shaped) as the API's details: one per problem, with a
 * JSON pointer. TypeBox reports an unknown field twice (the `false` schema and additionalProperties);
 * only the first, worded plainly, is kept — as contracts/validate.ts does for files.
 */
export function validationDetails(issues: readonly ValidationIssue[]): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const e of issues) {
    if (e.keyword === 'additionalProperties') continue;
    const path = e.instancePath ?? '';
    const message = e.keyword === 'boolean' && e.message === 'schema is false' ? 'is not a known field' : (e.message ?? 'is not valid');
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, message });
  }
  return out;
}

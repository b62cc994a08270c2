import { GsError } from '../../contracts/errors.js';

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/** A time in a query string: milliseconds since the epoch, or an ISO 8601 date/time. */
export function parseTimeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms)) {
    throw new GsError('GS_ERR_VALIDATION', `${name} is not a time`, [{ path: `/${name}`, message: 'give milliseconds since the epoch or an ISO 8601 time' }]);
  }
  return ms;
}

import { GsError } from '../../contracts/errors.js';

/**
 * Keyset paging: a cursor is the sort key of the last row of a page — (time, id), newest first — so a
 * page never repeats or skips rows that were inserted meanwhile. Opaque to clients (base64url JSON).
 */
export interface CursorKey {
  t: number;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.t, key.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return { t: v[0] as number, id: v[1] };
  } catch {
    // fall through to the error below
  }
  throw new GsError('GS_ERR_VALIDATION', 'cursor is not valid', [{ path: '/cursor', message: 'use the nextCursor of a previous page, unchanged' }]);
}

// What the worker and department services share: id-ordered keyset pages, the town-key filter rule,
// and the current grids' hierarchy for deriving a grid's town.
import type { Kysely } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import type { Database } from '../db/schema.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import type { GridNode } from './hierarchy.js';

/** A town key may filter by its own town only; it always gets its own town's rows. */
export function scopedTown(keyTown: string | null, asked: string | undefined): string | undefined {
  if (keyTown === null) return asked;
  if (asked !== undefined && asked !== keyTown) {
    throw new GsError('GS_ERR_AUTH_FORBIDDEN', `this key sees only town "${keyTown}"`, [{ path: '/townId', message: `must be ${keyTown} or absent` }]);
  }
  return keyTown;
}

/** Keyset pages ordered by id (rosters have no time order that matters). */
export function afterCursor(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : decodeCursor(cursor).id;
}

export function nextCursorOf<T extends { id: string }>(rows: T[], limit: number): string | null {
  const last = rows[limit - 1];
  return rows.length > limit && last ? encodeCursor({ t: 0, id: last.id }) : null;
}

/** The current grids as hierarchy nodes. */
export async function currentNodes(db: Kysely<Database>): Promise<Map<string, GridNode>> {
  const rows = await db.selectFrom('grids').select(['id', 'level', 'name', 'name_zh', 'parent_id']).execute();
  return new Map(rows.map((r) => [r.id, { id: r.id, level: r.level, name: r.name, nameZh: r.name_zh, parentId: r.parent_id }]));
}

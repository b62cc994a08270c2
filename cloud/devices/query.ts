// Reading the registry: one device, or a filtered page of them in id order (keyset paging).
import type { Kysely } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import type { ProfileLibrary } from '../../device-profiles/library.js';
import type { Database } from '../db/schema.js';
import { DEFAULT_PAGE_SIZE } from '../http/schemas.js';
import { edgeHealthViews, toDeviceJson } from './model.js';
import type { DeviceJson, DeviceList, DeviceListQuery } from './schemas.js';

/** Cursor of an id-ordered list: the last id of the page, opaque to clients. */
export function encodeIdCursor(id: string): string {
  return Buffer.from(JSON.stringify({ after: id })).toString('base64url');
}

export function decodeIdCursor(cursor: string): string {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof v.after === 'string') return v.after;
  } catch {
    // below
  }
  throw new GsError('GS_ERR_VALIDATION', 'cursor is not valid', [{ path: '/cursor', message: 'use the nextCursor of a previous page, unchanged' }]);
}

/** A town key may filter by its own town only. */
export function scopedTown(keyTown: string | null, asked: string | undefined): string | undefined {
  if (keyTown === null) return asked;
  if (asked !== undefined && asked !== keyTown) {
    throw new GsError('GS_ERR_AUTH_FORBIDDEN', `this key sees only town "${keyTown}"`, [{ path: '/town', message: `must be ${keyTown} or absent` }]);
  }
  return keyTown;
}

export async function listDevices(db: Kysely<Database>, profiles: ProfileLibrary, q: DeviceListQuery, keyTown: string | null, now: number): Promise<DeviceList> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  const town = scopedTown(keyTown, q.town);
  let query = db.selectFrom('devices').selectAll();
  if (q.edge !== undefined) query = query.where('edge_id', '=', q.edge);
  if (town !== undefined) query = query.where('town_id', '=', town);
  if (q.grid !== undefined) query = query.where('grid_id', '=', q.grid);
  if (q.profile !== undefined) query = query.where('profile', '=', q.profile);
  query = q.status !== undefined ? query.where('status', '=', q.status) : query.where('status', '!=', 'decommissioned');
  if (q.health !== undefined) query = q.health === 'unknown' ? query.where((eb) => eb.or([eb('health', '=', 'unknown'), eb('health', 'is', null)])) : query.where('health', '=', q.health);
  if (q.tag !== undefined) query = query.where('id', 'in', db.selectFrom('device_tags').select('device_id').where('tag', '=', q.tag));
  if (q.cursor !== undefined) query = query.where('id', '>', decodeIdCursor(q.cursor));
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const views = await edgeHealthViews(db, page.map((r) => r.edge_id), now);
  const last = page.at(-1);
  return { items: page.map((r) => toDeviceJson(r, profiles, views.get(r.edge_id))), nextCursor: rows.length > limit && last ? encodeIdCursor(last.id) : null };
}

export async function getDevice(db: Kysely<Database>, profiles: ProfileLibrary, id: string, keyTown: string | null, now: number): Promise<DeviceJson> {
  const row = await db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (keyTown !== null && row.town_id !== keyTown)) throw new GsError('GS_ERR_DEVICE_UNKNOWN', `no device "${id}"`);
  const views = await edgeHealthViews(db, [row.edge_id], now);
  return toDeviceJson(row, profiles, views.get(row.edge_id));
}

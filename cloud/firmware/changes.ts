// What an edge sees in GET /edges/firmware/jobs changed: its counter in firmware_edges grows in the
// same transaction as the change, so a counter always names what is stored; on PostgreSQL every
// instance hears of it at commit through NOTIFY. The counter is the job list's ETag.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { FwDb } from './tables.js';

export const FIRMWARE_CHANNEL = 'gridsense_firmware';

/** Inside a write transaction: these edges' job lists changed. Returns the ids, for `watch.notify` after the commit. */
export async function bumpEdges(trx: FwDb, edgeIds: Iterable<string>, now: number): Promise<string[]> {
  // Sorted: two transactions bumping overlapping sets lock the rows in one order.
  const ids = [...new Set(edgeIds)].sort();
  if (ids.length === 0) return [];
  await trx
    .insertInto('firmware_edges')
    .values(ids.map((id) => ({ edge_id: id, version: 1, changed_at: now })))
    .onConflict((oc) => oc.column('edge_id').doUpdateSet((eb) => ({ version: eb(eb.ref('firmware_edges.version'), '+', 1), changed_at: now })))
    .execute();
  if (isPostgres(trx as unknown as Kysely<unknown>)) await sql`select pg_notify(${FIRMWARE_CHANNEL}, current_schema())`.execute(trx);
  return ids;
}

/** The edge's counter now (0 before anything ever changed for it). */
export async function edgeVersion(db: FwDb, edgeId: string): Promise<number> {
  const r = await db.selectFrom('firmware_edges').select('version').where('edge_id', '=', edgeId).executeTakeFirst();
  return r ? Number(r.version) : 0;
}

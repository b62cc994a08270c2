// Each edge's desired configuration (contracts/edge-config.ts), built from the registry: its enabled
// devices as edge.yaml device blocks, and its rule list. `config_version` in edge_fleet grows in the
// same transaction as every change that affects the edge, so a version always names what is stored.
import type { Kysely, Selectable } from 'kysely';
import type { DesiredConfig } from '../../contracts/edge-config.js';
import type { Database, DevicesTable, EdgeFleetTable } from '../db/schema.js';
import { configChanged } from '../fleet/config-watch.js';

/** Makes the edge's fleet row when it has none yet (edges registered before 0007, or by POST /edges). */
export async function ensureEdgeFleet(db: Kysely<Database>, edgeId: string, now: number, townId: string | null = null): Promise<void> {
  await db
    .insertInto('edge_fleet')
    .values({ edge_id: edgeId, town_id: townId, enrolled_at: null, config_version: 1, config_changed_at: now, rules: '[]', applied_version: null, report: null, report_at: null, agent_version: null, started_at: null, outbox_depth: null, dead_letters: null, heartbeat_at: null, heartbeat_gap_ms: null, heartbeat_prev_gap_ms: null, heartbeat_devices: null, heartbeat_buses: null })
    .onConflict((oc) => oc.column('edge_id').doNothing())
    .execute();
}

/**
 * Inside a write transaction: the configuration of these edges changed. Their versions grow by one
 * (the row lock orders concurrent changes of one edge) and, on PostgreSQL, other instances hear of
 * it at commit. Call `app.configWatch.notify(edgeIds)` after the commit for this instance's waiters.
 */
export async function bumpConfig(trx: Kysely<Database>, edgeIds: Iterable<string>, now: number): Promise<string[]> {
  const ids = [...new Set(edgeIds)].sort();
  if (ids.length === 0) return [];
  for (const id of ids) await ensureEdgeFleet(trx, id, now);
  await trx
    .updateTable('edge_fleet')
    .set((eb) => ({ config_version: eb('config_version', '+', 1), config_changed_at: now }))
    .where('edge_id', 'in', ids)
    .execute();
  await configChanged(trx);
  return ids;
}

/** One registered device as an edge.yaml `devices` entry. */
export function deviceBlock(r: Selectable<DevicesTable>): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    profile: r.profile,
    connection: JSON.parse(r.connection) as unknown,
    ...(r.lon !== null && r.lat !== null ? { location: { lon: r.lon, lat: r.lat } } : {}),
    ...(r.site !== null ? { site: r.site } : {}),
    ...(r.poll_interval !== null ? { pollInterval: JSON.parse(r.poll_interval) as unknown } : {}),
    ...(r.offline_after_misses !== null ? { offlineAfterMisses: r.offline_after_misses } : {}),
    ...(r.overrides !== null ? { overrides: JSON.parse(r.overrides) as unknown } : {}),
  };
}

export async function fleetRow(db: Kysely<Database>, edgeId: string): Promise<Selectable<EdgeFleetTable> | undefined> {
  return db.selectFrom('edge_fleet').selectAll().where('edge_id', '=', edgeId).executeTakeFirst();
}

/**
 * The edge's desired configuration. The version is read first: should a change commit between the
 * two reads, the devices are newer than the version says and the edge simply fetches again.
 */
export async function desiredConfig(db: Kysely<Database>, edgeId: string, now: number): Promise<DesiredConfig> {
  let fleet = await fleetRow(db, edgeId);
  if (!fleet) {
    await ensureEdgeFleet(db, edgeId, now);
    fleet = (await fleetRow(db, edgeId))!;
  }
  const rows = await db.selectFrom('devices').selectAll().where('edge_id', '=', edgeId).where('status', '=', 'active').orderBy('id').execute();
  return { version: Number(fleet.config_version), rules: JSON.parse(fleet.rules) as string[], devices: rows.map(deviceBlock) };
}

/** The version alone (the long-poll's check). */
export async function desiredVersion(db: Kysely<Database>, edgeId: string): Promise<number | undefined> {
  const r = await db.selectFrom('edge_fleet').select('config_version').where('edge_id', '=', edgeId).executeTakeFirst();
  return r ? Number(r.config_version) : undefined;
}

// Migration 0009 over data made before it: grids imported earlier become grid version 1 with one
// revision each; events get their grid's names, path and version 1, and the incident time of their
// first alarm. On SQLite here and on PostgreSQL in the PostgreSQL pass.
import t from 'tap';
import { Migrator, sql, type Kysely } from 'kysely';
import { openDatabase } from '../db/open.js';
import { migrateToLatest } from '../db/migrate.js';
import { isPostgres } from '../db/dialect.js';
import { MIGRATIONS } from '../db/migrations/index.js';
import type { Database } from '../db/schema.js';
import { testDatabase } from '../db/test-database.js';

async function migrator(db: Kysely<Database>): Promise<Migrator> {
  const schema = isPostgres(db) ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]!.s : undefined;
  return new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS }, ...(schema ? { migrationTableSchema: schema } : {}) });
}

const ring = (x0: number, y0: number, x1: number, y1: number) => JSON.stringify({ type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] });
const T0 = Date.UTC(2026, 5, 1);

t.test('grids and events from before 0009 are carried into versions', async (t) => {
  const { db } = openDatabase(await testDatabase(t));
  t.teardown(() => db.destroy());
  const { error } = await (await migrator(db)).migrateTo('0007_fleet');
  t.error(error, 'migrated to 0007');

  const grid = (id: string, level: string, parent: string | null, name: string, nameZh: string) => ({
    id, name, name_zh: nameZh, level, parent_id: parent, geometry: ring(101, 38, 101.1, 38.1), min_lon: 101, min_lat: 38, max_lon: 101.1, max_lat: 38.1, area_km2: 10, created_at: T0, updated_at: T0 + 5,
  });
  const legacy = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  await legacy.insertInto('grids').values([grid('c', 'county', null, 'County', '县'), grid('tw', 'town', 'c', 'Town', '镇'), grid('g', 'grid', 'tw', 'Grid', '网格')]).execute();
  await legacy.insertInto('edges').values({ id: 'e1', name: 'E', token_hash: 'h', created_at: T0, revoked_at: null }).execute();
  const event = (id: string, gridId: string | null) => ({
    id, dedup_key: `d-${id}#t`, open_dedup_key: `d-${id}#t`, edge_id: 'e1', device_id: `d-${id}`, alarm_type: 't', grid_id: gridId, town_id: 'tw', category: 'fire_safety', priority: 2, status: 'reported',
    occurrence_count: 1, active_alarms: 1, opened_at: T0 + 1000, updated_at: T0 + 1000, deadline_at: T0 + 9000, cleared_at: null, title: 'x', lon: null, lat: null, site: null,
  });
  await legacy.insertInto('events').values([event('ev1', 'g'), event('ev2', null)]).execute();
  await legacy.insertInto('alarms').values({
    id: 'a1', edge_id: 'e1', alarm_id: 'al-1', device_id: 'd-ev1', type: 't', severity: 'major', state: 'raised', first_ts: T0 + 200, last_ts: T0 + 200, last_seq: 0, cleared_ts: null,
    value: null, unit: null, message: null, lon: null, lat: null, site: null, profile: null, rule_id: null, event_id: 'ev1', created_at: T0 + 1000, updated_at: T0 + 1000,
  }).execute();

  t.ok((await migrateToLatest(db)).includes('0009_grids_v2'));
  t.same(await db.selectFrom('grid_versions').select(['version', 'created_at', 'actor', 'imported']).execute(), [{ version: 1, created_at: T0 + 5, actor: 'migration', imported: 3 }]);
  t.same((await db.selectFrom('grid_revisions').select(['grid_id', 'version_from', 'version_to']).orderBy('grid_id').execute()), [
    { grid_id: 'c', version_from: 1, version_to: null },
    { grid_id: 'g', version_from: 1, version_to: null },
    { grid_id: 'tw', version_from: 1, version_to: null },
  ]);
  t.same((await db.selectFrom('grids').select(['id', 'version']).orderBy('id').execute()).map((g) => g.version), [1, 1, 1]);
  const [ev1, ev2] = await db.selectFrom('events').select(['id', 'grid_version', 'grid_name', 'grid_name_zh', 'grid_path', 'incident_at', 'assignee_name']).orderBy('id').execute();
  t.match(ev1, { grid_version: 1, grid_name: 'Grid', grid_name_zh: '网格', incident_at: T0 + 200, assignee_name: null });
  t.same(JSON.parse(ev1!.grid_path!).map((p: { id: string }) => p.id), ['c', 'tw', 'g']);
  t.match(ev2, { grid_version: null, grid_name: null, grid_path: null, incident_at: T0 + 1000 }, 'no grid, no alarm: opened_at');
});

t.test('an empty database migrates to no grid version', async (t) => {
  const { db } = openDatabase(await testDatabase(t));
  t.teardown(() => db.destroy());
  await migrateToLatest(db);
  t.same(await db.selectFrom('grid_versions').selectAll().execute(), []);
});

// Grids v2: versioned grids, the people who handle events, and what correlation needs.
// - grid_versions: one row per import that changed something; grid_revisions: every state a grid
//   has had, valid from one version until (excluding) the version that replaced it. `grids` stays
//   the current state (every existing query reads it), with the version of its current revision.
// - events keep the grid as it was when they opened (version, names, ancestor path), so a redrawn
//   or renamed grid never rewrites history; `incident_at` (the opening alarm's time) anchors the
//   per-category join window; `assignee_name` keeps who the event went to, as named then.
// - grid_workers (网格员) and departments (职能部门) with the categories they handle.
// Existing grids become version 1, existing events get their grid's current names (the best there is).
// Portable types only: PostgreSQL runs the same migration.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('grid_versions')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('imported', 'integer', (c) => c.notNull())
    .addColumn('created', 'integer', (c) => c.notNull())
    .addColumn('updated', 'integer', (c) => c.notNull())
    .addColumn('unchanged', 'integer', (c) => c.notNull())
    .addColumn('devices_moved', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('grid_revisions')
    .addColumn('grid_id', 'text', (c) => c.notNull())
    .addColumn('version_from', 'integer', (c) => c.notNull())
    // NULL while this is the grid's current state.
    .addColumn('version_to', 'integer')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_zh', 'text')
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('geometry', 'text', (c) => c.notNull())
    .addColumn('min_lon', 'double precision', (c) => c.notNull())
    .addColumn('min_lat', 'double precision', (c) => c.notNull())
    .addColumn('max_lon', 'double precision', (c) => c.notNull())
    .addColumn('max_lat', 'double precision', (c) => c.notNull())
    .addColumn('area_km2', 'double precision', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('grid_revisions_pk', ['grid_id', 'version_from'])
    .execute();
  await db.schema.createIndex('grid_revisions_version_idx').on('grid_revisions').columns(['version_from', 'version_to']).execute();

  await db.schema.alterTable('grids').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute();

  for (const [name, type] of [
    ['grid_version', 'integer'],
    ['grid_name', 'text'],
    ['grid_name_zh', 'text'],
    ['grid_path', 'text'],
    ['assignee_name', 'text'],
  ] as const) {
    await db.schema.alterTable('events').addColumn(name, type).execute();
  }
  await db.schema.alterTable('events').addColumn('incident_at', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
  // The join lookup: open events of one category in one grid, by incident time.
  await db.schema.createIndex('events_join_idx').on('events').columns(['grid_id', 'category', 'incident_at']).execute();

  await db.schema
    .createTable('grid_workers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull())
    // No foreign key: grids are reference data; import never deletes one.
    .addColumn('grid_id', 'text', (c) => c.notNull())
    // The town-level ancestor of the grid, kept for scope checks and filters; re-derived on import.
    .addColumn('town_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
  await db.schema.createIndex('grid_workers_town_idx').on('grid_workers').columns(['town_id', 'id']).execute();
  await db.schema.createIndex('grid_workers_grid_idx').on('grid_workers').columns(['grid_id', 'id']).execute();

  await db.schema
    .createTable('departments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_zh', 'text')
    .addColumn('phone', 'text')
    // 'county' (town_id NULL) or 'town' (town_id set).
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('town_id', 'text')
    // JSON array of category codes; department_categories holds them for filtering.
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .execute();
  await db.schema.createIndex('departments_town_idx').on('departments').columns(['town_id', 'id']).execute();
  await db.schema
    .createTable('department_categories')
    .addColumn('department_id', 'text', (c) => c.notNull().references('departments.id'))
    .addColumn('category', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('department_categories_pk', ['department_id', 'category'])
    .execute();
  await db.schema.createIndex('department_categories_cat_idx').on('department_categories').columns(['category', 'department_id']).execute();

  await backfill(db);
}

/** Grids imported before versions existed are version 1; events take their grid's names and path from them. */
async function backfill(db: Kysely<unknown>): Promise<void> {
  await sql`update events set incident_at = coalesce((select min(a.first_ts) from alarms a where a.event_id = events.id), opened_at)`.execute(db);
  const { rows: grids } = await sql<{ id: string; name: string; name_zh: string | null; level: string; parent_id: string | null; updated_at: number | string }>`
    select id, name, name_zh, level, parent_id, updated_at from grids`.execute(db);
  if (grids.length === 0) return;
  const at = Math.max(...grids.map((g) => Number(g.updated_at)));
  await sql`insert into grid_versions (version, created_at, actor, imported, created, updated, unchanged, devices_moved) values (1, ${at}, 'migration', ${grids.length}, ${grids.length}, 0, 0, 0)`.execute(db);
  await sql`
    insert into grid_revisions (grid_id, version_from, version_to, name, name_zh, level, parent_id, geometry, min_lon, min_lat, max_lon, max_lat, area_km2, created_at)
    select id, 1, null, name, name_zh, level, parent_id, geometry, min_lon, min_lat, max_lon, max_lat, area_km2, updated_at from grids`.execute(db);
  const byId = new Map(grids.map((g) => [g.id, g]));
  const { rows: used } = await sql<{ grid_id: string }>`select distinct grid_id from events where grid_id is not null`.execute(db);
  for (const { grid_id } of used) {
    const g = byId.get(grid_id);
    if (!g) continue;
    const path: Array<{ id: string; level: string; name: string; nameZh: string | null }> = [];
    for (let p: typeof g | undefined = g; p && path.length < 16; p = p.parent_id ? byId.get(p.parent_id) : undefined) path.unshift({ id: p.id, level: p.level, name: p.name, nameZh: p.name_zh });
    await sql`update events set grid_version = 1, grid_name = ${g.name}, grid_name_zh = ${g.name_zh}, grid_path = ${JSON.stringify(path)} where grid_id = ${grid_id}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('department_categories').ifExists().execute();
  await db.schema.dropTable('departments').ifExists().execute();
  await db.schema.dropTable('grid_workers').ifExists().execute();
  await db.schema.dropIndex('events_join_idx').ifExists().execute();
  for (const c of ['incident_at', 'assignee_name', 'grid_path', 'grid_name_zh', 'grid_name', 'grid_version']) await db.schema.alterTable('events').dropColumn(c).execute();
  await db.schema.alterTable('grids').dropColumn('version').execute();
  await db.schema.dropTable('grid_revisions').ifExists().execute();
  await db.schema.dropTable('grid_versions').ifExists().execute();
}

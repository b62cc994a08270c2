// The first schema. Written with Kysely's schema builder and portable types only (text, integer,
// bigint, double precision), so PostgreSQL runs the same migration.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('edges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('grids')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_zh', 'text')
    .addColumn('level', 'text', (c) => c.notNull())
    // No foreign key to the parent: a county re-imports its grids in any order.
    .addColumn('parent_id', 'text')
    .addColumn('geometry', 'text', (c) => c.notNull())
    .addColumn('min_lon', 'double precision', (c) => c.notNull())
    .addColumn('min_lat', 'double precision', (c) => c.notNull())
    .addColumn('max_lon', 'double precision', (c) => c.notNull())
    .addColumn('max_lat', 'double precision', (c) => c.notNull())
    .addColumn('area_km2', 'double precision', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('dedup_key', 'text', (c) => c.notNull())
    .addColumn('open_dedup_key', 'text')
    .addColumn('edge_id', 'text', (c) => c.notNull().references('edges.id'))
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('alarm_type', 'text', (c) => c.notNull())
    // No foreign key: grids are reference data a county may redraw; an event keeps the id it was given.
    .addColumn('grid_id', 'text')
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('occurrence_count', 'integer', (c) => c.notNull())
    .addColumn('active_alarms', 'integer', (c) => c.notNull())
    .addColumn('opened_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('deadline_at', 'bigint', (c) => c.notNull())
    .addColumn('cleared_at', 'bigint')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('lon', 'double precision')
    .addColumn('lat', 'double precision')
    .addColumn('site', 'text')
    .execute();
  // NULLs are distinct in a UNIQUE index on SQLite and PostgreSQL alike: closed events (NULL) never
  // collide, open ones do — one open event per dedup key, enforced by the database under concurrency.
  await db.schema.createIndex('events_open_dedup_key_uq').on('events').column('open_dedup_key').unique().execute();
  await db.schema.createIndex('events_opened_idx').on('events').columns(['opened_at', 'id']).execute();
  await db.schema.createIndex('events_device_idx').on('events').column('device_id').execute();
  await db.schema.createIndex('events_grid_idx').on('events').column('grid_id').execute();

  await db.schema
    .createTable('alarm_transitions')
    .addColumn('edge_id', 'text', (c) => c.notNull().references('edges.id'))
    .addColumn('alarm_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('alarm_transitions_pk', ['edge_id', 'alarm_id', 'seq'])
    .execute();

  await db.schema
    .createTable('alarms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('edge_id', 'text', (c) => c.notNull().references('edges.id'))
    .addColumn('alarm_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('first_ts', 'bigint', (c) => c.notNull())
    .addColumn('last_ts', 'bigint', (c) => c.notNull())
    .addColumn('last_seq', 'integer', (c) => c.notNull())
    .addColumn('cleared_ts', 'bigint')
    .addColumn('value', 'text')
    .addColumn('unit', 'text')
    .addColumn('message', 'text')
    .addColumn('lon', 'double precision')
    .addColumn('lat', 'double precision')
    .addColumn('site', 'text')
    .addColumn('profile', 'text')
    .addColumn('rule_id', 'text')
    .addColumn('event_id', 'text', (c) => c.references('events.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('alarms_edge_alarm_uq', ['edge_id', 'alarm_id'])
    .execute();
  await db.schema.createIndex('alarms_created_idx').on('alarms').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('alarms_device_idx').on('alarms').column('device_id').execute();
  await db.schema.createIndex('alarms_event_idx').on('alarms').column('event_id').execute();

  await db.schema
    .createTable('event_alarms')
    .addColumn('event_id', 'text', (c) => c.notNull().references('events.id'))
    .addColumn('alarm_id', 'text', (c) => c.notNull().references('alarms.id'))
    .addColumn('linked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_alarms_pk', ['event_id', 'alarm_id'])
    .execute();
  await db.schema.createIndex('event_alarms_alarm_idx').on('event_alarms').column('alarm_id').execute();

  await db.schema
    .createTable('event_timeline')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('event_id', 'text', (c) => c.notNull().references('events.id'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('data', 'text')
    .execute();
  await db.schema.createIndex('event_timeline_event_idx').on('event_timeline').columns(['event_id', 'at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['event_timeline', 'event_alarms', 'alarms', 'alarm_transitions', 'events', 'grids', 'edges']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

// The device fleet: edge enrollment tokens, each edge's fleet state (town, desired configuration
// version and rules, the last configuration report and heartbeat), the device registry with its tags,
// and a compact health history (one row per device state change) for availability over a period.
// Portable types only (text, integer, bigint, double precision): PostgreSQL runs the same migration.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('edge_enrollments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('edge_id', 'text', (c) => c.notNull().references('edges.id'))
    // sha256 of the one-time token; the token itself is shown once.
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('edge_enrollments_edge_idx').on('edge_enrollments').column('edge_id').execute();

  await db.schema
    .createTable('edge_fleet')
    .addColumn('edge_id', 'text', (c) => c.primaryKey().references('edges.id'))
    .addColumn('town_id', 'text')
    .addColumn('enrolled_at', 'bigint')
    // Remote configuration: the desired version grows with every change that affects the edge.
    .addColumn('config_version', 'bigint', (c) => c.notNull())
    .addColumn('config_changed_at', 'bigint', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('applied_version', 'bigint')
    .addColumn('report', 'text')
    .addColumn('report_at', 'bigint')
    // The last heartbeat.
    .addColumn('agent_version', 'text')
    .addColumn('started_at', 'bigint')
    .addColumn('outbox_depth', 'integer')
    .addColumn('dead_letters', 'integer')
    .addColumn('heartbeat_at', 'bigint')
    .addColumn('heartbeat_gap_ms', 'bigint')
    .addColumn('heartbeat_prev_gap_ms', 'bigint')
    .addColumn('heartbeat_devices', 'text')
    .addColumn('heartbeat_buses', 'text')
    .execute();
  await db.schema.createIndex('edge_fleet_town_idx').on('edge_fleet').column('town_id').execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('edge_id', 'text', (c) => c.notNull().references('edges.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('connection', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.unique())
    .addColumn('lon', 'double precision')
    .addColumn('lat', 'double precision')
    // No foreign key: grids are reference data a county may redraw.
    .addColumn('grid_id', 'text')
    .addColumn('town_id', 'text')
    .addColumn('site', 'text')
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('poll_interval', 'text')
    .addColumn('offline_after_misses', 'integer')
    .addColumn('overrides', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('claim_code', 'text', (c) => c.unique())
    .addColumn('claimed_at', 'bigint')
    .addColumn('claimed_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .addColumn('decommissioned_at', 'bigint')
    .addColumn('health', 'text')
    .addColumn('health_since', 'bigint')
    .execute();
  await db.schema.createIndex('devices_edge_idx').on('devices').columns(['edge_id', 'status']).execute();
  await db.schema.createIndex('devices_town_idx').on('devices').columns(['town_id', 'id']).execute();
  await db.schema.createIndex('devices_profile_idx').on('devices').columns(['profile', 'id']).execute();
  await db.schema.createIndex('devices_health_idx').on('devices').columns(['health', 'id']).execute();

  await db.schema
    .createTable('device_tags')
    .addColumn('device_id', 'text', (c) => c.notNull().references('devices.id'))
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_tags_pk', ['device_id', 'tag'])
    .execute();
  await db.schema.createIndex('device_tags_tag_idx').on('device_tags').columns(['tag', 'device_id']).execute();

  await db.schema
    .createTable('device_health_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('device_health_log_device_idx').on('device_health_log').columns(['device_id', 'at']).execute();
  await db.schema.createIndex('device_health_log_at_idx').on('device_health_log').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('device_health_log').ifExists().execute();
  await db.schema.dropTable('device_tags').ifExists().execute();
  await db.schema.dropTable('devices').ifExists().execute();
  await db.schema.dropTable('edge_fleet').ifExists().execute();
  await db.schema.dropTable('edge_enrollments').ifExists().execute();
}

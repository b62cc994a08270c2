// Telemetry summaries from the edges (one row per device, point and period; the edge's key makes a
// retried upload a no-op), the gaps an edge's outbox quota left in them, and what a heartbeat now
// also says about the uplink: the configured interval, the age of the oldest undelivered alarm, and
// whether alarms alone exceed the outbox quota. Portable types only: PostgreSQL runs it too.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('telemetry_summaries')
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('point', 'text', (c) => c.notNull())
    .addColumn('period_from', 'bigint', (c) => c.notNull())
    .addColumn('period_to', 'bigint', (c) => c.notNull())
    .addColumn('edge_id', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('min', 'double precision', (c) => c.notNull())
    .addColumn('max', 'double precision', (c) => c.notNull())
    .addColumn('mean', 'double precision', (c) => c.notNull())
    .addColumn('last', 'double precision', (c) => c.notNull())
    .addColumn('last_ts', 'bigint', (c) => c.notNull())
    .addColumn('unit', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('telemetry_summaries_pk', ['device_id', 'point', 'period_from'])
    .execute();
  await db.schema.createIndex('telemetry_summaries_device_time_idx').on('telemetry_summaries').columns(['device_id', 'period_from']).execute();

  await db.schema
    .createTable('telemetry_gaps')
    .addColumn('edge_id', 'text', (c) => c.notNull())
    .addColumn('gap_id', 'text', (c) => c.notNull())
    .addColumn('dropped', 'integer', (c) => c.notNull())
    .addColumn('period_from', 'bigint', (c) => c.notNull())
    .addColumn('period_to', 'bigint', (c) => c.notNull())
    .addColumn('dropped_at', 'bigint', (c) => c.notNull())
    .addColumn('max_bytes', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('telemetry_gaps_pk', ['edge_id', 'gap_id'])
    .execute();
  await db.schema.createIndex('telemetry_gaps_received_idx').on('telemetry_gaps').columns(['received_at']).execute();

  await db.schema.alterTable('edge_fleet').addColumn('heartbeat_interval_ms', 'bigint').execute();
  await db.schema.alterTable('edge_fleet').addColumn('oldest_alarm_at', 'bigint').execute();
  await db.schema.alterTable('edge_fleet').addColumn('outbox_over_quota', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('edge_fleet').dropColumn('outbox_over_quota').execute();
  await db.schema.alterTable('edge_fleet').dropColumn('oldest_alarm_at').execute();
  await db.schema.alterTable('edge_fleet').dropColumn('heartbeat_interval_ms').execute();
  await db.schema.dropTable('telemetry_gaps').ifExists().execute();
  await db.schema.dropTable('telemetry_summaries').ifExists().execute();
}

// Firmware: trusted signing keys, artifacts (their bytes in 256 KiB chunks in the database, so every
// cloud instance on one PostgreSQL serves them), campaigns with staged waves, one job per target, and
// a per-edge change counter that wakes the edges' long-polls. Portable types only, except the chunk
// column: BLOB on SQLite, BYTEA on PostgreSQL.
import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('firmware_keys')
    // keyIdOf(public key): 16 hex digits.
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('firmware_artifacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    // JSON array, as signed.
    .addColumn('profiles', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull().references('firmware_keys.id'))
    .addColumn('chunk_size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();

  // One row per (profile, version): the same version of one model cannot be uploaded twice.
  await db.schema
    .createTable('firmware_artifact_profiles')
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('artifact_id', 'text', (c) => c.notNull().references('firmware_artifacts.id'))
    .addPrimaryKeyConstraint('firmware_artifact_profiles_pk', ['profile', 'version'])
    .execute();

  await db.schema
    .createTable('firmware_chunks')
    .addColumn('artifact_id', 'text', (c) => c.notNull().references('firmware_artifacts.id'))
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('data', isPostgres(db) ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('firmware_chunks_pk', ['artifact_id', 'idx'])
    .execute();

  await db.schema
    .createTable('firmware_campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('artifact_id', 'text', (c) => c.notNull().references('firmware_artifacts.id'))
    .addColumn('target_kind', 'text', (c) => c.notNull())
    // JSON: the selection as asked (edges, towns, tags, devices).
    .addColumn('selection', 'text', (c) => c.notNull())
    // JSON: [{share, size, startedAt, finishedAt}], cumulative shares, canary first.
    .addColumn('waves', 'text', (c) => c.notNull())
    .addColumn('jitter_ms', 'bigint', (c) => c.notNull())
    .addColumn('window_start', 'text')
    .addColumn('window_end', 'text')
    .addColumn('failure_threshold', 'double precision', (c) => c.notNull())
    .addColumn('soak_ms', 'bigint', (c) => c.notNull())
    .addColumn('max_in_flight_per_edge', 'integer')
    .addColumn('job_timeout_ms', 'bigint')
    .addColumn('state', 'text', (c) => c.notNull())
    // -1 before it starts; the index of the last wave released.
    .addColumn('current_wave', 'integer', (c) => c.notNull())
    // An admin resumed the campaign past this wave's failures: its threshold no longer applies.
    .addColumn('waived_wave', 'integer')
    .addColumn('halted_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('firmware_campaigns_state_idx').on('firmware_campaigns').columns(['state', 'id']).execute();

  await db.schema
    .createTable('firmware_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('firmware_campaigns.id'))
    .addColumn('wave', 'integer', (c) => c.notNull())
    .addColumn('target_kind', 'text', (c) => c.notNull())
    // Null for the edge agent's own job.
    .addColumn('device_id', 'text')
    .addColumn('edge_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    // Drawn at creation: notBefore = the wave's start + this.
    .addColumn('jitter_ms', 'bigint', (c) => c.notNull())
    .addColumn('released_at', 'bigint')
    .addColumn('not_before', 'bigint')
    .addColumn('bytes', 'bigint')
    .addColumn('reason_code', 'text')
    .addColumn('reason_message', 'text')
    .addColumn('running_version', 'text')
    .addColumn('reported_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('firmware_jobs_campaign_idx').on('firmware_jobs').columns(['campaign_id', 'wave', 'state']).execute();
  await db.schema.createIndex('firmware_jobs_edge_idx').on('firmware_jobs').columns(['edge_id', 'state']).execute();

  // What an edge's job list looks like changed (a release, a pause, a job done): its long-polls wake.
  await db.schema
    .createTable('firmware_edges')
    .addColumn('edge_id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('changed_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['firmware_edges', 'firmware_jobs', 'firmware_campaigns', 'firmware_chunks', 'firmware_artifact_profiles', 'firmware_artifacts', 'firmware_keys']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

// Alarm evidence (camera snapshots): the bytes once per SHA-256 (content-addressed, so a retried
// upload stores nothing new), and the links from an edge's alarm to them. A link is keyed by the
// edge's own alarm id — what the edge knows — so it may arrive before or after the alarm itself;
// readers join it to `alarms` (and through them to events and their town) when they look.
// The bytes are BLOB on SQLite and BYTEA on PostgreSQL; everything else is portable.
import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('evidence_blobs')
    .addColumn('sha256', 'text', (c) => c.primaryKey())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('data', isPostgres(db) ? 'bytea' : 'blob', (c) => c.notNull())
    // The edge that uploaded it first (a picture is only ever linked to that edge's alarms).
    .addColumn('edge_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('alarm_evidence')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('edge_id', 'text', (c) => c.notNull())
    // The edge's alarm id (alarms.alarm_id), not the cloud's.
    .addColumn('alarm_id', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('camera_id', 'text', (c) => c.notNull())
    .addColumn('taken_at', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('alarm_evidence_link_uq', ['edge_id', 'alarm_id', 'sha256'])
    .execute();
  await db.schema.createIndex('alarm_evidence_sha_idx').on('alarm_evidence').column('sha256').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('alarm_evidence').execute();
  await db.schema.dropTable('evidence_blobs').execute();
}

// The event feed: every notification (opened, updated, cleared, closed) as a row with a database
// sequence number. It is what makes SSE resumable (Last-Event-ID = seq), what webhooks deliver from,
// and how several cloud instances on one database tell each other's clients the same story in the
// same order: each tails the table.
import type { Kysely } from 'kysely';
import { isPostgres } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  await db.schema
    .createTable('event_feed')
    .addColumn('seq', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('town_id', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('event_feed_at_idx').on('event_feed').column('at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('event_feed').ifExists().execute();
}

// The governance loop on the event row: who holds it, when each step happened (the statistics'
// mean time to accept and to resolve read these), how often supervision escalated it. One column
// per ALTER: SQLite adds one at a time.
import type { Kysely } from 'kysely';

const BIGINT_COLUMNS = ['accepted_at', 'dispatched_at', 'resolved_at', 'closed_at', 'escalated_at'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('events').addColumn('assignee_kind', 'text').execute();
  await db.schema.alterTable('events').addColumn('assignee_id', 'text').execute();
  for (const c of BIGINT_COLUMNS) await db.schema.alterTable('events').addColumn(c, 'bigint').execute();
  await db.schema.alterTable('events').addColumn('escalations', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.createIndex('events_status_idx').on('events').columns(['status', 'deadline_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_status_idx').ifExists().execute();
  for (const c of ['escalations', ...BIGINT_COLUMNS, 'assignee_id', 'assignee_kind']) await db.schema.alterTable('events').dropColumn(c).execute();
}

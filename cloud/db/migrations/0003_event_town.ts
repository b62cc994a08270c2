// The town an event happened in, fixed when it opens (like its grid): redrawn boundaries don't move
// past events, and "a town's events" and per-town statistics are one indexed column away.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('events').addColumn('town_id', 'text').execute();
  await db.schema.createIndex('events_town_idx').on('events').columns(['town_id', 'opened_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('events_town_idx').ifExists().execute();
  await db.schema.alterTable('events').dropColumn('town_id').execute();
}

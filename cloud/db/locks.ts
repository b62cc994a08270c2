// Transaction-scoped locks on names, for the races PostgreSQL lets happen and SQLite does not (its
// write transactions run one at a time).
import { sql, type Kysely } from 'kysely';
import { isPostgres } from './dialect.js';
import type { Database } from './schema.js';

/** The first key of pg_advisory_xact_lock(int4, int4): what kind of thing is locked. */
export const LOCK_SPACE = {
  /** One alarm of one edge, while its transitions are applied. */
  alarm: 0x67730001,
  /** The event feed, while a message is appended: sequence order = commit order. */
  feed: 0x67730002,
} as const;

/**
 * PostgreSQL: takes transaction-level advisory locks on `keys`, released at commit or rollback, in
 * one stable order so two transactions never wait on each other crosswise. Keys are hashed together
 * with the current schema, so deployments sharing one database do not block each other (a hash
 * collision only makes two unrelated keys wait for each other). SQLite: nothing to do.
 */
export async function lockKeys(trx: Kysely<Database>, space: number, keys: readonly string[]): Promise<void> {
  if (keys.length === 0 || !isPostgres(trx)) return;
  await sql`
    select pg_advisory_xact_lock(${sql.lit(space)}, h)
    from (select distinct hashtext(current_schema() || ' ' || k) as h from unnest(${[...new Set(keys)]}::text[]) as k order by h) as s`.execute(trx);
}

/** The NOTIFY channel of the event feed: "new rows, look". */
export const FEED_CHANNEL = 'gridsense_feed';

/**
 * Call in the transaction that appends to event_feed, right before the INSERT. PostgreSQL hands out
 * sequence numbers at INSERT but makes rows visible at COMMIT, so without this a reader could see
 * seq 11 before seq 10 commits, move past 10 and never deliver it; holding one lock from the INSERT
 * to the COMMIT makes commit order sequence order. It also queues a NOTIFY, sent at commit, that
 * wakes the other instances' feeds at once. SQLite: nothing to do (one writer at a time).
 */
export async function beforeFeedAppend(trx: Kysely<Database>): Promise<void> {
  if (!isPostgres(trx)) return;
  await lockKeys(trx, LOCK_SPACE.feed, ['event_feed']);
  await sql`select pg_notify(${FEED_CHANNEL}, current_schema())`.execute(trx);
}

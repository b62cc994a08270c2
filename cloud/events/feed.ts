// Appending to the event feed inside the transaction that changed the events: the notification is
// committed with the change or not at all, so a crash between the two cannot lose a webhook or leave
// an SSE client behind, and the write shares the transaction's one fsync.
import type { Kysely } from 'kysely';
import { beforeFeedAppend } from '../db/locks.js';
import type { Database } from '../db/schema.js';
import type { BusMessageType } from './bus.js';
import type { EventPolicy } from './policy.js';
import { getEventsByIds } from './repo.js';

export interface FeedEntry {
  eventId: string;
  type: BusMessageType;
}

/** Rows in `entries` order, each carrying the event as it stands at the end of the transaction. */
export async function appendToFeed(trx: Kysely<Database>, policy: EventPolicy, entries: readonly FeedEntry[], at: number): Promise<void> {
  if (entries.length === 0) return;
  const events = await getEventsByIds(trx, policy, [...new Set(entries.map((e) => e.eventId))]);
  const rows = entries.flatMap(({ eventId, type }) => {
    const e = events.get(eventId);
    return e ? [{ type, event_id: e.id, town_id: e.townId, at, payload: JSON.stringify(e) }] : [];
  });
  if (rows.length === 0) return;
  await beforeFeedAppend(trx);
  await trx.insertInto('event_feed').values(rows).execute();
}

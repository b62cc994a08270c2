// Live event notifications, durable: publishing appends to the event_feed table and listeners hear
// of rows in sequence order. Every instance of the cloud tails the same table, so an event opened
// through instance A reaches an SSE client of instance B (within `pollMs`, or at once where the
// database can notify), a reconnecting client resumes from its Last-Event-ID, and webhooks deliver
// from the same rows. Publishing happens after the writing transaction commits, so a listener never
// hears of a change that was rolled back.
import type { Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import { beforeFeedAppend, FEED_CHANNEL } from '../db/locks.js';
import type { OpenDatabase, Unlisten } from '../db/open.js';
import type { Database } from '../db/schema.js';
import type { EventJson } from './schemas.js';

export type BusMessageType = 'event.opened' | 'event.updated' | 'event.cleared' | 'event.closed';
export const BUS_MESSAGE_TYPES: readonly BusMessageType[] = ['event.opened', 'event.updated', 'event.cleared', 'event.closed'];

export interface BusMessage {
  /** The feed's sequence number; the SSE `id:`. */
  id: number;
  type: BusMessageType;
  event: EventJson;
}

export type BusListener = (m: BusMessage) => void;

export interface EventBus {
  publish(type: BusMessageType, event: EventJson): Promise<void>;
  /** Delivers rows already in the feed (written inside the transaction that made the change). */
  wake(): Promise<void>;
  /** Several at once, in order: one write (one fsync), one delivery round. */
  publishAll(messages: ReadonlyArray<{ type: BusMessageType; event: EventJson }>): Promise<void>;
  /** Returns the unsubscribe function. Listeners hear messages published after they subscribed. */
  subscribe(listener: BusListener): () => void;
  /** Messages after `afterId`, oldest first (at most `limit`): what a reconnecting client missed. */
  since(afterId: number, limit: number): Promise<BusMessage[]>;
  close(): Promise<void>;
}

export interface FeedBusOptions {
  db: Kysely<Database>;
  clock: Clock;
  /** How often to look for rows other instances wrote (ms); 0: only on local publishes. */
  pollMs: number;
  /** Rows older than this are pruned (ms); a client gone longer re-reads GET /events. */
  retentionMs: number;
  onListenerError?: (err: unknown) => void;
  onPollError?: (err: unknown) => void;
  /** PostgreSQL: hear other instances' appends at once (NOTIFY); used when `pollMs` > 0, polling stays the safety net. */
  listen?: OpenDatabase['listen'];
}

const BATCH = 500;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Listeners are a plain set rather than an EventEmitter so one failing listener (a broken SSE
 * socket) cannot stop the others, and no max-listener warning fires at scale.
 */
export class FeedBus implements EventBus {
  private readonly listeners = new Set<BusListener>();
  private lastSeq = 0;
  private pumping?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private lastPrune = 0;
  private closed = false;
  private unlisten?: Unlisten;

  private constructor(private readonly o: FeedBusOptions) {}

  /** Starts at the feed's end: listeners hear what is published from now on. */
  static async open(o: FeedBusOptions): Promise<FeedBus> {
    const bus = new FeedBus(o);
    const row = await o.db.selectFrom('event_feed').select((eb) => eb.fn.max('seq').as('max')).executeTakeFirst();
    bus.lastSeq = Number(row?.max ?? 0);
    if (o.pollMs > 0) {
      bus.timer = setInterval(() => void bus.pump().catch((err: unknown) => o.onPollError?.(err)), o.pollMs);
      bus.timer.unref();
      if (o.listen) {
        try {
          bus.unlisten = await o.listen(FEED_CHANNEL, () => void bus.pump().catch((err: unknown) => o.onPollError?.(err)), (err) => o.onPollError?.(err));
        } catch (err) {
          clearInterval(bus.timer);
          throw err;
        }
      }
    }
    return bus;
  }

  publish(type: BusMessageType, event: EventJson): Promise<void> {
    return this.publishAll([{ type, event }]);
  }

  async publishAll(messages: ReadonlyArray<{ type: BusMessageType; event: EventJson }>): Promise<void> {
    if (messages.length === 0) return;
    const at = this.o.clock.now();
    // One statement: the rows get consecutive sequence numbers in this order.
    await this.o.db.transaction().execute(async (trx) => {
      await beforeFeedAppend(trx);
      await trx
        .insertInto('event_feed')
        .values(messages.map(({ type, event }) => ({ type, event_id: event.id, town_id: event.townId, at, payload: JSON.stringify(event) })))
        .execute();
    });
    await this.pump();
  }

  wake(): Promise<void> {
    return this.pump();
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async since(afterId: number, limit: number): Promise<BusMessage[]> {
    const rows = await this.o.db.selectFrom('event_feed').selectAll().where('seq', '>', afterId).orderBy('seq').limit(limit).execute();
    return rows.map(toMessage);
  }

  /** The newest sequence number this instance has delivered to its listeners. */
  get position(): number {
    return this.lastSeq;
  }

  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.();
    this.listeners.clear();
    await this.pumping?.catch(() => undefined);
  }

  /**
   * Delivers new rows in order. One pump at a time; a publish that arrives while one runs asks for
   * another round, so no row waits for the next poll.
   */
  pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            if (this.closed) return;
            const rows = await this.o.db.selectFrom('event_feed').selectAll().where('seq', '>', this.lastSeq).orderBy('seq').limit(BATCH).execute();
            for (const r of rows) {
              this.lastSeq = Number(r.seq);
              this.deliver(toMessage(r));
            }
            if (rows.length < BATCH) break;
          }
        } while (this.again);
        await this.prune();
      } finally {
        this.pumping = undefined;
      }
    })();
    return this.pumping;
  }

  private deliver(m: BusMessage): void {
    for (const l of [...this.listeners]) {
      try {
        l(m);
      } catch (err) {
        this.o.onListenerError?.(err);
      }
    }
  }

  private async prune(): Promise<void> {
    const now = this.o.clock.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await this.o.db.deleteFrom('event_feed').where('at', '<', now - this.o.retentionMs).execute();
  }
}

function toMessage(r: { seq: number | string; type: string; payload: string }): BusMessage {
  return { id: Number(r.seq), type: r.type as BusMessageType, event: JSON.parse(r.payload) as EventJson };
}

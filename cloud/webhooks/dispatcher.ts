// Webhook delivery: every feed message is enqueued for the subscriptions that want it (type, town),
// and due deliveries are sent, signed, with exponential backoff after a failure and a dead letter after
// `maxAttempts`. Deliveries live in the database, so a restart or a second instance loses none and
// sends none twice at once (a delivery is claimed with a compare-and-set on `locked_until`).
import type { Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import type { Database } from '../db/schema.js';
import type { BusMessage, EventBus } from '../events/bus.js';
import { sign } from './signature.js';

export interface DispatcherOptions {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  bus: EventBus;
  fetch?: typeof fetch;
  /** How often to look for due deliveries (ms); 0: only when asked (`runOnce`), as tests do. */
  everyMs: number;
  maxAttempts?: number;
  /** First retry after this, doubling, capped at `capMs`. */
  baseMs?: number;
  capMs?: number;
  timeoutMs?: number;
  random?: () => number;
  log: { warn(o: object, msg: string): void; error(o: object, msg: string): void };
}

const CLAIM_MS = 60_000;
const BATCH = 20;

export class WebhookDispatcher {
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private enqueueing: Promise<void> = Promise.resolve();

  constructor(private readonly o: DispatcherOptions) {}

  start(): void {
    this.unsubscribe = this.o.bus.subscribe((m) => {
      this.enqueueing = this.enqueueing.then(() => this.enqueue(m)).catch((err: unknown) => this.o.log.error({ err }, 'webhook enqueue failed'));
    });
    if (this.o.everyMs > 0) {
      this.timer = setInterval(() => void this.runOnce().catch((err: unknown) => this.o.log.error({ err }, 'webhook run failed')), this.o.everyMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    await this.enqueueing;
    await this.running?.catch(() => undefined);
  }

  /** Waits until every message heard so far is enqueued (tests; shutdown). */
  settled(): Promise<void> {
    return this.enqueueing;
  }

  async enqueue(m: BusMessage): Promise<void> {
    const subs = await this.o.db.selectFrom('webhook_subscriptions').selectAll().where('disabled_at', 'is', null).execute();
    const now = this.o.clock.now();
    for (const s of subs) {
      const types = JSON.parse(s.types) as string[];
      if (!types.includes(m.type)) continue;
      if (s.town_id !== null && m.event.townId !== s.town_id) continue;
      const id = this.o.newId();
      const payload = JSON.stringify({ id, type: m.type, seq: m.id, event: m.event });
      await this.o.db
        .insertInto('webhook_deliveries')
        .values({ id, subscription_id: s.id, feed_seq: m.id, type: m.type, payload, status: 'pending', attempts: 0, next_attempt_at: now, locked_until: null, last_error: null, last_status: null, created_at: now, delivered_at: null })
        .onConflict((oc) => oc.columns(['subscription_id', 'feed_seq']).doNothing())
        .execute();
    }
  }

  /** Sends what is due now; returns how many were attempted. One run at a time per instance. */
  runOnce(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    await this.enqueueing;
    let attempted = 0;
    for (;;) {
      const now = this.o.clock.now();
      const due = await this.o.db
        .selectFrom('webhook_deliveries')
        .innerJoin('webhook_subscriptions', 'webhook_subscriptions.id', 'webhook_deliveries.subscription_id')
        .select(['webhook_deliveries.id', 'webhook_deliveries.payload', 'webhook_deliveries.attempts', 'webhook_deliveries.type', 'webhook_subscriptions.url', 'webhook_subscriptions.secret'])
        .where('webhook_deliveries.status', '=', 'pending')
        .where('webhook_deliveries.next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('webhook_deliveries.locked_until', 'is', null), eb('webhook_deliveries.locked_until', '<', now)]))
        .orderBy('webhook_deliveries.next_attempt_at')
        .orderBy('webhook_deliveries.id')
        .limit(BATCH)
        .execute();
      if (due.length === 0) return attempted;
      for (const d of due) {
        if (!(await this.claim(d.id, now))) continue;
        attempted++;
        await this.attempt(d);
      }
      if (due.length < BATCH) return attempted;
    }
  }

  private async claim(id: string, now: number): Promise<boolean> {
    const r = await this.o.db
      .updateTable('webhook_deliveries')
      .set({ locked_until: now + CLAIM_MS })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  private async attempt(d: { id: string; payload: string; attempts: number; type: string; url: string; secret: string }): Promise<void> {
    const doFetch = this.o.fetch ?? fetch;
    const sentAt = this.o.clock.now();
    let status: number | null = null;
    let error: string;
    try {
      const res = await doFetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'gridsense-webhooks',
          'x-gridsense-event': d.type,
          'x-gridsense-delivery': d.id,
          'x-gridsense-signature': sign(d.secret, d.payload, Math.floor(sentAt / 1000)),
        },
        body: d.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        await this.o.db.updateTable('webhook_deliveries').set({ status: 'delivered', attempts: d.attempts + 1, delivered_at: this.o.clock.now(), last_status: status, last_error: null, locked_until: null }).where('id', '=', d.id).execute();
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    }
    const attempts = d.attempts + 1;
    const max = this.o.maxAttempts ?? 8;
    const dead = attempts >= max;
    const base = this.o.baseMs ?? 10_000;
    const ceiling = Math.min(this.o.capMs ?? 3_600_000, base * 2 ** (attempts - 1));
    // Half fixed, half jitter: retries spread out but never come sooner than half the step.
    const delay = Math.floor(ceiling / 2 + (this.o.random ?? Math.random)() * (ceiling / 2));
    await this.o.db
      .updateTable('webhook_deliveries')
      .set({ status: dead ? 'dead' : 'pending', attempts, next_attempt_at: this.o.clock.now() + delay, last_status: status, last_error: error.slice(0, 500), locked_until: null })
      .where('id', '=', d.id)
      .execute();
    this.o.log.warn({ delivery: d.id, url: d.url, attempts, error, dead }, dead ? 'webhook delivery dead-lettered' : 'webhook delivery failed; will retry');
  }
}

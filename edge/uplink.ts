// Drains the outbox to the cloud, in order, never skipping ahead: alarm transitions to POST
// {cloud}/api/v1/alarms, telemetry summaries and gap records to POST {cloud}/api/v1/telemetry/summaries,
// with the edge token. The outbox hands out alarms first; a batch is the leading run of one kind. The
// cloud stores each (alarmId, seq) — and each summary and gap — once, so retrying a batch whose answer
// was lost is safe: at-least-once here, exactly-once there.
//   pacing           → at most `replayRatePerS` entries a second while a backlog drains (full batches
//                      back to back), so a long outage's replay does not flood the cloud
//   2xx              → ack the batch, go on
//   network/5xx/429  → back off (full jitter, 500 ms doubling to 60 s; Retry-After respected), retry
//   401/403          → log loudly; retry at the cap (someone may fix the token in the cloud)
//   400 validation   → bisect the batch to find the poison entry, dead-letter only it, deliver the rest
//   413              → bisect too (a batch too large for a proxy), never dead-lettering on size alone
//   other 4xx        → log loudly; retry at the cap (a misconfigured URL must not eat alarms)
import { systemClock, type Clock } from '../contracts/clock.js';
import { fullJitter, type BackoffPolicy } from './backoff.js';
import { errFields, type Logger } from './log.js';
import type { Outbox, OutboxEntry } from './outbox/outbox.js';
import type { SummaryBatch } from '../contracts/telemetry-summary.js';
import type { Random, Scheduler, TimerHandle } from './scheduler.js';

export const UPLINK_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 60_000 };
const VALIDATION_CODES = new Set(['GS_ERR_VALIDATION', 'GS_ERR_ALARM_INVALID']);

export interface UplinkOptions {
  url: string;
  token: string;
  batchSize: number;
  outbox: Outbox;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  clock?: Clock;
  backoff?: BackoffPolicy;
  /** Per-request limit, so a hung connection cannot hold the queue. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * Entries per second at most while a backlog drains (default: no limit). Batches are then at most
   * this size, and after a full batch the next waits its share of the second (clock + scheduler).
   */
  replayRatePerS?: number;
}

export interface UplinkStatus {
  /** Consecutive failed attempts (0 when the last one got through). */
  failures: number;
  sent: number;
  deadLettered: number;
  lastError?: string;
  lastSuccessAt?: number;
}

type Outcome =
  | { kind: 'ok' }
  | { kind: 'retry'; why: string; retryAfterMs?: number }
  /** The cloud refuses this edge or this URL: nothing to fix by retrying fast. */
  | { kind: 'refused'; why: string; hint: string }
  | { kind: 'split'; why: string; poison: boolean }
  | { kind: 'stopped' };

export class Uplink {
  private running = false;
  private loop?: Promise<void>;
  private timer?: TimerHandle;
  private wake?: () => void;
  private inFlight?: AbortController;
  /** While bisecting, batches are this size; back to batchSize once the failed batch is through. */
  private limit: number;
  /** The last seq of the batch that started a bisection. */
  private bisectUntil?: number;
  /** Replay pacing: no send before this time (clock ms). */
  private paceUntil = 0;
  private readonly st: UplinkStatus = { failures: 0, sent: 0, deadLettered: 0 };

  constructor(private readonly o: UplinkOptions) {
    this.limit = this.fullBatch();
  }

  private fullBatch(): number {
    return Math.max(1, Math.min(this.o.batchSize, this.o.replayRatePerS ?? Number.MAX_SAFE_INTEGER));
  }

  private now(): number {
    return (this.o.clock ?? systemClock).now();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** A new entry was put: send now if idle (a backoff in progress is not cut short). */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight?.abort();
    this.wake?.();
    await this.loop;
  }

  status(): UplinkStatus {
    return { ...this.st };
  }

  private async run(): Promise<void> {
    while (this.running) {
      let batch: OutboxEntry[];
      try {
        batch = this.o.outbox.peekBatch(this.limit);
      } catch (err) {
        this.o.logger.error(errFields(err), 'outbox unreadable');
        await this.sleep(this.backoff().capMs);
        continue;
      }
      if (batch.length === 0) {
        await this.idle();
        continue;
      }
      // One request carries one kind: alarms, or telemetry (summaries and gap records).
      const channel = channelOf(batch[0]!);
      const end = batch.findIndex((e) => channelOf(e) !== channel);
      if (end > 0) batch = batch.slice(0, end);
      const wait = this.paceUntil - this.now();
      if (wait > 0) {
        await this.sleep(wait);
        if (!this.running) break;
        continue; // peek again: alarms put meanwhile go first
      }
      const sentAt = this.now();
      const outcome = await this.send(batch);
      // A batch the cloud took is acked even when stop() came meanwhile: no needless resend.
      if (outcome.kind === 'ok') {
        this.delivered(batch, sentAt);
        continue;
      }
      if (!this.running || outcome.kind === 'stopped') break;
      switch (outcome.kind) {
        case 'split':
          if (this.split(batch, outcome)) await this.sleep(this.backoff().capMs);
          break;
        case 'refused':
          this.fail(outcome.why);
          this.o.logger.error({ url: this.o.url, why: outcome.why, queued: this.o.outbox.depth() }, outcome.hint);
          await this.sleep(this.backoff().capMs);
          break;
        case 'retry': {
          this.fail(outcome.why);
          const delay = Math.max(fullJitter(this.st.failures - 1, this.backoff(), this.o.random), outcome.retryAfterMs ?? 0);
          this.o.logger.warn({ why: outcome.why, attempt: this.st.failures, retryInMs: delay, queued: this.o.outbox.depth() }, 'alarm upload failed; will retry');
          await this.sleep(delay);
          break;
        }
      }
    }
  }

  private delivered(batch: OutboxEntry[], sentAt: number): void {
    this.o.outbox.ack(batch.map((e) => e.seq));
    this.st.sent += batch.length;
    this.st.failures = 0;
    const now = this.now();
    this.st.lastSuccessAt = now;
    delete this.st.lastError;
    // A full batch means a backlog: the next one waits for this one's share of the rate, counted from
    // when this one was sent (a slow cloud already spent some of it).
    const rate = this.o.replayRatePerS;
    this.paceUntil = rate !== undefined && batch.length >= this.limit ? sentAt + Math.ceil((batch.length * 1000) / rate) : 0;
    if (this.bisectUntil !== undefined && batch.at(-1)!.seq >= this.bisectUntil) {
      this.bisectUntil = undefined;
      this.limit = this.fullBatch();
    }
  }

  private backoff(): BackoffPolicy {
    return this.o.backoff ?? UPLINK_BACKOFF;
  }

  private fail(why: string): void {
    this.st.failures++;
    this.st.lastError = why;
  }

  /**
   * Halve the batch until the poison entry stands alone, then dead-letter just it. Returns true when
   * there is nothing left to split and the caller should wait before trying again.
   */
  private split(batch: OutboxEntry[], outcome: { why: string; poison: boolean }): boolean {
    this.bisectUntil = Math.max(this.bisectUntil ?? 0, batch.at(-1)!.seq);
    if (batch.length > 1) {
      this.limit = Math.ceil(batch.length / 2);
      return false;
    }
    if (!outcome.poison) {
      // One entry too large for the path to the cloud: not the entry's fault, so it is not dropped.
      this.fail(outcome.why);
      this.o.logger.error({ key: batch[0]!.key, why: outcome.why }, 'a single alarm is too large for the uplink; retrying');
      return true;
    }
    const [poison] = batch;
    this.o.outbox.deadLetter(poison!.seq, outcome.why);
    this.st.deadLettered++;
    this.o.logger.error({ key: poison!.key, why: outcome.why, payload: poison!.payload }, 'cloud rejected an alarm as invalid; moved to the dead-letter table');
    // Found it: full batches again (a second poison entry starts a bisection of its own).
    this.bisectUntil = undefined;
    this.limit = this.fullBatch();
    return false;
  }

  private async send(batch: OutboxEntry[]): Promise<Outcome> {
    const ctl = new AbortController();
    this.inFlight = ctl;
    // An I/O deadline, not a wait of ours: a real timer, so tests driving the scheduler never trip it.
    const deadline = AbortSignal.timeout(this.o.requestTimeoutMs ?? 30_000);
    try {
      const alarms = channelOf(batch[0]!) === 'alarms';
      const res = await (this.o.fetch ?? fetch)(`${this.o.url}${alarms ? '/api/v1/alarms' : '/api/v1/telemetry/summaries'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.o.token}` },
        body: JSON.stringify(alarms ? { alarms: batch.map((e) => e.payload) } : telemetryBody(batch)),
        signal: AbortSignal.any([ctl.signal, deadline]),
      });
      const text = await res.text().catch(() => '');
      return classify(res.status, text, res.headers.get('retry-after'));
    } catch (err) {
      if (!this.running) return { kind: 'stopped' };
      return { kind: 'retry', why: deadline.aborted ? 'request timed out' : `network: ${causeOf(err)}` };
    } finally {
      this.inFlight = undefined;
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        this.wake = undefined;
        resolve();
      };
      if (!this.running) this.wake();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
        this.timer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.timer = this.o.scheduler.setTimeout(done, ms);
      // Only stop() may cut a backoff short; a nudge during one must not turn it into a hammering.
      this.wake = () => {
        if (!this.running) done();
      };
    });
  }
}

function channelOf(e: OutboxEntry): 'alarms' | 'telemetry' {
  return e.kind === 'alarm' ? 'alarms' : 'telemetry';
}

function telemetryBody(batch: OutboxEntry[]): SummaryBatch {
  const body: SummaryBatch = { summaries: [] };
  for (const e of batch) {
    if (e.kind === 'summary') body.summaries.push(e.payload);
    else if (e.kind === 'gap') (body.gaps ??= []).push(e.payload);
  }
  return body;
}

function classify(status: number, body: string, retryAfter: string | null): Outcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const err = parseError(body);
  const why = `HTTP ${status}${err.code ? ` ${err.code}` : ''}${err.message ? `: ${err.message}` : ''}`;
  if (status === 401 || status === 403) {
    return { kind: 'refused', why, hint: "THE CLOUD REFUSES THIS EDGE'S TOKEN: alarms are queued, not delivered, until cloud.token is fixed" };
  }
  if (status === 400 && err.code && VALIDATION_CODES.has(err.code)) return { kind: 'split', why, poison: true };
  if (status === 413) return { kind: 'split', why, poison: false };
  if (status === 429 || status >= 500) {
    const secs = retryAfter !== null ? Number(retryAfter) : Number.NaN;
    return { kind: 'retry', why, ...(Number.isFinite(secs) ? { retryAfterMs: secs * 1000 } : {}) };
  }
  return { kind: 'refused', why, hint: 'THE CLOUD REFUSES ALARM UPLOADS (check cloud.url): alarms are queued, not delivered' };
}

function parseError(body: string): { code?: string; message?: string } {
  try {
    const j = JSON.parse(body) as { code?: unknown; message?: unknown; details?: unknown };
    const details = Array.isArray(j.details) ? ` ${JSON.stringify(j.details).slice(0, 500)}` : '';
    return {
      ...(typeof j.code === 'string' ? { code: j.code } : {}),
      ...(typeof j.message === 'string' ? { message: `${j.message}${details}` } : {}),
    };
  } catch {
    return body ? { message: body.slice(0, 200) } : {};
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import type { TelemetryGap, TelemetrySummary } from '../../contracts/telemetry-summary.js';

/**
 * What the edge must deliver to the cloud, queued durably (DESIGN.md, abstraction 5): put it, the
 * uplink peeks a batch in order, and acks what the cloud took. `key` makes put idempotent: putting
 * a key that is already queued stores nothing new.
 *
 * Three kinds, in two priorities: alarm transitions and gap records (what the quota dropped) first,
 * telemetry summaries after them. Within a priority, put order. So alarms always leave before
 * summaries, and each device's alarms (and each device's summaries) keep their order.
 *
 * Disk quota (`maxBytes`, counted over the queued payloads): when a put goes over it, the oldest
 * telemetry summaries are dropped until the queue fits, and one gap record (kind `gap`: how many, the
 * periods they covered) is queued in the same transaction — an overflow is reported, never silent.
 * Alarms and gap records are never dropped: when they alone exceed the quota, the outbox keeps taking
 * alarms beyond it (stats().overQuota says so) and takes no summaries at all (each one put is dropped
 * at once and counted in a gap record). A disk that truly fills fails the put, and the agent then
 * rolls the rules back so the alarm is raised again, not lost.
 */
export type OutboxItem =
  | {
      /** Idempotency key; for an alarm transition `<alarmId>:<seq>`. */
      key: string;
      kind: 'alarm';
      payload: Envelope;
      /** ms since the epoch; the outbox's clock when left out. */
      createdAt?: number;
    }
  | { key: string; kind: 'summary'; payload: TelemetrySummary; createdAt?: number }
  | { key: string; kind: 'gap'; payload: TelemetryGap; createdAt?: number };

export type OutboxKind = OutboxItem['kind'];

/** An item as queued: its position (increases with every put, never reused) and time. */
export type OutboxEntry = OutboxItem & { seq: number; createdAt: number };

/** An entry the cloud refused for good (its validation said so), kept for a technician to inspect. */
export type DeadLetter = OutboxEntry & { failedAt: number; reason: string };

export interface OutboxStats {
  depth: number;
  alarms: number;
  summaries: number;
  gaps: number;
  /** Bytes of the queued payloads (what the quota counts). */
  bytes: number;
  maxBytes: number;
  /** Alarms alone hold more than the quota (no summary is queued now). */
  overQuota: boolean;
  /** createdAt of the oldest alarm still waiting for the cloud. */
  oldestAlarmAt?: number;
  /** Summaries dropped by the quota since this outbox was opened. */
  droppedSummaries: number;
}

export interface Outbox {
  /** Durable when it returns (for the SQLite outbox: on disk, fsynced). */
  put(item: OutboxItem): void;
  /** Several items in one transaction (one quota check, at most one gap record). */
  putAll(items: OutboxItem[]): void;
  /** The first `n` entries (alarms and gaps before summaries, put order within each); does not remove them. */
  peekBatch(n: number): OutboxEntry[];
  /** Removes delivered entries; unknown seqs are ignored (an ack may be retried). */
  ack(seqs: number[]): void;
  /** Moves one entry out of the queue into the dead-letter store. */
  deadLetter(seq: number, reason: string): void;
  deadLetters(): DeadLetter[];
  depth(): number;
  stats(): OutboxStats;
  close(): void;
}

export interface OutboxOptions {
  /** Quota in bytes of queued payloads (default: none). */
  maxBytes?: number;
}

/** Alarms and gap records go first (0), summaries after (1). */
export function priorityOf(kind: OutboxKind): number {
  return kind === 'summary' ? 1 : 0;
}

export function alarmKey(p: Pick<Envelope, 'alarmId' | 'seq'>): string {
  return `${p.alarmId}:${p.seq}`;
}

/** What the quota counts for one entry: its payload as stored, and its key. */
export function entrySize(key: string, payloadJson: string): number {
  return Buffer.byteLength(payloadJson) + Buffer.byteLength(key);
}

const GAP_RESERVE = 256;

/**
 * The quota's choice: the oldest summaries (in queue order) to drop so that `bytes` fits `maxBytes`,
 * all of them if that is not enough, and the gap record describing them.
 */
export function planOverflow(
  summaries: Iterable<{ seq: number; size: number; payload: TelemetrySummary }>,
  bytes: number,
  maxBytes: number,
  now: number,
): { drop: number[]; freed: number; gap?: TelemetryGap } {
  // Room for the gap record itself, so adding it does not tip the queue back over.
  const target = maxBytes - GAP_RESERVE;
  const drop: number[] = [];
  let freed = 0;
  let from = Number.POSITIVE_INFINITY;
  let to = 0;
  for (const s of summaries) {
    if (bytes - freed <= target) break;
    drop.push(s.seq);
    freed += s.size;
    from = Math.min(from, s.payload.from);
    to = Math.max(to, s.payload.to);
  }
  if (drop.length === 0) return { drop, freed };
  return { drop, freed, gap: { id: `gap-${now}-${drop[0]}`, dropped: drop.length, from, to, at: now, maxBytes } };
}

import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';

/**
 * What the edge must deliver to the cloud, queued durably (DESIGN.md, abstraction 5): put it, the
 * uplink peeks a batch in order, and acks what the cloud took. `key` makes put idempotent: putting
 * a key that is already queued stores nothing new.
 */
export interface OutboxItem {
  /** Idempotency key; for an alarm transition `<alarmId>:<seq>`. */
  key: string;
  kind: 'alarm';
  payload: Envelope;
  /** ms since the epoch; the outbox's clock when left out. */
  createdAt?: number;
}

export interface OutboxEntry {
  /** Position in the queue; increases with every put and is never reused. */
  seq: number;
  key: string;
  kind: 'alarm';
  payload: Envelope;
  createdAt: number;
}

/** An entry the cloud refused for good (its validation said so), kept for a technician to inspect. */
export interface DeadLetter extends OutboxEntry {
  failedAt: number;
  reason: string;
}

export interface Outbox {
  /** Durable when it returns (for the SQLite outbox: on disk, fsynced). */
  put(item: OutboxItem): void;
  /** The oldest `n` entries, in order; does not remove them. */
  peekBatch(n: number): OutboxEntry[];
  /** Removes delivered entries; unknown seqs are ignored (an ack may be retried). */
  ack(seqs: number[]): void;
  /** Moves one entry out of the queue into the dead-letter store. */
  deadLetter(seq: number, reason: string): void;
  deadLetters(): DeadLetter[];
  depth(): number;
  close(): void;
}

export function alarmKey(p: Pick<Envelope, 'alarmId' | 'seq'>): string {
  return `${p.alarmId}:${p.seq}`;
}

import { systemClock, type Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import type { DeadLetter, Outbox, OutboxEntry, OutboxItem } from './outbox.js';

/** The in-memory outbox: same contract, no durability — for tests and for an edge without a disk. */
export class MemoryOutbox implements Outbox {
  private readonly entries: OutboxEntry[] = [];
  private readonly dead: DeadLetter[] = [];
  private nextSeq = 1;
  private closed = false;

  constructor(private readonly clock: Clock = systemClock) {}

  put(item: OutboxItem): void {
    this.assertOpen();
    if (this.entries.some((e) => e.key === item.key)) return;
    this.entries.push({
      seq: this.nextSeq++,
      key: item.key,
      kind: item.kind,
      payload: structuredClone(item.payload),
      createdAt: item.createdAt ?? this.clock.now(),
    });
  }

  peekBatch(n: number): OutboxEntry[] {
    this.assertOpen();
    return this.entries.slice(0, Math.max(0, n)).map((e) => structuredClone(e));
  }

  ack(seqs: number[]): void {
    this.assertOpen();
    const gone = new Set(seqs);
    for (let i = this.entries.length - 1; i >= 0; i--) if (gone.has(this.entries[i]!.seq)) this.entries.splice(i, 1);
  }

  deadLetter(seq: number, reason: string): void {
    this.assertOpen();
    const i = this.entries.findIndex((e) => e.seq === seq);
    if (i < 0) return;
    const [e] = this.entries.splice(i, 1);
    this.dead.push({ ...e!, failedAt: this.clock.now(), reason });
  }

  deadLetters(): DeadLetter[] {
    return this.dead.map((d) => structuredClone(d));
  }

  depth(): number {
    return this.entries.length;
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_OUTBOX_CLOSED');
  }
}

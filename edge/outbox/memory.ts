import { systemClock, type Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import { entrySize, planOverflow, priorityOf, type DeadLetter, type Outbox, type OutboxEntry, type OutboxItem, type OutboxOptions, type OutboxStats } from './outbox.js';

type Stored = OutboxEntry & { size: number };

/** The in-memory outbox: same contract, no durability — for tests and for an edge without a disk. */
export class MemoryOutbox implements Outbox {
  /** In peek order: priority, then seq. */
  private entries: Stored[] = [];
  private readonly dead: DeadLetter[] = [];
  private nextSeq = 1;
  private closed = false;
  private bytes = 0;
  private droppedSummaries = 0;
  private readonly maxBytes: number;

  constructor(
    private readonly clock: Clock = systemClock,
    opts: OutboxOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  }

  put(item: OutboxItem): void {
    this.putAll([item]);
  }

  putAll(items: OutboxItem[]): void {
    this.assertOpen();
    for (const item of items) this.insert(item);
    this.enforceQuota();
  }

  peekBatch(n: number): OutboxEntry[] {
    this.assertOpen();
    return this.entries.slice(0, Math.max(0, n)).map(({ size: _size, ...e }) => structuredClone(e) as OutboxEntry);
  }

  ack(seqs: number[]): void {
    this.assertOpen();
    const gone = new Set(seqs);
    this.entries = this.entries.filter((e) => {
      if (!gone.has(e.seq)) return true;
      this.bytes -= e.size;
      return false;
    });
  }

  deadLetter(seq: number, reason: string): void {
    this.assertOpen();
    const i = this.entries.findIndex((e) => e.seq === seq);
    if (i < 0) return;
    const [{ size, ...e }] = this.entries.splice(i, 1) as [Stored];
    this.bytes -= size;
    this.dead.push({ ...(e as OutboxEntry), failedAt: this.clock.now(), reason });
  }

  deadLetters(): DeadLetter[] {
    return this.dead.map((d) => structuredClone(d));
  }

  depth(): number {
    return this.entries.length;
  }

  stats(): OutboxStats {
    const alarms = this.entries.filter((e) => e.kind === 'alarm');
    const oldest = alarms.reduce<number | undefined>((m, e) => (m === undefined || e.createdAt < m ? e.createdAt : m), undefined);
    return {
      depth: this.entries.length,
      alarms: alarms.length,
      summaries: this.entries.filter((e) => e.kind === 'summary').length,
      gaps: this.entries.filter((e) => e.kind === 'gap').length,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      overQuota: this.bytes > this.maxBytes,
      ...(oldest !== undefined ? { oldestAlarmAt: oldest } : {}),
      droppedSummaries: this.droppedSummaries,
    };
  }

  close(): void {
    this.closed = true;
  }

  private insert(item: OutboxItem): void {
    if (this.entries.some((e) => e.key === item.key)) return;
    const payload = structuredClone(item.payload);
    const e = { seq: this.nextSeq++, key: item.key, kind: item.kind, payload, createdAt: item.createdAt ?? this.clock.now(), size: entrySize(item.key, JSON.stringify(payload)) } as Stored;
    const p = priorityOf(e.kind);
    // After every entry of the same or a higher priority (seqs only grow, so that is put order).
    let at = this.entries.length;
    while (at > 0 && priorityOf(this.entries[at - 1]!.kind) > p) at--;
    this.entries.splice(at, 0, e);
    this.bytes += e.size;
  }

  private enforceQuota(): void {
    if (this.bytes <= this.maxBytes) return;
    const summaries = this.entries.filter((e): e is Stored & { kind: 'summary' } => e.kind === 'summary');
    const plan = planOverflow(summaries, this.bytes, this.maxBytes, this.clock.now());
    if (!plan.gap) return;
    const drop = new Set(plan.drop);
    this.entries = this.entries.filter((e) => !drop.has(e.seq));
    this.bytes -= plan.freed;
    this.droppedSummaries += plan.drop.length;
    this.insert({ key: plan.gap.id, kind: 'gap', payload: plan.gap, createdAt: plan.gap.at });
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_OUTBOX_CLOSED');
  }
}

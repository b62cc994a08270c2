// The buffering both telemetry stores share: batch by size and by interval, keep a bounded backlog
// while the store is unreachable (oldest dropped first, counted), retry with backoff, then catch up.
import { GsError } from '../../contracts/errors.js';
import type { Reading } from '../../contracts/reading.js';
import { fullJitter, type BackoffPolicy } from '../backoff.js';
import { errFields, type Logger } from '../log.js';
import type { Random, Scheduler, TimerHandle } from '../scheduler.js';

export interface WriteBufferOptions {
  batchSize: number;
  flushIntervalMs: number;
  maxBuffer: number;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  /** Writes one batch; throws when the store cannot take it. */
  sink: (batch: Reading[]) => Promise<void>;
  retry?: BackoffPolicy;
}

export class WriteBuffer {
  private buf: Reading[] = [];
  private timer?: TimerHandle;
  private flushing?: Promise<void>;
  private failures = 0;
  private running = false;
  /** Readings dropped because the backlog was full. */
  dropped = 0;

  constructor(private readonly o: WriteBufferOptions) {}

  get size(): number {
    return this.buf.length;
  }

  start(): void {
    this.running = true;
    this.arm(this.o.flushIntervalMs);
  }

  push(readings: Reading[]): void {
    this.buf.push(...readings);
    const over = this.buf.length - this.o.maxBuffer;
    if (over > 0) {
      this.buf.splice(0, over);
      if (this.dropped === 0) this.o.logger.warn({ maxBuffer: this.o.maxBuffer }, 'telemetry backlog full: dropping the oldest readings');
      this.dropped += over;
    }
    // A full batch goes out now, unless the store is failing (then the retry timer decides).
    if (this.running && this.failures === 0 && this.buf.length >= this.o.batchSize && !this.flushing) void this.flush().catch(() => undefined);
  }

  /** Writes everything buffered, batch by batch; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Last attempt to write the backlog, then no more timers. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing?.catch(() => undefined);
    await this.flush().catch((err: unknown) => this.o.logger.warn({ ...errFields(err), unwritten: this.buf.length }, 'telemetry not written at stop'));
  }

  private async drain(): Promise<void> {
    while (this.buf.length > 0) {
      const batch = this.buf.slice(0, this.o.batchSize);
      try {
        await this.o.sink(batch);
      } catch (err) {
        if (this.failures === 0) this.o.logger.warn({ ...errFields(err), backlog: this.buf.length }, 'telemetry store unreachable; buffering');
        this.failures++;
        this.arm(fullJitter(this.failures - 1, this.o.retry ?? { baseMs: 500, capMs: 30_000 }, this.o.random));
        throw new GsError('GS_ERR_TELEMETRY_WRITE', `telemetry write failed: ${err instanceof Error ? err.message : String(err)}`, [], { cause: err });
      }
      // The batch is written: take exactly it off the front (pushes during the write went to the back;
      // a backlog overflow meanwhile may have dropped some of it already).
      const written = new Set(batch);
      let n = 0;
      while (n < this.buf.length && written.has(this.buf[n]!)) n++;
      this.buf.splice(0, n);
      if (this.failures > 0) {
        this.o.logger.info({ backlog: this.buf.length, dropped: this.dropped }, 'telemetry store reachable again; catching up');
        this.failures = 0;
        this.arm(this.o.flushIntervalMs);
      }
    }
  }

  private arm(ms: number): void {
    if (!this.running) return;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = this.o.scheduler.setTimeout(() => {
      this.timer = undefined;
      this.flush()
        .catch(() => undefined)
        .finally(() => {
          if (this.failures === 0) this.arm(this.o.flushIntervalMs);
        });
    }, ms);
  }
}

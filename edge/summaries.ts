// Telemetry summaries for the cloud: each device point's numeric, good readings folded per period
// (aligned to the epoch: 08:00, 08:05, … for 5 minutes) into min/max/mean/last/count, and handed to the
// outbox once the period is over — at a lower priority than alarms. The county sees the shape of a
// town's history; the history itself stays in the town's telemetry store.
// Kept in memory: a restart loses the summary of the period in progress (the cloud then lacks that one
// period of that edge); a reading arriving after its period was sent is dropped with it (its key is
// the period's, and the outbox and the cloud keep the first).
import type { Clock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import { summaryKey, type TelemetrySummary } from '../contracts/telemetry-summary.js';
import type { Logger } from './log.js';
import { errFields } from './log.js';
import type { OutboxItem } from './outbox/outbox.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface SummariserOptions {
  everyMs: number;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  /** Takes the finished periods' summaries (one call per period end, all points together). */
  emit: (items: OutboxItem[]) => void;
}

interface Acc {
  deviceId: string;
  point: string;
  from: number;
  count: number;
  min: number;
  max: number;
  sum: number;
  last: number;
  lastTs: number;
  unit?: string;
}

export class Summariser {
  /** By device, point and period start. */
  private readonly acc = new Map<string, Acc>();
  private timer?: TimerHandle;

  constructor(private readonly o: SummariserOptions) {}

  start(): void {
    this.arm();
  }

  stop(): void {
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
  }

  observe(readings: Reading[]): void {
    for (const r of readings) {
      if (r.quality !== 'good' || typeof r.value !== 'number' || !Number.isFinite(r.value)) continue;
      const from = this.periodOf(r.ts);
      const key = `${r.deviceId}\u0000${r.point}\u0000${from}`;
      const a = this.acc.get(key);
      if (!a) {
        this.acc.set(key, { deviceId: r.deviceId, point: r.point, from, count: 1, min: r.value, max: r.value, sum: r.value, last: r.value, lastTs: r.ts, ...(r.unit !== undefined ? { unit: r.unit } : {}) });
        continue;
      }
      a.count++;
      a.min = Math.min(a.min, r.value);
      a.max = Math.max(a.max, r.value);
      a.sum += r.value;
      if (r.ts >= a.lastTs) {
        a.last = r.value;
        a.lastTs = r.ts;
      }
    }
  }

  /** Emits every period that ended at or before `now`; returns how many summaries. */
  due(now: number): number {
    const items: OutboxItem[] = [];
    for (const [key, a] of this.acc) {
      if (a.from + this.o.everyMs > now) continue;
      this.acc.delete(key);
      const s: TelemetrySummary = {
        deviceId: a.deviceId, point: a.point, from: a.from, to: a.from + this.o.everyMs, count: a.count,
        min: a.min, max: a.max, mean: a.sum / a.count, last: a.last, lastTs: a.lastTs, ...(a.unit !== undefined ? { unit: a.unit } : {}),
      };
      items.push({ key: summaryKey(s), kind: 'summary', payload: s, createdAt: now });
    }
    if (items.length > 0) {
      // Oldest period first, then device and point: the order the cloud receives them in.
      items.sort((x, y) => (x.payload as TelemetrySummary).from - (y.payload as TelemetrySummary).from || x.key.localeCompare(y.key));
      this.o.emit(items);
    }
    return items.length;
  }

  private periodOf(ts: number): number {
    return Math.floor(ts / this.o.everyMs) * this.o.everyMs;
  }

  private arm(): void {
    const now = this.o.clock.now();
    const next = this.periodOf(now) + this.o.everyMs;
    this.timer = this.o.scheduler.setTimeout(() => {
      try {
        this.due(this.o.clock.now());
      } catch (err) {
        // The outbox refused (disk full): these summaries are lost, the next period tries again.
        this.o.logger.error(errFields(err), 'telemetry summaries not queued');
      }
      this.arm();
    }, next - now);
  }
}

// Delivers queued job reports to the cloud in order, retrying with backoff until the cloud has them.
// The cloud takes the same state twice as one, so a report resent after a lost answer is harmless;
// a 409 means the cloud holds a later state (the campaign was aborted, the supervisor reported first)
// and the report is dropped.
import { fullJitter, type BackoffPolicy } from '../backoff.js';
import { errFields, type Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import type { FirmwareCloud } from './cloud.js';
import type { FirmwareStore } from './store.js';

const BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };

export interface ReporterOptions {
  store: FirmwareStore;
  cloud: FirmwareCloud;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
}

export class JobReporter {
  private running = false;
  private loop?: Promise<void>;
  private failures = 0;
  private wake?: () => void;
  private timer?: unknown;

  constructor(private readonly o: ReporterOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
  }

  /** New reports are queued: send them now (and cut a backoff short). */
  nudge(): void {
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const batch = this.o.store.peekReports(20);
      if (batch.length === 0) {
        await new Promise<void>((r) => (this.wake = r));
        continue;
      }
      try {
        for (const q of batch) {
          if (!this.running) return;
          const res = await this.o.cloud.report(q.jobId, q.report);
          if (res.outcome !== 'stored') {
            this.o.logger.warn({ jobId: q.jobId, state: q.report.state, status: res.status, body: res.body }, res.outcome === 'conflict' ? 'firmware report refused as an illegal move; dropped' : 'firmware report refused; dropped');
          }
          this.o.store.ackReport(q.seq);
          this.failures = 0;
        }
      } catch (err) {
        if (!this.running) return;
        if (this.failures === 0) this.o.logger.warn(errFields(err), 'firmware report not delivered; retrying');
        const ms = fullJitter(this.failures++, BACKOFF, this.o.random);
        await new Promise<void>((r) => {
          this.wake = r;
          this.timer = this.o.scheduler.setTimeout(() => this.nudge(), ms);
        });
      }
    }
  }
}

// Every `everyMs` the edge posts a Heartbeat (contracts/heartbeat.ts) to {cloud}/api/v1/edges/heartbeat
// with its token. A beat that fails is simply late: the next one carries the whole state again, so
// nothing is queued (alarms have the outbox; this is a status report).
import { readFileSync } from 'node:fs';
import type { Heartbeat } from '../contracts/heartbeat.js';
import { errFields, type Logger } from './log.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

export const EDGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface HeartbeatOptions {
  url: string;
  token: string;
  everyMs: number;
  scheduler: Scheduler;
  logger: Logger;
  report: () => Heartbeat;
  fetch?: typeof fetch;
}

export class HeartbeatSender {
  private timer?: TimerHandle;
  private running = false;
  private inFlight?: Promise<void>;
  /** Consecutive failed beats, for status and to log a failure once, not every minute. */
  failures = 0;
  lastSentAt?: number;

  constructor(private readonly o: HeartbeatOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.beat();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    await this.inFlight;
  }

  /** Sends one beat now (and the next `everyMs` later). */
  beat(): void {
    if (!this.running) return;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = this.o.scheduler.setTimeout(() => this.beat(), this.o.everyMs);
    if (this.inFlight) return;
    this.inFlight = this.send().finally(() => (this.inFlight = undefined));
  }

  private async send(): Promise<void> {
    const body = this.o.report();
    try {
      const res = await (this.o.fetch ?? fetch)(`${this.o.url}/api/v1/edges/heartbeat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.o.token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (this.failures > 0) this.o.logger.info({ after: this.failures }, 'heartbeats reach the cloud again');
      this.failures = 0;
      this.lastSentAt = body.sentAt;
    } catch (err) {
      if (this.failures === 0) this.o.logger.warn(errFields(err), 'heartbeat not delivered; the next one will carry the state');
      this.failures++;
    }
  }
}

// Long-polls the cloud for this edge's firmware jobs (GET /api/v1/edges/firmware/jobs?wait=<s>) and hands
// each list to `onJobs`. Same manners as the remote-configuration client: full-jitter backoff while the
// cloud is unreachable, one warning per outage, stop() cuts a poll or a backoff short. An ETag the
// cloud sends comes back as If-None-Match (304 = nothing changed); a poll the cloud answers at once is
// followed by a short pause, so a cloud that does not hold the request open is not hammered.
import { fullJitter, type BackoffPolicy } from '../backoff.js';
import { errFields, type Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import type { Clock } from '../../contracts/clock.js';
import type { FirmwareJob } from '../../contracts/firmware.js';
import type { FirmwareCloud } from './cloud.js';

const BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };

export interface JobsClientOptions {
  cloud: FirmwareCloud;
  scheduler: Scheduler;
  clock: Clock;
  random: Random;
  logger: Logger;
  onJobs: (jobs: FirmwareJob[]) => void | Promise<void>;
  /** Long-poll length asked of the cloud, seconds (default 30). */
  waitS?: number;
  /** Least time between the starts of two polls (default 2 s). */
  minIntervalMs?: number;
}

export class FirmwareJobsClient {
  private running = false;
  private loop?: Promise<void>;
  private abort?: AbortController;
  private failures = 0;
  private etag?: string;
  private sleeping?: { timer: unknown; wake: () => void };

  constructor(private readonly o: JobsClientOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort?.abort();
    this.sleeping?.wake();
    await this.loop;
  }

  /** Polls again now (e.g. a job just finished and a queued one may start). */
  poke(): void {
    this.sleeping?.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const began = this.o.clock.now();
      try {
        const list = await this.poll();
        this.failures = 0;
        if (list && this.running) await this.o.onJobs(list);
        const pause = (this.o.minIntervalMs ?? 2000) - (this.o.clock.now() - began);
        if (pause > 0 && this.running) await this.sleep(pause);
      } catch (err) {
        if (!this.running) return;
        if (this.failures === 0) this.o.logger.warn(errFields(err), 'firmware jobs not reachable; retrying');
        await this.sleep(fullJitter(this.failures++, BACKOFF, this.o.random));
      }
    }
  }

  private async poll(): Promise<FirmwareJob[] | undefined> {
    const waitS = this.o.waitS ?? 30;
    this.abort = new AbortController();
    const timeout = setTimeout(() => this.abort?.abort(), (waitS + 15) * 1000);
    try {
      const res = await this.o.cloud.listJobs(waitS, this.etag, this.abort.signal);
      if (!res) return undefined;
      this.etag = res.etag;
      return res.jobs;
    } finally {
      clearTimeout(timeout);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.o.scheduler.clearTimeout(timer);
        this.sleeping = undefined;
        resolve();
      };
      const timer = this.o.scheduler.setTimeout(wake, ms);
      this.sleeping = { timer, wake };
    });
  }
}

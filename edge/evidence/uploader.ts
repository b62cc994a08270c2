// Sends queued pictures to the cloud, oldest first: PUT {cloud}/api/v1/evidence/:sha256 (the bytes,
// content-addressed, so a retry stores nothing twice), then POST {cloud}/api/v1/alarms/:alarmId/evidence
// (the link, idempotent too). Only when both are acked does the picture leave the queue.
//   network / 5xx / 429 → back off (full jitter, 1 s doubling to 60 s) and retry
//   401 / 403 / other 4xx → log loudly, retry at the cap (a token fixed in the cloud lets them through)
//   400 GS_ERR_EVIDENCE_* or a file gone → the picture can never be accepted: dropped, logged with the code
import { fullJitter, type BackoffPolicy } from '../backoff.js';
import type { Logger } from '../log.js';
import type { Random, Scheduler, TimerHandle } from '../scheduler.js';
import type { EvidenceItem, EvidenceQueue } from './queue.js';

export interface EvidenceUploaderOptions {
  url: string;
  token: string;
  queue: EvidenceQueue;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  backoff?: BackoffPolicy;
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

type Outcome = { kind: 'ok' } | { kind: 'retry'; why: string; cap?: boolean } | { kind: 'drop'; why: string; code: string };

export class EvidenceUploader {
  private running = false;
  private loop?: Promise<void>;
  private timer?: TimerHandle;
  private wake?: () => void;
  private inFlight?: AbortController;
  private failures = 0;
  readonly stats = { sent: 0, dropped: 0 };

  constructor(private readonly o: EvidenceUploaderOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** A picture was queued: send now when idle. */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.inFlight?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const [item] = this.o.queue.peek(1);
      if (!item) {
        await this.pause(undefined);
        continue;
      }
      const outcome = await this.deliver(item);
      if (!this.running && outcome.kind !== 'ok') break;
      if (outcome.kind === 'ok') {
        this.o.queue.done(item);
        this.stats.sent++;
        this.failures = 0;
      } else if (outcome.kind === 'drop') {
        this.o.queue.done(item);
        this.stats.dropped++;
        this.o.logger.error({ code: outcome.code, alarmId: item.alarmId, cameraId: item.evidence.cameraId, sha256: item.evidence.sha256, why: outcome.why }, 'the cloud can never take this picture; dropped');
      } else {
        this.o.queue.attempted(item.seq);
        this.failures++;
        const policy = this.o.backoff ?? { baseMs: 1000, capMs: 60_000 };
        const delay = outcome.cap ? policy.capMs : fullJitter(this.failures - 1, policy, this.o.random);
        this.o.logger[outcome.cap ? 'error' : 'warn']({ why: outcome.why, attempt: this.failures, retryInMs: delay, queued: this.o.queue.depth() }, 'evidence upload failed; will retry');
        await this.pause(delay);
      }
    }
  }

  private async deliver(item: EvidenceItem): Promise<Outcome> {
    const bytes = this.o.queue.bytes(item.evidence.sha256);
    if (!bytes) return { kind: 'drop', why: 'the picture file is missing or damaged', code: 'GS_ERR_STATE_CORRUPT' };
    const base = this.o.url;
    const put = await this.request(`${base}/api/v1/evidence/${item.evidence.sha256}`, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: bytes });
    if (put.kind !== 'ok') return put;
    return this.request(`${base}/api/v1/alarms/${encodeURIComponent(item.alarmId)}/evidence`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ evidence: [item.evidence] }),
    });
  }

  private async request(url: string, init: { method: string; headers: Record<string, string>; body: string | Buffer }): Promise<Outcome> {
    const ctl = new AbortController();
    this.inFlight = ctl;
    const deadline = AbortSignal.timeout(this.o.requestTimeoutMs ?? 60_000);
    try {
      const res = await (this.o.fetch ?? fetch)(url, {
        method: init.method,
        headers: { ...init.headers, authorization: `Bearer ${this.o.token}` },
        body: init.body,
        signal: AbortSignal.any([ctl.signal, deadline]),
      });
      const text = await res.text().catch(() => '');
      if (res.ok) return { kind: 'ok' };
      const code = codeOf(text);
      const why = `${init.method} HTTP ${res.status}${code ? ` ${code}` : ''}`;
      if (res.status === 400 && code && /^GS_ERR_(EVIDENCE|VALIDATION)/.test(code)) return { kind: 'drop', why, code };
      if (res.status === 413) return { kind: 'drop', why, code: code ?? 'GS_ERR_BODY_TOO_LARGE' };
      if (res.status === 429 || res.status >= 500) return { kind: 'retry', why };
      return { kind: 'retry', why, cap: true };
    } catch (err) {
      return { kind: 'retry', why: deadline.aborted ? 'request timed out' : `network: ${causeOf(err)}` };
    } finally {
      this.inFlight = undefined;
    }
  }

  /** Waits `ms` (a backoff: only stop() cuts it short) or, without `ms`, until nudged. */
  private pause(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
        this.timer = undefined;
        this.wake = undefined;
        resolve();
      };
      if (ms !== undefined) this.timer = this.o.scheduler.setTimeout(done, ms);
      this.wake = () => {
        if (ms === undefined || !this.running) done();
      };
      if (!this.running) done();
    });
  }
}

function codeOf(body: string): string | undefined {
  try {
    const j = JSON.parse(body) as { code?: unknown };
    return typeof j.code === 'string' ? j.code : undefined;
  } catch {
    return undefined;
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

// The edge's side of firmware campaigns: it learns its jobs from the cloud, starts each when its time has
// come (notBefore, maintenance window, not paused, at most maxConcurrent at once), gets the image (signature
// checked before a byte is fetched, SHA-256 after), relays it to the device on the embedded broker — or
// hands it to the self-updater when the target is the edge itself — and reports every state change.
// Progress lives in edge.db, so an edge restarted mid-update picks its jobs up where they were.
// Constructing does nothing; start() starts, stop() clears every timer, session and request.
import type Database from 'better-sqlite3';
import type { Clock } from '../../contracts/clock.js';
import { GsError, isGsError } from '../../contracts/errors.js';
import { canMoveJob, FIRMWARE_TERMINAL_STATES, type FirmwareJob, type FirmwareJobReport, type FirmwareJobState } from '../../contracts/firmware.js';
import { DEFAULT_REQUEST_TIMEOUT_S, type OtaStatus } from '../../contracts/firmware-ota.js';
import { fullJitter } from '../backoff.js';
import type { DeviceConfig } from '../config.js';
import { resolveMqtt } from '../drivers/mqtt/connection.js';
import { errFields, type Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import { FirmwareCloud } from './cloud.js';
import { FirmwareJobFailure } from './failure.js';
import type { FirmwareSettings } from './config.js';
import { ImageStore, isPermanent } from './images.js';
import { FirmwareJobsClient } from './jobs-client.js';
import { OtaSession, type OtaBroker } from './relay.js';
import { JobReporter } from './reporter.js';
import type { SelfUpdater } from './self-update.js';
import { FirmwareStore, type LocalJob } from './store.js';
import { msUntilWindow } from './window.js';

export interface EdgeFirmwareOptions {
  dataDir: string;
  /** The edge's state database (edge.db): job progress and undelivered reports live there. */
  db: Database.Database;
  cloud: { url: string; token: string };
  settings: FirmwareSettings;
  /** The devices this edge runs now. */
  devices: () => readonly DeviceConfig[];
  /** The embedded MQTT broker once it listens; undefined while it does not run. */
  broker: () => Promise<OtaBroker | undefined>;
  /** Updates the edge agent itself; without it, jobs for the edge fail GS_ERR_FIRMWARE_UNSUPPORTED. */
  selfUpdate?: SelfUpdater;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  fetch?: typeof fetch;
  /** Long-poll length, seconds (default 30). */
  waitS?: number;
  /** Least time between two polls (default 2 s). */
  minIntervalMs?: number;
  /** The edge's UTC offset for maintenance windows (default: the system time zone). */
  utcOffsetMinutes?: number;
}

/** A job being worked on: its abort and the promise that settles when it is over here. */
interface Active {
  abort: AbortController;
  done: Promise<void>;
}

const RETRY = { baseMs: 2000, capMs: 120_000 };
const isTerminal = (s: FirmwareJobState) => FIRMWARE_TERMINAL_STATES.includes(s);

export class EdgeFirmware {
  private readonly store: FirmwareStore;
  private readonly cloud: FirmwareCloud;
  private readonly images: ImageStore;
  private readonly reporter: JobReporter;
  private readonly client: FirmwareJobsClient;
  private readonly active = new Map<string, Active>();
  /** The cloud's last list, by job id. */
  private listed = new Map<string, FirmwareJob>();
  private wakeTimer?: { at: number; handle: unknown };
  private running = false;
  private readonly log: Logger;

  constructor(private readonly o: EdgeFirmwareOptions) {
    this.log = o.logger;
    this.store = FirmwareStore.in(o.db);
    this.cloud = new FirmwareCloud({ ...o.cloud, ...(o.fetch ? { fetch: o.fetch } : {}) });
    this.images = new ImageStore({ dataDir: o.dataDir, cloud: this.cloud, trustedKeys: o.settings.trustedKeys, logger: o.logger });
    this.reporter = new JobReporter({ store: this.store, cloud: this.cloud, scheduler: o.scheduler, random: o.random, logger: o.logger });
    this.client = new FirmwareJobsClient({
      cloud: this.cloud, scheduler: o.scheduler, clock: o.clock, random: o.random, logger: o.logger,
      onJobs: (jobs) => this.onJobs(jobs),
      ...(o.waitS !== undefined ? { waitS: o.waitS } : {}),
      ...(o.minIntervalMs !== undefined ? { minIntervalMs: o.minIntervalMs } : {}),
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.reporter.start();
    // Jobs under way when the edge stopped carry on at once; the first poll says whether they still exist.
    for (const rec of this.store.all()) {
      if (!isTerminal(rec.state) && rec.startedAt !== undefined && !rec.handedOver) this.launch(rec);
    }
    this.client.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.wakeTimer) this.o.scheduler.clearTimeout(this.wakeTimer.handle);
    this.wakeTimer = undefined;
    await this.client.stop();
    for (const a of this.active.values()) a.abort.abort();
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    await this.reporter.stop();
  }

  /** The jobs this edge knows, as persisted. */
  jobs(): LocalJob[] {
    return this.store.all();
  }

  /** Reports not yet delivered to the cloud. */
  pendingReports(): number {
    return this.store.pendingReports();
  }

  private onJobs(jobs: FirmwareJob[]): void {
    if (!this.running) return;
    this.listed = new Map(jobs.map((j) => [j.jobId, j]));
    for (const rec of this.store.all()) {
      const j = this.listed.get(rec.jobId);
      if (j && !isTerminal(j.state)) continue;
      // The cloud no longer lists it (done and heard, or its campaign was aborted): stop and forget.
      const a = this.active.get(rec.jobId);
      if (a) {
        this.log.info({ jobId: rec.jobId }, 'firmware job withdrawn by the cloud; stopping it');
        a.abort.abort();
      }
      if (!a) this.store.remove(rec.jobId);
    }
    // Images no job listed or under way needs: a town box's flash card is not an archive.
    const keep = new Set([...this.listed.values()].map((j) => j.artifact.manifest.sha256));
    for (const rec of this.store.all()) if (this.active.has(rec.jobId)) keep.add(rec.job.artifact.manifest.sha256);
    const pruned = this.images.prune(keep);
    if (pruned.length > 0) this.log.info({ pruned }, 'firmware images no job needs were deleted');
    this.evaluate();
  }

  /** Starts what may start now and sets a timer for the next job whose time or window comes. */
  private evaluate(): void {
    if (!this.running) return;
    const now = this.o.clock.now();
    let wakeAt: number | undefined;
    const due: FirmwareJob[] = [];
    for (const job of this.listed.values()) {
      if (isTerminal(job.state) || this.active.has(job.jobId)) continue;
      const rec = this.store.get(job.jobId);
      if (rec && (isTerminal(rec.state) || rec.handedOver)) continue;
      if (rec?.startedAt !== undefined) {
        due.unshift(job); // started before (a restart): resumes even if the campaign is now paused
        continue;
      }
      if (job.paused) continue;
      const from = Math.max(now, job.notBefore);
      const at = from + msUntilWindow(from, job.window, this.o.utcOffsetMinutes);
      if (at > now) {
        wakeAt = wakeAt === undefined ? at : Math.min(wakeAt, at);
        continue;
      }
      due.push(job);
    }
    for (const job of due) {
      const rec = this.store.get(job.jobId);
      if (this.active.size >= this.o.settings.maxConcurrent && rec?.startedAt === undefined) break;
      const fresh: LocalJob = rec ? { ...rec, job } : { jobId: job.jobId, job, state: 'pending' };
      fresh.startedAt ??= now;
      this.store.save(fresh, now);
      this.launch(fresh);
    }
    this.armWake(wakeAt);
  }

  private armWake(at: number | undefined): void {
    if (this.wakeTimer && this.wakeTimer.at === at) return;
    if (this.wakeTimer) this.o.scheduler.clearTimeout(this.wakeTimer.handle);
    this.wakeTimer = undefined;
    if (at === undefined) return;
    const handle = this.o.scheduler.setTimeout(() => {
      this.wakeTimer = undefined;
      this.evaluate();
    }, at - this.o.clock.now());
    this.wakeTimer = { at, handle };
  }

  private launch(rec: LocalJob): void {
    const abort = new AbortController();
    const done = this.runJob(rec.jobId, abort.signal)
      .catch((err: unknown) => {
        if (abort.signal.aborted) return;
        const e = err instanceof FirmwareJobFailure ? err : isGsError(err) ? new FirmwareJobFailure(err.code, err.message) : new FirmwareJobFailure('GS_ERR_INTERNAL', String(err));
        this.log.error({ jobId: rec.jobId, code: e.code, err: e.message }, 'firmware job failed');
        this.move(rec.jobId, 'failed', { reason: { code: e.code, message: e.message.slice(0, 1000) }, ...(e.runningVersion !== undefined ? { runningVersion: e.runningVersion } : {}) });
      })
      .finally(() => {
        this.active.delete(rec.jobId);
        // Withdrawn while it ran: forget it now that it has stopped.
        if (abort.signal.aborted && this.running && !this.listed.has(rec.jobId)) this.store.remove(rec.jobId);
        this.evaluate();
      });
    this.active.set(rec.jobId, { abort, done });
  }

  /**
   * Records a state change and queues its report; false (nothing done) when it is no change or not a
   * legal move from the state last reported.
   */
  private move(jobId: string, state: FirmwareJobState, extra: Omit<FirmwareJobReport, 'state' | 'at'> = {}): boolean {
    const rec = this.store.get(jobId);
    if (!rec) return false;
    if (rec.state === state && state !== 'downloading') return false;
    if (!canMoveJob(rec.state, state)) {
      this.log.warn({ jobId, from: rec.state, to: state, code: 'GS_ERR_FIRMWARE_OTA_MESSAGE' }, 'firmware job state change out of order; ignored');
      return false;
    }
    const report: FirmwareJobReport = { state, at: this.o.clock.now(), ...extra };
    this.store.saveAndReport({ ...rec, state, ...(extra.bytes !== undefined ? { bytes: extra.bytes } : {}) }, report);
    this.reporter.nudge();
    this.log.info({ jobId, state, ...(extra.reason ? { code: extra.reason.code } : {}) }, `firmware job ${state}`);
    return true;
  }

  private async runJob(jobId: string, signal: AbortSignal): Promise<void> {
    const rec = this.store.get(jobId)!;
    const { job } = rec;
    if (job.target.kind === 'edge') {
      if (!this.o.selfUpdate) throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', 'this edge agent cannot update itself here (not started with the supervisor: gridsense edge supervise)');
      await this.o.selfUpdate.run(rec, {
        signal,
        image: () => this.image(rec, signal),
        move: (state, extra) => void this.move(jobId, state, extra),
        handOver: () => {
          const cur = this.store.get(jobId);
          if (cur) this.store.save({ ...cur, handedOver: true }, this.o.clock.now());
        },
        flush: () => this.flushReports(10_000, signal),
      });
      return;
    }
    const device = this.o.devices().find((d) => d.id === (job.target as { deviceId: string }).deviceId);
    if (!device) throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', `device ${(job.target as { deviceId: string }).deviceId} is not configured on this edge`);
    const conn = device.connection.protocol === 'mqtt' ? resolveMqtt({ ...device.connection, deviceId: device.id }) : undefined;
    if (!conn || conn.broker !== 'embedded') {
      throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', `device ${device.id} is not an MQTT device on this edge's broker; OTA runs over the embedded broker (firmware-specs/ota/)`);
    }
    if (!job.artifact.manifest.profiles.includes(device.profile)) {
      throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', `image ${job.artifact.manifest.version} is for ${job.artifact.manifest.profiles.join(', ')}, device ${device.id} is a ${device.profile}`);
    }
    this.images.checkSignature(job.artifact);
    if (rec.state === 'pending') this.move(jobId, 'downloading');
    const imagePath = await this.image(rec, signal);
    const broker = await this.retry('embedded MQTT broker', signal, async () => {
      // The broker may wait for its port (another broker on it): a stop must not wait with it.
      const b = await Promise.race([this.o.broker(), new Promise<undefined>((r) => signal.addEventListener('abort', () => r(undefined), { once: true }))]);
      if (signal.aborted) throw new GsError('GS_ERR_INTERNAL', 'stopped');
      if (!b) throw new GsError('GS_ERR_MQTT_BROKER', 'the embedded MQTT broker is not running');
      return b;
    });
    await this.relay(rec, broker, { deviceId: device.id, username: conn.username, secret: conn.secret, root: conn.root }, imagePath, signal);
  }

  /** Waits (up to `limitMs`) until every queued report has been delivered. */
  private async flushReports(limitMs: number, signal: AbortSignal): Promise<void> {
    const until = this.o.clock.now() + limitMs;
    while (this.store.pendingReports() > 0 && this.o.clock.now() < until && !signal.aborted) {
      await new Promise<void>((r) => this.o.scheduler.setTimeout(r, 100));
    }
  }

  /** The verified image, retrying what may pass (the uplink, a 5xx) until the job is stopped. */
  private image(rec: LocalJob, signal: AbortSignal): Promise<string> {
    return this.retry(`image ${rec.job.artifact.id}`, signal, () => this.images.obtain(rec.job.artifact, signal));
  }

  private async retry<T>(what: string, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        if (signal.aborted) throw err;
        if (isPermanent(err)) throw err;
        const ms = fullJitter(n, RETRY, this.o.random);
        this.log.warn({ ...errFields(err), retryInMs: ms }, `${what} not ready; retrying`);
        await new Promise<void>((resolve) => {
          const h = this.o.scheduler.setTimeout(done, ms);
          function done() {
            signal.removeEventListener('abort', cancel);
            resolve();
          }
          const cancel = () => {
            this.o.scheduler.clearTimeout(h);
            done();
          };
          signal.addEventListener('abort', cancel, { once: true });
        });
        if (signal.aborted) throw new GsError('GS_ERR_INTERNAL', 'stopped');
      }
    }
  }

  /** Offers the image to the device and follows it until the job ends here (or is stopped). */
  private async relay(rec: LocalJob, broker: OtaBroker, account: Parameters<OtaBroker['attach']>[0], imagePath: string, signal: AbortSignal): Promise<void> {
    const { job } = rec;
    const { size, version } = job.artifact.manifest;
    let settle!: () => void;
    const over = new Promise<void>((r) => (settle = r));
    let failure: FirmwareJobFailure | undefined;
    const session = new OtaSession({
      broker, account, job, imagePath,
      chunkSize: this.o.settings.chunkSize,
      requestTimeoutS: DEFAULT_REQUEST_TIMEOUT_S,
      deviceTimeoutMs: this.o.settings.deviceTimeoutMs,
      scheduler: this.o.scheduler,
      logger: this.log.child({ deviceId: account.deviceId }),
      onStatus: (st) => {
        const ended = this.onDeviceStatus(job.jobId, st, size, version);
        if (ended) settle();
      },
      onSilent: () => {
        failure = new FirmwareJobFailure('GS_ERR_FIRMWARE_TIMEOUT', `device ${account.deviceId} said nothing for ${Math.round(this.o.settings.deviceTimeoutMs / 1000)} s during its update`);
        settle();
      },
    });
    const onAbort = () => settle();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await session.start();
      await over;
    } finally {
      signal.removeEventListener('abort', onAbort);
      // Withdraw the offer when the job is over for this device; keep it (retained) across an edge stop.
      const cur = this.store.get(job.jobId);
      const withdrawn = signal.aborted && this.running;
      await session.stop(failure !== undefined || withdrawn || (cur !== undefined && isTerminal(cur.state)));
    }
    if (failure) throw failure;
  }

  /** A device status into a job state change; true when the job is over. */
  private onDeviceStatus(jobId: string, st: OtaStatus, size: number, version: string): boolean {
    const rec = this.store.get(jobId);
    if (!rec || isTerminal(rec.state)) return true;
    switch (st.state) {
      case 'downloading': {
        const bytes = st.bytes ?? 0;
        const last = rec.bytes;
        // Progress goes to the cloud in tenths, plus resumes and the last byte; not per chunk.
        if (rec.state === 'downloading' && last !== undefined && bytes >= last && bytes - last < size / 10 && bytes !== size) return false;
        this.move(jobId, 'downloading', { bytes });
        return false;
      }
      case 'verifying':
      case 'installing':
        this.move(jobId, st.state);
        return false;
      case 'succeeded':
        if (st.running_version !== undefined && st.running_version !== version) {
          this.move(jobId, 'failed', { reason: { code: 'GS_ERR_FIRMWARE_INSTALL', message: `device reports success but runs ${st.running_version}, not ${version}` }, runningVersion: st.running_version });
        } else {
          this.move(jobId, 'succeeded', { runningVersion: version });
        }
        return true;
      case 'failed':
        this.move(jobId, 'failed', {
          reason: st.reason ?? { code: 'GS_ERR_FIRMWARE_INSTALL', message: 'the device reported a failure without a reason' },
          ...(st.running_version !== undefined ? { runningVersion: st.running_version } : {}),
        });
        return true;
    }
  }
}

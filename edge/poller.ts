// Polls one device on its interval: read every profile point through the device's session, apply the
// profile, hand the readings on. Sessions of push protocols (MQTT, OPC UA) deliver their points
// through `subscribe`; only the points they cannot push are polled. Counts consecutive misses and keeps
// an `online` flag, which edge/health/ turns into device and bus alarms.
import type { Clock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import type { DeviceConfig } from './config.js';
import type { RawPointValue, Session } from './drivers/driver.js';
import { errFields, type Logger } from './log.js';
import { applyProfile } from './pipeline/apply-profile.js';
import type { DeviceProfile as Profile, ProfilePoint as Point } from '../contracts/profile.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface PollerStatus {
  deviceId: string;
  /** False until the device first answers, and again after `offlineAfterMisses` misses in a row. */
  online: boolean;
  /** starting until the device first answers or first counts as offline; onStatus fires on each change. */
  state: 'starting' | 'online' | 'offline';
  /** Why the last miss was a miss (timeout, connection_refused, last_will…). */
  lastError?: string;
  consecutiveMisses: number;
  /** Misses in a row that make the device offline (device config, else the profile, else 3). */
  offlineAfterMisses: number;
  polls: number;
  /** Values pushed by a subscription (push protocols). */
  pushed: number;
  /** Ticks skipped because the previous poll was still running (interval shorter than a poll). */
  overruns: number;
  lastPollAt?: number;
  lastAnswerAt?: number;
}

export interface PollerOptions {
  device: DeviceConfig;
  profile: Profile;
  session: Session;
  clock: Clock;
  scheduler: Scheduler;
  logger: Logger;
  /** Gets every poll's readings, and pushed readings as they arrive; may be async (the poller waits, so stores see polls in order). */
  onReadings: (readings: Reading[], device: DeviceConfig) => void | Promise<void>;
  /** Called when `state` changes: edge/health/ turns it into device and bus alarms. */
  onStatus?: (status: PollerStatus) => void;
  /** Delay of the first poll, so devices with the same interval do not all poll at once. */
  startOffsetMs?: number;
}

const DEFAULT_OFFLINE_MISSES = 3;

/** The device's own `offlineAfterMisses`, else the profile's offlineAfterSeconds in polls (≥ 1), else 3. */
export function offlineAfterMisses(device: Pick<DeviceConfig, 'offlineAfterMisses' | 'pollIntervalMs'>, profile: Pick<Profile, 'offlineAfterSeconds'>): number {
  if (device.offlineAfterMisses !== undefined) return device.offlineAfterMisses;
  const after = profile.offlineAfterSeconds;
  return after ? Math.max(1, Math.ceil((after * 1000) / device.pollIntervalMs)) : DEFAULT_OFFLINE_MISSES;
}

export class DevicePoller {
  private timer?: TimerHandle;
  private inFlight?: Promise<void>;
  private running = false;
  private readonly st: PollerStatus;
  private unsubscribe?: () => void;
  /** Points read by polling: all of them, or those a subscription does not deliver. */
  private polled: Point[] = [];
  /** Pushed readings wait here so they reach onReadings one at a time, in arrival order. */
  private pushChain: Promise<void> = Promise.resolve();
  private startedAt = 0;

  constructor(private readonly o: PollerOptions) {
    this.st = { deviceId: o.device.id, online: false, state: 'starting', consecutiveMisses: 0, offlineAfterMisses: offlineAfterMisses(o.device, o.profile), polls: 0, pushed: 0, overruns: 0 };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.o.clock.now();
    const { session, profile } = this.o;
    if (session.subscribe) {
      const pushable = profile.points.filter((p) => session.subscribes?.(p) ?? true);
      this.polled = profile.points.filter((p) => !pushable.includes(p));
      if (pushable.length > 0) this.unsubscribe = session.subscribe(pushable, (v) => this.onPushed(v));
    } else {
      this.polled = [...profile.points];
    }
    // A push-only device is still watched on its interval: silence longer than offlineAfterSeconds is a miss.
    if (this.polled.length > 0 || this.o.profile.offlineAfterSeconds) this.schedule(this.o.startOffsetMs ?? 0);
  }

  /** Stops polling, drops the subscription and waits for a poll or pushed reading in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.inFlight;
    await this.pushChain;
  }

  status(): PollerStatus {
    return { ...this.st };
  }

  /** One poll now (the timer calls this; so can a test or a "read now" command). */
  async pollOnce(): Promise<Reading[]> {
    const { device, profile, session, clock } = this.o;
    if (this.pushOnly()) {
      this.checkSilence();
      return [];
    }
    // Before start() (a "read now" command or a test), every point is read.
    const raws = await session.read(this.polled.length > 0 ? this.polled : profile.points);
    const ts = clock.now();
    const readings = applyProfile(device.id, profile, raws, ts);
    this.st.polls++;
    this.st.lastPollAt = ts;
    // A miss is a poll the device did not answer at all; a Modbus exception is an answer.
    this.record(raws.some((r) => r.ok || !r.unreachable), ts, 1, raws.find((r) => !r.ok)?.reason);
    await this.o.onReadings(readings, device);
    return readings;
  }

  private onPushed(raw: RawPointValue): void {
    if (!this.running) return;
    const { device, profile, clock } = this.o;
    const ts = clock.now();
    this.st.pushed++;
    // The driver pushes `unreachable` only when it knows (last will, session lost): offline at once.
    if (!raw.ok && raw.unreachable) this.record(false, ts, this.st.offlineAfterMisses, raw.reason);
    else this.record(true, ts);
    const readings = applyProfile(device.id, profile, [raw], ts);
    this.pushChain = this.pushChain
      .then(() => this.o.onReadings(readings, device))
      .catch((err: unknown) => this.o.logger.error({ deviceId: device.id, ...errFields(err) }, 'pushed reading failed'));
  }

  private pushOnly(): boolean {
    return this.polled.length === 0 && this.unsubscribe !== undefined;
  }

  /** Push-only devices: no value for offlineAfterSeconds counts as going offline. */
  private checkSilence(): void {
    const after = this.o.profile.offlineAfterSeconds;
    if (!after || this.st.state === 'offline') return;
    const ts = this.o.clock.now();
    if (ts - (this.st.lastAnswerAt ?? this.startedAt) < after * 1000) return;
    this.record(false, ts, this.st.offlineAfterMisses, 'silent');
  }

  /** Counts an answer or `misses` misses; logs and reports a change of state (a device dead from boot too). */
  private record(answered: boolean, ts: number, misses = 1, reason?: string): void {
    const before = this.st.state;
    if (answered) {
      this.st.consecutiveMisses = 0;
      this.st.lastAnswerAt = ts;
      this.st.state = 'online';
      delete this.st.lastError;
    } else {
      this.st.consecutiveMisses = Math.max(this.st.consecutiveMisses + 1, misses);
      if (reason !== undefined) this.st.lastError = reason;
      if (this.st.consecutiveMisses >= this.st.offlineAfterMisses) this.st.state = 'offline';
    }
    this.st.online = this.st.state === 'online';
    if (before !== this.st.state) {
      const { deviceId, consecutiveMisses: misses, lastError } = this.st;
      if (this.st.online) this.o.logger.info({ deviceId }, 'device online');
      else this.o.logger.warn({ deviceId, misses, reason: lastError }, 'device offline');
      this.o.onStatus?.(this.status());
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.o.scheduler.setTimeout(() => this.tick(), delayMs);
  }

  /** Fixed rate: the next tick is set before this poll runs; a tick that finds a poll running is skipped. */
  private tick(): void {
    this.timer = undefined;
    this.schedule(this.o.device.pollIntervalMs);
    if (this.pushOnly()) {
      this.checkSilence();
      return;
    }
    if (this.inFlight) {
      this.st.overruns++;
      return;
    }
    this.inFlight = this.pollOnce()
      .then(() => undefined)
      .catch((err: unknown) => this.o.logger.error({ deviceId: this.o.device.id, ...errFields(err) }, 'poll failed'))
      .finally(() => {
        this.inFlight = undefined;
      });
  }
}

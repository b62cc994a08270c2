// Polls one device on its interval: read every profile point through the device's session, apply the
// profile, hand the readings on. Counts consecutive misses and keeps an `online` flag, which the
// offline alarm will use.
import type { Clock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import type { DeviceConfig } from './config.js';
import type { Session } from './drivers/driver.js';
import { errFields, type Logger } from './log.js';
import { applyProfile } from './pipeline/apply-profile.js';
import type { DeviceProfile as Profile } from '../contracts/profile.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface PollerStatus {
  deviceId: string;
  /** False until the device first answers, and again after `offlineAfterMisses` misses in a row. */
  online: boolean;
  consecutiveMisses: number;
  polls: number;
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
  /** Gets every poll's readings; may be async (the poller waits, so stores see polls in order). */
  onReadings: (readings: Reading[], device: DeviceConfig) => void | Promise<void>;
  onStatus?: (status: PollerStatus) => void;
  /** Delay of the first poll, so devices with the same interval do not all poll at once. */
  startOffsetMs?: number;
}

const DEFAULT_OFFLINE_MISSES = 3;

export class DevicePoller {
  private timer?: TimerHandle;
  private inFlight?: Promise<void>;
  private running = false;
  private readonly st: PollerStatus;
  private readonly offlineAfterMisses: number;

  constructor(private readonly o: PollerOptions) {
    this.st = { deviceId: o.device.id, online: false, consecutiveMisses: 0, polls: 0, overruns: 0 };
    const after = o.profile.offlineAfterSeconds;
    // Offline after the profile's offlineAfterSeconds worth of misses (at least one), else after 3.
    this.offlineAfterMisses = after ? Math.max(1, Math.ceil((after * 1000) / o.device.pollIntervalMs)) : DEFAULT_OFFLINE_MISSES;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.o.startOffsetMs ?? 0);
  }

  /** Stops polling and waits for a poll in progress to finish. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  status(): PollerStatus {
    return { ...this.st };
  }

  /** One poll now (the timer calls this; so can a test or a "read now" command). */
  async pollOnce(): Promise<Reading[]> {
    const { device, profile, session, clock } = this.o;
    const raws = await session.read(profile.points);
    const ts = clock.now();
    const readings = applyProfile(device.id, profile, raws, ts);
    this.st.polls++;
    this.st.lastPollAt = ts;
    // A miss is a poll the device did not answer at all; a Modbus exception is an answer.
    const answered = raws.some((r) => r.ok || !r.unreachable);
    const wasOnline = this.st.online;
    if (answered) {
      this.st.consecutiveMisses = 0;
      this.st.lastAnswerAt = ts;
      this.st.online = true;
    } else {
      this.st.consecutiveMisses++;
      if (this.st.consecutiveMisses >= this.offlineAfterMisses) this.st.online = false;
    }
    if (wasOnline !== this.st.online) {
      this.o.logger[this.st.online ? 'info' : 'warn']({ deviceId: device.id, misses: this.st.consecutiveMisses }, this.st.online ? 'device online' : 'device offline');
      this.o.onStatus?.(this.status());
    }
    await this.o.onReadings(readings, device);
    return readings;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = this.o.scheduler.setTimeout(() => this.tick(), delayMs);
  }

  /** Fixed rate: the next tick is set before this poll runs; a tick that finds a poll running is skipped. */
  private tick(): void {
    this.timer = undefined;
    this.schedule(this.o.device.pollIntervalMs);
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

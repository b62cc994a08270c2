import type { Clock } from '../../contracts/clock.js';
import { systemClock } from '../../contracts/clock.js';
import { SimulatedModbusSlave } from './modbus-slave.js';

/**
 * A radar water-level gauge as device-profiles/generic/radar-water-level-gauge.yaml describes it:
 * level in cm at holding register 0, air distance in mm as uint32 ABCD at 1-2, status bits at 3,
 * supply voltage in 0.1 V at 4. The level follows a scenario: a function of seconds since start.
 */
export type LevelScenario = (secondsSinceStart: number) => number;

/** Rises past the 3.5 m warning line, peaks, falls back below 3.3 m; repeats every `period` seconds. */
export function floodPulse(opts: { base?: number; peak?: number; period?: number } = {}): LevelScenario {
  const base = opts.base ?? 3.0;
  const peak = opts.peak ?? 4.0;
  const period = opts.period ?? 120;
  return (s) => {
    const t = s % period;
    if (t < 20) return base + ((peak - base) * t) / 20; // rising
    if (t < 45) return peak; // cresting
    if (t < 65) return peak - ((peak - base) * (t - 45)) / 20; // receding
    return base;
  };
}

export const steady = (level: number): LevelScenario => () => level;

const MOUNT_HEIGHT_M = 12; // radar above the datum: air distance = mount height - level

export class SimulatedWaterLevelGauge {
  private timer?: NodeJS.Timeout;
  private startedAt = 0;
  readonly slave: SimulatedModbusSlave;

  constructor(
    private readonly scenario: LevelScenario,
    private readonly clock: Clock = systemClock,
    opts: { port?: number; unitId?: number } = {},
  ) {
    this.slave = new SimulatedModbusSlave(opts);
  }

  get port(): number {
    return this.slave.port;
  }

  async start(): Promise<this> {
    await this.slave.start();
    this.startedAt = this.clock.now();
    this.update();
    this.timer = setInterval(() => this.update(), 250);
    return this;
  }

  /** Sets the registers from the scenario at the clock's current time. */
  update(): void {
    const level = Math.max(0, this.scenario((this.clock.now() - this.startedAt) / 1000));
    const h = this.slave.holding;
    h.set(0, Math.round(level * 100));
    const airMm = Math.round((MOUNT_HEIGHT_M - level) * 1000);
    h.set(1, (airMm >>> 16) & 0xffff);
    h.set(2, airMm & 0xffff);
    h.set(3, 0);
    h.set(4, 121); // 12.1 V
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.slave.stop();
  }
}

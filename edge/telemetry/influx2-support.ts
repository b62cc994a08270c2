// Helpers for the InfluxDB 2.x store's tests (not a test file itself): options, and reading back from
// VictoriaMetrics what the store wrote (its own export API: VictoriaMetrics has no Flux).
import { systemClock } from '../../contracts/clock.js';
import type { Reading } from '../../contracts/reading.js';
import type { VictoriaMetrics } from '../../test/helpers/victoria-metrics.js';
import { silentLogger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import type { Influx2Options } from './influx2.js';

export function influx2Options(url: string, o: Partial<Influx2Options> = {}): Influx2Options {
  return {
    url, token: 'test-token', org: 'county', bucket: 'gridsense', batchSize: 500, flushIntervalMs: 1000, maxBuffer: 10_000,
    clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger(), ...o,
  };
}

/** Readings as VictoriaMetrics keeps them: numbers (booleans as 1/0), no strings, no unit or reason. */
export function numericOnly(r: Reading): Reading | undefined {
  if (typeof r.value === 'string') return undefined;
  return { deviceId: r.deviceId, point: r.point, value: r.value, quality: r.quality, ts: r.ts };
}

/** The readings of one device that reached VictoriaMetrics, rebuilt from its series. */
export async function readBack(vm: VictoriaMetrics, q: { deviceId: string; from: number; to: number }): Promise<Reading[]> {
  const series = await vm.export(`{__name__=~"reading_(value|value_bool|value_null)",device_id="${q.deviceId}"}`);
  const out: Reading[] = [];
  for (const s of series) {
    const field = s.metric.__name__!.slice('reading_'.length);
    s.timestamps.forEach((ts, i) => {
      if (ts < q.from || ts > q.to) return;
      const v = s.values[i]!;
      const value = field === 'value' ? v : field === 'value_bool' ? v === 1 : null;
      out.push({ deviceId: s.metric.device_id!, point: s.metric.point!, value, quality: s.metric.quality as Reading['quality'], ts });
    });
  }
  return out;
}


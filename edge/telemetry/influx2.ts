// Telemetry in InfluxDB 2.x (@influxdata/influxdb-client): the same series as influx1.ts — measurement
// `reading`, tags device_id, point, quality; fields value (float) / value_bool / value_str /
// value_null, plus unit and reason; ms precision — written with the v2 write API (org, bucket, token)
// and read back with Flux. While InfluxDB is down, readings wait in the shared bounded WriteBuffer
// and go out, in order, once it is back.
//
// Tested: the write path, against VictoriaMetrics' /api/v2/write (influx2.test.ts). Not tested here:
// the Flux query (no InfluxDB 2.x server is installed; VictoriaMetrics has no Flux) and 2.x's
// authorisation (VictoriaMetrics ignores the token).
import { flux, fluxDateTime, fluxInteger, fluxString, InfluxDB, Point, type WriteOptions } from '@influxdata/influxdb-client';
import type { Clock } from '../../contracts/clock.js';
import type { Reading } from '../../contracts/reading.js';
import type { Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import { byTime, DEFAULT_QUERY_LIMIT, type TelemetryQuery, type TelemetryStore } from './store.js';
import { WriteBuffer } from './write-buffer.js';

export interface Influx2Options {
  url: string;
  token: string;
  org: string;
  bucket: string;
  batchSize: number;
  flushIntervalMs: number;
  maxBuffer: number;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  /** Per-request limit, so a hung InfluxDB cannot stall a flush (or stop) for long. */
  requestTimeoutMs?: number;
}

const MEASUREMENT = 'reading';

/**
 * The client's WriteApi batches and retries on timers of its own that our scheduler cannot see or
 * clear; so each batch gets a WriteApi that sends once (no retry, no interval) and fails fast, and
 * WriteBuffer does the batching, the backlog and the backoff, as for the other stores.
 */
const SEND_ONCE: Partial<WriteOptions> = {
  flushInterval: 0,
  maxRetries: 0,
  maxBufferLines: 0,
  writeFailed: (err: Error) => Promise.reject(err),
};

export class Influx2TelemetryStore implements TelemetryStore {
  private client?: InfluxDB;
  private buffer?: WriteBuffer;

  constructor(private readonly o: Influx2Options) {}

  async start(): Promise<void> {
    this.client = new InfluxDB({ url: this.o.url, token: this.o.token, timeout: this.o.requestTimeoutMs ?? 5000 });
    this.buffer = new WriteBuffer({ ...this.o, sink: (batch) => this.writeBatch(batch) });
    this.buffer.start();
  }

  write(readings: Reading[]): void {
    this.buffer?.push(readings);
  }

  async flush(): Promise<void> {
    await this.buffer?.flush();
  }

  async query(q: TelemetryQuery): Promise<Reading[]> {
    const client = this.client;
    if (!client) return [];
    const filters = [flux`r._measurement == ${MEASUREMENT}`];
    if (q.deviceId !== undefined) filters.push(flux`r.device_id == ${fluxString(q.deviceId)}`);
    if (q.point !== undefined) filters.push(flux`r.point == ${fluxString(q.point)}`);
    const where = filters.reduce((a, b) => flux`${a} and ${b}`);
    // range's stop is exclusive; `to` is inclusive, so stop 1 ms later. Pivot makes one row per
    // reading (its fields side by side); group() merges the series so sort/limit are global.
    const query = flux`from(bucket: ${fluxString(this.o.bucket)})
  |> range(start: ${fluxDateTime(new Date(q.from).toISOString())}, stop: ${fluxDateTime(new Date(q.to + 1).toISOString())})
  |> filter(fn: (r) => ${where})
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
  |> limit(n: ${fluxInteger(q.limit ?? DEFAULT_QUERY_LIMIT)})`;
    const rows = await client.getQueryApi(this.o.org).collectRows<Record<string, unknown>>(query);
    return rows.map(toReading).sort(byTime);
  }

  async stop(): Promise<void> {
    await this.buffer?.stop();
    this.buffer = undefined;
    this.client = undefined;
  }

  private async writeBatch(batch: Reading[]): Promise<void> {
    if (!this.client) throw new Error('telemetry store is stopped');
    const api = this.client.getWriteApi(this.o.org, this.o.bucket, 'ms', { ...SEND_ONCE, batchSize: batch.length + 1 });
    api.writePoints(batch.map(toPoint));
    await api.close();
  }
}

export function toPoint(r: Reading): Point {
  const p = new Point(MEASUREMENT).tag('device_id', r.deviceId).tag('point', r.point).tag('quality', r.quality).timestamp(r.ts);
  if (typeof r.value === 'number') p.floatField('value', r.value);
  else if (typeof r.value === 'boolean') p.booleanField('value_bool', r.value);
  else if (typeof r.value === 'string') p.stringField('value_str', r.value);
  else p.booleanField('value_null', true); // a line needs at least one field; a bad reading may have no other
  if (r.unit !== undefined) p.stringField('unit', r.unit);
  if (r.reason !== undefined) p.stringField('reason', r.reason);
  return p;
}

function toReading(row: Record<string, unknown>): Reading {
  const value =
    typeof row.value === 'number' ? row.value
    : typeof row.value_bool === 'boolean' ? row.value_bool
    : typeof row.value_str === 'string' ? row.value_str
    : null;
  return {
    deviceId: String(row.device_id),
    point: String(row.point),
    value,
    ...(typeof row.unit === 'string' ? { unit: row.unit } : {}),
    quality: row.quality as Reading['quality'],
    ...(typeof row.reason === 'string' ? { reason: row.reason } : {}),
    ts: Date.parse(String(row._time)),
  };
}

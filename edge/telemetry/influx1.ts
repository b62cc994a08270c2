// Telemetry in InfluxDB 1.x (the town's history store): measurement `reading`, tags device_id, point,
// quality; fields value (float) / value_bool / value_str, plus unit and reason; ms precision.
// While InfluxDB is down, readings wait in a bounded buffer and go out, in order, once it is back.
import { FieldType, InfluxDB, type IPoint } from 'influx';
import type { Clock } from '../../contracts/clock.js';
import type { Reading } from '../../contracts/reading.js';
import type { Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import { byTime, DEFAULT_QUERY_LIMIT, type TelemetryQuery, type TelemetryStore } from './store.js';
import { WriteBuffer } from './write-buffer.js';

export interface Influx1Options {
  url: string;
  database: string;
  username?: string;
  password?: string;
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

/** The influx client's own retry would set timers we cannot cancel; WriteBuffer retries instead. */
const noBackoff = { getDelay: () => 0, next() { return this; }, reset() { return this; } };

export class Influx1TelemetryStore implements TelemetryStore {
  private influx?: InfluxDB;
  private buffer?: WriteBuffer;
  private databaseReady = false;

  constructor(private readonly o: Influx1Options) {}

  async start(): Promise<void> {
    const u = new URL(this.o.url);
    this.influx = new InfluxDB({
      host: u.hostname,
      port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      protocol: u.protocol === 'https:' ? 'https' : 'http',
      ...(u.pathname !== '/' ? { path: u.pathname } : {}),
      database: this.o.database,
      ...(this.o.username !== undefined ? { username: this.o.username } : {}),
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
      pool: { maxRetries: 0, requestTimeout: this.o.requestTimeoutMs ?? 5000, backoff: noBackoff },
      schema: [
        {
          measurement: MEASUREMENT,
          tags: ['device_id', 'point', 'quality'],
          fields: {
            value: FieldType.FLOAT,
            value_bool: FieldType.BOOLEAN,
            value_str: FieldType.STRING,
            value_null: FieldType.BOOLEAN,
            unit: FieldType.STRING,
            reason: FieldType.STRING,
          },
        },
      ],
    });
    this.buffer = new WriteBuffer({ ...this.o, sink: (batch) => this.writeBatch(batch) });
    this.buffer.start();
    // The edge must run with InfluxDB down: creating the database is retried with the first write.
    await this.ensureDatabase().catch(() => undefined);
  }

  write(readings: Reading[]): void {
    this.buffer?.push(readings);
  }

  async flush(): Promise<void> {
    await this.buffer?.flush();
  }

  async query(q: TelemetryQuery): Promise<Reading[]> {
    const influx = this.influx;
    if (!influx) return [];
    const esc = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const where = [`time >= ${Math.trunc(q.from)}ms`, `time <= ${Math.trunc(q.to)}ms`];
    if (q.deviceId !== undefined) where.push(`device_id = ${esc(q.deviceId)}`);
    if (q.point !== undefined) where.push(`point = ${esc(q.point)}`);
    const limit = q.limit ?? DEFAULT_QUERY_LIMIT;
    const rows = await influx.query<Record<string, unknown> & { time: Date }>(
      `SELECT * FROM ${MEASUREMENT} WHERE ${where.join(' AND ')} ORDER BY time ASC LIMIT ${limit}`,
      { precision: 'ms' },
    );
    return rows.map(toReading).sort(byTime);
  }

  async stop(): Promise<void> {
    await this.buffer?.stop();
    this.buffer = undefined;
    this.influx = undefined;
  }

  private async ensureDatabase(): Promise<void> {
    if (this.databaseReady || !this.influx) return;
    // CREATE DATABASE is idempotent in InfluxDB 1.x.
    await this.influx.createDatabase(this.o.database);
    this.databaseReady = true;
  }

  private async writeBatch(batch: Reading[]): Promise<void> {
    if (!this.influx) throw new Error('telemetry store is stopped');
    await this.ensureDatabase();
    await this.influx.writePoints(batch.map(toPoint), { precision: 'ms' });
  }
}

function toPoint(r: Reading): IPoint {
  const fields: Record<string, unknown> = {};
  if (typeof r.value === 'number') fields.value = r.value;
  else if (typeof r.value === 'boolean') fields.value_bool = r.value;
  else if (typeof r.value === 'string') fields.value_str = r.value;
  else fields.value_null = true; // InfluxDB needs at least one field; a bad reading may have no other
  if (r.unit !== undefined) fields.unit = r.unit;
  if (r.reason !== undefined) fields.reason = r.reason;
  return { measurement: MEASUREMENT, tags: { device_id: r.deviceId, point: r.point, quality: r.quality }, fields, timestamp: r.ts };
}

function toReading(row: Record<string, unknown> & { time: Date }): Reading {
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
    ts: row.time.getTime(),
  };
}

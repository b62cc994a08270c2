// Embedded telemetry: one SQLite file in the edge's dataDir, WAL, retention pruned on an interval.
// synchronous=NORMAL: in WAL mode that survives a process crash and only risks the last moments of
// history on power loss — fine for telemetry, unlike the outbox, which uses FULL.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../contracts/clock.js';
import type { Reading } from '../../contracts/reading.js';
import { errFields, type Logger } from '../log.js';
import type { Random, Scheduler, TimerHandle } from '../scheduler.js';
import { DEFAULT_QUERY_LIMIT, type TelemetryQuery, type TelemetryStore } from './store.js';
import { WriteBuffer } from './write-buffer.js';

export interface SqliteTelemetryOptions {
  file: string;
  retentionMs: number;
  batchSize: number;
  flushIntervalMs: number;
  maxBuffer: number;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  /** How often old readings are deleted (default: an hour, or retention/24 if shorter, at least a minute). */
  pruneIntervalMs?: number;
}

interface Row {
  ts: number;
  device_id: string;
  point: string;
  value_num: number | null;
  value_bool: number | null;
  value_str: string | null;
  unit: string | null;
  quality: Reading['quality'];
  reason: string | null;
}

export class SqliteTelemetryStore implements TelemetryStore {
  private db?: Database.Database;
  private buffer?: WriteBuffer;
  private pruneTimer?: TimerHandle;

  constructor(private readonly o: SqliteTelemetryOptions) {}

  async start(): Promise<void> {
    mkdirSync(dirname(this.o.file), { recursive: true });
    const db = new Database(this.o.file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS reading (
        ts INTEGER NOT NULL,
        device_id TEXT NOT NULL,
        point TEXT NOT NULL,
        value_num REAL,
        value_bool INTEGER,
        value_str TEXT,
        unit TEXT,
        quality TEXT NOT NULL,
        reason TEXT
      );
      CREATE INDEX IF NOT EXISTS reading_device_point_ts ON reading (device_id, point, ts);
      CREATE INDEX IF NOT EXISTS reading_ts ON reading (ts);
    `);
    this.db = db;
    const insert = db.prepare(
      'INSERT INTO reading (ts, device_id, point, value_num, value_bool, value_str, unit, quality, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertAll = db.transaction((batch: Reading[]) => {
      for (const r of batch) {
        insert.run(
          r.ts, r.deviceId, r.point,
          typeof r.value === 'number' ? r.value : null,
          typeof r.value === 'boolean' ? Number(r.value) : null,
          typeof r.value === 'string' ? r.value : null,
          r.unit ?? null, r.quality, r.reason ?? null,
        );
      }
    });
    this.buffer = new WriteBuffer({ ...this.o, sink: async (batch) => void insertAll(batch) });
    this.buffer.start();
    this.prune();
    this.armPrune();
  }

  write(readings: Reading[]): void {
    this.buffer?.push(readings);
  }

  async flush(): Promise<void> {
    await this.buffer?.flush();
  }

  async query(q: TelemetryQuery): Promise<Reading[]> {
    const db = this.db;
    if (!db) return [];
    const where = ['ts >= ?', 'ts <= ?'];
    const args: unknown[] = [q.from, q.to];
    if (q.deviceId !== undefined) {
      where.push('device_id = ?');
      args.push(q.deviceId);
    }
    if (q.point !== undefined) {
      where.push('point = ?');
      args.push(q.point);
    }
    args.push(q.limit ?? DEFAULT_QUERY_LIMIT);
    const rows = db
      .prepare(`SELECT * FROM reading WHERE ${where.join(' AND ')} ORDER BY ts, device_id, point, rowid LIMIT ?`)
      .all(...args) as Row[];
    return rows.map(toReading);
  }

  /** Deletes readings older than the retention; returns how many. */
  prune(): number {
    if (!this.db) return 0;
    const cutoff = this.o.clock.now() - this.o.retentionMs;
    return this.db.prepare('DELETE FROM reading WHERE ts < ?').run(cutoff).changes;
  }

  async stop(): Promise<void> {
    if (this.pruneTimer !== undefined) this.o.scheduler.clearTimeout(this.pruneTimer);
    this.pruneTimer = undefined;
    await this.buffer?.stop();
    this.buffer = undefined;
    this.db?.close();
    this.db = undefined;
  }

  private armPrune(): void {
    const every = this.o.pruneIntervalMs ?? Math.max(60_000, Math.min(3_600_000, this.o.retentionMs / 24));
    this.pruneTimer = this.o.scheduler.setTimeout(() => {
      try {
        const n = this.prune();
        if (n > 0) this.o.logger.debug({ deleted: n }, 'telemetry pruned');
      } catch (err) {
        this.o.logger.error(errFields(err), 'telemetry prune failed');
      }
      this.armPrune();
    }, every);
  }
}

function toReading(r: Row): Reading {
  const value = r.value_num ?? (r.value_bool !== null ? r.value_bool === 1 : r.value_str);
  return {
    deviceId: r.device_id,
    point: r.point,
    value: value ?? null,
    ...(r.unit !== null ? { unit: r.unit } : {}),
    quality: r.quality,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    ts: r.ts,
  };
}

import type { Reading } from '../../contracts/reading.js';

export interface TelemetryQuery {
  deviceId?: string;
  point?: string;
  /** Inclusive, ms since the epoch. */
  from: number;
  /** Inclusive, ms since the epoch. */
  to: number;
  /** At most this many readings, earliest first (default 10 000). */
  limit?: number;
}

/**
 * Where readings go for history. `write` only buffers — a poll never waits on the store — and the
 * store writes batches by size and interval; `query` sees what has been flushed. Implementations:
 * sqlite.ts (embedded default) and influx1.ts, both held to contract.ts.
 */
export interface TelemetryStore {
  start(): Promise<void>;
  write(readings: Reading[]): void;
  /** Writes everything buffered now; rejects with GS_ERR_TELEMETRY_WRITE if the store refused (the readings stay buffered). */
  flush(): Promise<void>;
  query(q: TelemetryQuery): Promise<Reading[]>;
  /** Flushes what it can, clears timers and closes connections. */
  stop(): Promise<void>;
}

export const DEFAULT_QUERY_LIMIT = 10_000;

/** Readings in a stable order: time, then device, then point. */
export function byTime(a: Reading, b: Reading): number {
  return a.ts - b.ts || a.deviceId.localeCompare(b.deviceId) || a.point.localeCompare(b.point);
}

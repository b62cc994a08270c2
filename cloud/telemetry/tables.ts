// The tables of migration 0011, typed for Kysely without widening the shared schema file: callers use
// `telemetryDb(db)`, which is the same connection seen with these tables (and columns) added.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface TelemetrySummariesTable {
  device_id: string;
  point: string;
  period_from: number;
  period_to: number;
  edge_id: string;
  count: number;
  min: number;
  max: number;
  mean: number;
  last: number;
  last_ts: number;
  unit: string | null;
  received_at: number;
}

export interface TelemetryGapsTable {
  edge_id: string;
  gap_id: string;
  dropped: number;
  period_from: number;
  period_to: number;
  dropped_at: number;
  max_bytes: number;
  received_at: number;
}

/** edge_fleet's columns from 0011: what the heartbeat says about the uplink. */
export interface EdgeFleetUplinkColumns {
  heartbeat_interval_ms: number | null;
  /** Cloud time at which the oldest undelivered alarm was queued (last heartbeat's now − its age). */
  oldest_alarm_at: number | null;
  outbox_over_quota: number | null;
}

export type TelemetryTables = {
  telemetry_summaries: TelemetrySummariesTable;
  telemetry_gaps: TelemetryGapsTable;
  edge_fleet: EdgeFleetUplinkColumns;
};

export function telemetryDb<D extends Database>(db: Kysely<D>): Kysely<D & TelemetryTables> {
  return db.withTables<TelemetryTables>() as unknown as Kysely<D & TelemetryTables>;
}

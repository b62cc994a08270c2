// Whether an edge is alive, from its heartbeats alone. The interval is learnt from the beats (the
// smaller of the last two gaps, so one outage does not stretch it), 60 s until two have arrived; an
// edge silent for three intervals is offline and its devices' health is unknown.
import type { DeviceHealthReport } from '../../contracts/heartbeat.js';

export const DEFAULT_HEARTBEAT_MS = 60_000;
/** Missed beats after which an edge counts as offline. */
export const MISSED_BEATS = 3;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 3_600_000;

export interface HeartbeatFacts {
  heartbeat_at: number | null;
  heartbeat_gap_ms: number | null;
  heartbeat_prev_gap_ms: number | null;
  /** The interval the edge reports it is configured with (newer edges); preferred to the learnt one. */
  heartbeat_interval_ms?: number | null;
}

export function heartbeatIntervalMs(r: HeartbeatFacts): number {
  if (r.heartbeat_interval_ms !== undefined && r.heartbeat_interval_ms !== null) return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Number(r.heartbeat_interval_ms)));
  const gaps = [r.heartbeat_gap_ms, r.heartbeat_prev_gap_ms].filter((g): g is number => g !== null).map(Number);
  const v = gaps.length === 0 ? DEFAULT_HEARTBEAT_MS : Math.min(...gaps);
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, v));
}

/** When the edge stops counting as alive (null: it never sent a heartbeat). */
export function staleAt(r: HeartbeatFacts | undefined): number | null {
  if (!r || r.heartbeat_at === null) return null;
  return Number(r.heartbeat_at) + MISSED_BEATS * heartbeatIntervalMs(r);
}

export function edgeOnline(r: HeartbeatFacts | undefined, now: number): boolean {
  const s = staleAt(r);
  return s !== null && now < s;
}

export type EffectiveHealth = 'online' | 'offline' | 'unknown';

/** A device's health as the fleet counts it: what its edge said, unless the edge itself is silent. */
export function effectiveHealth(reported: string | null, edgeAlive: boolean): EffectiveHealth {
  if (!edgeAlive) return 'unknown';
  return reported === 'online' || reported === 'offline' ? reported : 'unknown';
}

/** The history's state for a reported health: starting counts as unknown. */
export function loggedState(h: string | null): 'online' | 'offline' | 'unknown' {
  return h === 'online' || h === 'offline' ? h : 'unknown';
}

/** One device of the last heartbeat, as kept in edge_fleet.heartbeat_devices. */
export type StoredDeviceReport = Omit<DeviceHealthReport, 'id' | 'profile'>;

export function parseHeartbeatDevices(json: string | null): Record<string, StoredDeviceReport> {
  if (!json) return {};
  try {
    return JSON.parse(json) as Record<string, StoredDeviceReport>;
  } catch {
    return {};
  }
}

// What a heartbeat says about the edge's uplink, kept on its fleet row: its configured interval (so the
// cloud need not learn it from gaps), when the oldest alarm still waiting in its outbox was queued (in
// the cloud's time: the beat's arrival minus the age the edge reports), and whether alarms alone
// exceed its outbox quota.
import type { Kysely } from 'kysely';
import type { Heartbeat } from '../../contracts/heartbeat.js';
import type { Database } from '../db/schema.js';
import { iso } from '../http/time.js';
import { telemetryDb, type EdgeFleetUplinkColumns } from './tables.js';

export async function recordUplinkHealth(db: Kysely<Database>, edgeId: string, hb: Heartbeat, now: number): Promise<void> {
  await telemetryDb(db)
    .updateTable('edge_fleet')
    .set({
      heartbeat_interval_ms: hb.heartbeatIntervalMs ?? null,
      oldest_alarm_at: hb.oldestAlarmAgeMs !== undefined ? now - hb.oldestAlarmAgeMs : null,
      outbox_over_quota: hb.outboxOverQuota ? 1 : 0,
    })
    .where('edge_id', '=', edgeId)
    .execute();
}

export interface UplinkView {
  oldestUndeliveredAlarmAgeSeconds: number | null;
  oldestUndeliveredAlarmSince: string | null;
  outboxOverQuota: boolean;
}

/**
 * The edge view's uplink fields. The age grows while the edge is alive (the alarm is still waiting,
 * as far as the cloud knows); for a silent edge it is the age at its last heartbeat.
 */
export function uplinkView(f: Partial<EdgeFleetUplinkColumns> & { heartbeat_at: number | null } | undefined, alive: boolean, now: number): UplinkView {
  const since = f?.oldest_alarm_at ?? null;
  const at = alive ? now : Number(f?.heartbeat_at ?? now);
  return {
    oldestUndeliveredAlarmAgeSeconds: since === null ? null : Math.max(0, Math.floor((at - Number(since)) / 1000)),
    oldestUndeliveredAlarmSince: since === null ? null : iso(Number(since)),
    outboxOverQuota: Number(f?.outbox_over_quota ?? 0) === 1,
  };
}

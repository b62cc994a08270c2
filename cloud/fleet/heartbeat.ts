// An edge's heartbeat, stored: the edge's own state (version, start → uptime, outbox depth, last beat,
// the interval learnt from the beats), each device's last report (kept as one JSON per edge, so a
// beat is one row write however many devices), and — only when a device's state changes — its row
// and one health-history row. An edge heard again after going silent first gets its devices'
// `unknown` written at the moment it fell silent, so availability counts the silence.
import { lockKeys } from '../db/locks.js';
import type { Heartbeat } from '../../contracts/heartbeat.js';
import { ensureEdgeFleet } from '../edges/desired.js';
import type { FleetDeps } from './deps.js';
import { loggedState, staleAt, type StoredDeviceReport } from './liveness.js';
import { recordUplinkHealth } from '../telemetry/uplink-health.js';

const EDGE_LOCK_SPACE = 0x67730011;
/** Clock tolerance when telling a restart from a beat: the start moved later than the last beat. */
const RESTART_SLACK_MS = 2_000;

export interface HeartbeatOutcome {
  desiredVersion: number;
  /** Registered, active devices whose state changed with this beat. */
  changed: number;
  /** Device ids the edge reports that the registry does not have on it (edge.yaml devices, leftovers). */
  unregistered: string[];
}

export async function applyHeartbeat(d: FleetDeps, edgeId: string, hb: Heartbeat): Promise<HeartbeatOutcome> {
  const now = d.clock.now();
  return d.db.transaction().execute(async (trx) => {
    await lockKeys(trx, EDGE_LOCK_SPACE, [edgeId]);
    await ensureEdgeFleet(trx, edgeId, now);
    const prev = await trx.selectFrom('edge_fleet').selectAll().where('edge_id', '=', edgeId).executeTakeFirstOrThrow();
    // The edge's start in the cloud's time (its own clock may be off; the difference is not).
    const startedAt = now - Math.max(0, hb.sentAt - hb.startedAt);
    const restarted = prev.started_at !== null && startedAt > Number(prev.heartbeat_at ?? 0) + RESTART_SLACK_MS;
    const silentSince = staleAt(prev);
    const wasSilent = silentSince !== null && silentSince <= now;
    // The interval is learnt from regular beats: not across a restart, nor across a silence once
    // one gap is known (the first gap is learnt whatever it is: an edge beating every 10 minutes).
    let gap = prev.heartbeat_gap_ms;
    let prevGap = prev.heartbeat_prev_gap_ms;
    if (prev.heartbeat_at !== null && !restarted && (!wasSilent || gap === null) && now > prev.heartbeat_at) {
      prevGap = gap;
      gap = now - Number(prev.heartbeat_at);
    }

    const reports = new Map(hb.devices.map((r) => [r.id, r]));
    const devices = await trx.selectFrom('devices').select(['id', 'health', 'health_since']).where('edge_id', '=', edgeId).where('status', '=', 'active').execute();
    const registered = new Set(devices.map((x) => x.id));
    const log: Array<{ id: string; device_id: string; state: string; at: number }> = [];
    const updates = new Map<string, { health: string; since: number | null; ids: string[] }>();
    let changed = 0;
    for (const dev of devices) {
      let current = dev.health === null ? 'unknown' : loggedState(dev.health);
      if (wasSilent && current !== 'unknown') {
        log.push({ id: d.newId(), device_id: dev.id, state: 'unknown', at: silentSince });
        current = 'unknown';
      }
      const health = reports.get(dev.id)?.health ?? 'unknown';
      const state = loggedState(health);
      const stateMoved = state !== current;
      if (stateMoved) log.push({ id: d.newId(), device_id: dev.id, state, at: now });
      if (health !== dev.health || stateMoved) {
        changed++;
        const since = stateMoved || dev.health_since === null ? now : Number(dev.health_since);
        const key = `${health}|${since}`;
        const u = updates.get(key) ?? { health, since, ids: [] };
        u.ids.push(dev.id);
        updates.set(key, u);
      }
    }
    for (const u of updates.values()) {
      for (let i = 0; i < u.ids.length; i += 500) {
        await trx.updateTable('devices').set({ health: u.health, health_since: u.since }).where('id', 'in', u.ids.slice(i, i + 500)).execute();
      }
    }
    for (let i = 0; i < log.length; i += 500) await trx.insertInto('device_health_log').values(log.slice(i, i + 500)).execute();

    const stored: Record<string, StoredDeviceReport> = {};
    for (const r of hb.devices) {
      stored[r.id] = {
        health: r.health,
        ...(r.lastSeenAt !== undefined ? { lastSeenAt: r.lastSeenAt } : {}),
        ...(r.lastError !== undefined ? { lastError: r.lastError } : {}),
        ...(r.batteryPercent !== undefined ? { batteryPercent: r.batteryPercent } : {}),
      };
    }
    await trx
      .updateTable('edge_fleet')
      .set({
        agent_version: hb.version,
        started_at: startedAt,
        outbox_depth: hb.outboxDepth,
        dead_letters: hb.deadLetters,
        heartbeat_at: now,
        heartbeat_gap_ms: gap,
        heartbeat_prev_gap_ms: prevGap,
        heartbeat_devices: JSON.stringify(stored),
        heartbeat_buses: JSON.stringify(hb.buses),
        ...(hb.configVersion !== undefined ? { applied_version: hb.configVersion } : {}),
      })
      .where('edge_id', '=', edgeId)
      .execute();
    await recordUplinkHealth(trx, edgeId, hb, now);
    return { desiredVersion: Number(prev.config_version), changed, unregistered: hb.devices.map((r) => r.id).filter((id) => !registered.has(id)) };
  });
}

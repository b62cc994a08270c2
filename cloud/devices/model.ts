// Rows to JSON, claim codes, and the health a device shows (its edge's last heartbeat, unless the
// edge itself has gone silent).
import { randomInt } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { ProfileLibrary } from '../../device-profiles/library.js';
import type { Database, DevicesTable, EdgeFleetTable } from '../db/schema.js';
import { iso, isoOrNull } from '../http/time.js';
import { edgeOnline, effectiveHealth, parseHeartbeatDevices, type StoredDeviceReport } from '../fleet/liveness.js';
import { redactConnection } from './connection.js';
import type { DeviceJson, DeviceStatus } from './schemas.js';

// Crockford base32: no I, L, O or U, so a code read off a label cannot be mistyped into another.
const CLAIM_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** 8 characters (40 bits), shown as XXXX-XXXX. */
export function newClaimCode(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += CLAIM_ALPHABET[randomInt(32)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

/** What a technician typed, as stored: upper case, dashes and spaces dropped, O→0, I/L→1. */
export function normaliseClaimCode(input: string): string {
  const s = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return s.length === 8 ? `${s.slice(0, 4)}-${s.slice(4)}` : s;
}

/** What the health part of a device needs from its edge. */
export interface EdgeHealthView {
  alive: boolean;
  reports: Record<string, StoredDeviceReport>;
}

export function edgeHealthView(fleet: Selectable<EdgeFleetTable> | undefined, now: number): EdgeHealthView {
  return { alive: edgeOnline(fleet, now), reports: parseHeartbeatDevices(fleet?.heartbeat_devices ?? null) };
}

/** The health views of the edges of `rows`, one query. */
export async function edgeHealthViews(db: Kysely<Database>, edgeIds: Iterable<string>, now: number): Promise<Map<string, EdgeHealthView>> {
  const ids = [...new Set(edgeIds)];
  const out = new Map<string, EdgeHealthView>();
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('edge_fleet').selectAll().where('edge_id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.edge_id, r]));
  for (const id of ids) out.set(id, edgeHealthView(byId.get(id), now));
  return out;
}

export function toDeviceJson(r: Selectable<DevicesTable>, profiles: ProfileLibrary, edge: EdgeHealthView | undefined): DeviceJson {
  const report = edge?.reports[r.id];
  const alive = edge?.alive ?? false;
  return {
    id: r.id,
    name: r.name,
    profile: r.profile,
    kind: profiles.has(r.profile) ? profiles.get(r.profile).kind : null,
    edgeId: r.edge_id,
    protocol: r.protocol,
    connection: redactConnection(JSON.parse(r.connection) as Record<string, unknown>),
    serial: r.serial,
    location: r.lon !== null && r.lat !== null ? { lon: r.lon, lat: r.lat } : null,
    gridId: r.grid_id,
    townId: r.town_id,
    site: r.site,
    tags: JSON.parse(r.tags) as string[],
    pollInterval: r.poll_interval === null ? null : (JSON.parse(r.poll_interval) as unknown),
    offlineAfterMisses: r.offline_after_misses,
    overrides: r.overrides === null ? null : (JSON.parse(r.overrides) as unknown),
    status: r.status as DeviceStatus,
    claimCode: r.claim_code,
    claimedAt: isoOrNull(r.claimed_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    health: {
      status: r.status === 'active' ? effectiveHealth(r.health, alive) : 'unknown',
      reported: r.health,
      since: isoOrNull(r.health_since),
      lastSeenAt: report?.lastSeenAt !== undefined ? iso(report.lastSeenAt) : null,
      lastError: report?.lastError ?? null,
      batteryPercent: report?.batteryPercent ?? null,
      edgeOnline: alive,
    },
  };
}

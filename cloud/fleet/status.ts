// The fleet's morning summary: per town, devices online/offline/unknown now, time-weighted
// availability over a period (from the health history), its edges and their heartbeats, and the
// batteries running low; and the list of devices in one state, with when they were last heard.
import type { Kysely } from 'kysely';
import Type from 'typebox';
import type { Database } from '../db/schema.js';
import { DEFAULT_PAGE_SIZE, NextCursor, NullableIsoTime, nullable, IsoTime, LocationJson, PageQuery } from '../http/schemas.js';
import { iso, isoOrNull } from '../http/time.js';
import { decodeIdCursor, encodeIdCursor, scopedTown } from '../devices/query.js';
import { DeviceHealthJson } from '../devices/schemas.js';
import { edgeViews, EdgeViewJson } from '../edges/view.js';
import { addTotals, availabilityPercent, emptyTotals, stateTotals, type StateSample, type StateTotals } from './availability.js';
import type { FleetDeps } from './deps.js';
import { edgeOnline, effectiveHealth, parseHeartbeatDevices, staleAt, type EffectiveHealth, type StoredDeviceReport } from './liveness.js';

export const DEFAULT_PERIOD_MS = 24 * 3_600_000;
export const DEFAULT_LOW_BATTERY = 20;

const Counts = Type.Object(
  { total: Type.Integer({ description: 'active devices' }), online: Type.Integer(), offline: Type.Integer(), unknown: Type.Integer(), disabled: Type.Integer() },
  { additionalProperties: false },
);
const Availability = Type.Object(
  {
    percent: nullable(Type.Number({ description: 'online time / (online + offline + unknown time) of the period; null when nothing was tracked' })),
    onlineSeconds: Type.Integer(),
    offlineSeconds: Type.Integer(),
    unknownSeconds: Type.Integer(),
  },
  { additionalProperties: false },
);
const LowBattery = Type.Object(
  { deviceId: Type.String(), name: Type.String(), edgeId: Type.String(), batteryPercent: Type.Number(), lastSeenAt: NullableIsoTime },
  { additionalProperties: false },
);
const TownStatus = Type.Object(
  {
    townId: nullable(Type.String({ description: 'null: devices outside every town' })),
    name: nullable(Type.String()),
    devices: Counts,
    availability: Availability,
    byKind: Type.Array(Type.Object({ kind: Type.String(), devices: Counts, availabilityPercent: nullable(Type.Number()) }, { additionalProperties: false }), {
      description: 'per device kind (camera, water_level…): camera uptime is the camera row',
    }),
    edges: Type.Array(EdgeViewJson),
    lowBattery: Type.Array(LowBattery),
  },
  { additionalProperties: false },
);
export const FleetStatusJson = Type.Object(
  {
    at: IsoTime,
    from: IsoTime,
    to: IsoTime,
    lowBatteryPercent: Type.Number(),
    totals: Type.Object({ devices: Counts, availability: Availability, edges: Type.Object({ total: Type.Integer(), online: Type.Integer(), offline: Type.Integer(), never: Type.Integer(), revoked: Type.Integer() }, { additionalProperties: false }) }, { additionalProperties: false }),
    towns: Type.Array(TownStatus),
  },
  { additionalProperties: false },
);
export type FleetStatusJson = Type.Static<typeof FleetStatusJson>;
type CountsT = Type.Static<typeof Counts>;
type TownStatusT = Type.Static<typeof TownStatus>;

const noCounts = (): CountsT => ({ total: 0, online: 0, offline: 0, unknown: 0, disabled: 0 });
const seconds = (ms: number) => Math.round(ms / 1000);
const availabilityJson = (t: StateTotals) => ({ percent: availabilityPercent(t), onlineSeconds: seconds(t.online), offlineSeconds: seconds(t.offline), unknownSeconds: seconds(t.unknown) });

function count(c: CountsT, status: string, h: EffectiveHealth): void {
  if (status === 'disabled') {
    c.disabled++;
    return;
  }
  c.total++;
  c[h]++;
}

/** Every device's history rows relevant to [from, to): the last one before `from` and those inside. */
async function history(db: Kysely<Database>, from: number, to: number, town: string | undefined): Promise<Map<string, StateSample[]>> {
  const scope = town === undefined ? undefined : db.selectFrom('devices').select('id').where('town_id', '=', town);
  let inside = db.selectFrom('device_health_log').select(['id', 'device_id', 'state', 'at']).where('at', '>=', from).where('at', '<', to);
  if (scope) inside = inside.where('device_id', 'in', scope);
  let lastBefore = db
    .selectFrom('device_health_log as l')
    .innerJoin(
      (eb) => {
        let q = eb.selectFrom('device_health_log').select((x) => ['device_id', x.fn.max('at').as('at')]).where('at', '<', from);
        if (scope) q = q.where('device_id', 'in', scope);
        return q.groupBy('device_id').as('m');
      },
      (j) => j.onRef('m.device_id', '=', 'l.device_id').onRef('m.at', '=', 'l.at'),
    )
    .select(['l.id', 'l.device_id', 'l.state', 'l.at']);
  if (scope) lastBefore = lastBefore.where('l.device_id', 'in', scope);
  const rows = [...(await lastBefore.execute()), ...(await inside.execute())];
  rows.sort((a, b) => Number(a.at) - Number(b.at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out = new Map<string, StateSample[]>();
  for (const r of rows) {
    const list = out.get(r.device_id) ?? [];
    list.push({ at: Number(r.at), state: r.state });
    out.set(r.device_id, list);
  }
  return out;
}

export async function fleetStatus(d: FleetDeps, o: { from?: number; to?: number; lowBattery?: number; keyTown: string | null; town?: string }): Promise<FleetStatusJson> {
  const now = d.clock.now();
  const to = Math.min(o.to ?? now, now);
  const from = o.from ?? to - DEFAULT_PERIOD_MS;
  const low = o.lowBattery ?? DEFAULT_LOW_BATTERY;
  const town = scopedTown(o.keyTown, o.town);

  const fleetRows = await d.db.selectFrom('edge_fleet').selectAll().execute();
  const fleet = new Map(fleetRows.map((f) => [f.edge_id, f]));
  let dq = d.db.selectFrom('devices').select(['id', 'name', 'profile', 'edge_id', 'town_id', 'status', 'health']);
  if (town !== undefined) dq = dq.where('town_id', '=', town);
  const devices = await dq.execute();
  const hist = await history(d.db, from, to, town);
  const reportsOf = new Map<string, Record<string, StoredDeviceReport>>();
  const reports = (edgeId: string) => {
    let r = reportsOf.get(edgeId);
    if (!r) reportsOf.set(edgeId, (r = parseHeartbeatDevices(fleet.get(edgeId)?.heartbeat_devices ?? null)));
    return r;
  };

  const towns = new Map<string | null, { counts: CountsT; totals: StateTotals; kinds: Map<string, { counts: CountsT; totals: StateTotals }>; low: TownStatusT['lowBattery'] }>();
  const townOf = (id: string | null) => {
    let t = towns.get(id);
    if (!t) towns.set(id, (t = { counts: noCounts(), totals: emptyTotals(), kinds: new Map(), low: [] }));
    return t;
  };
  const allCounts = noCounts();
  const allTotals = emptyTotals();
  for (const dev of devices) {
    const f = fleet.get(dev.edge_id);
    const alive = edgeOnline(f, now);
    // A device whose edge is silent now: unknown from the moment it fell silent.
    const silentFrom = alive ? null : (staleAt(f) ?? from);
    const totals = stateTotals(hist.get(dev.id) ?? [], from, to, silentFrom);
    const kind = d.profiles.has(dev.profile) ? d.profiles.get(dev.profile).kind : 'unknown';
    const t = townOf(dev.town_id);
    const k = t.kinds.get(kind) ?? { counts: noCounts(), totals: emptyTotals() };
    t.kinds.set(kind, k);
    addTotals(t.totals, totals);
    addTotals(k.totals, totals);
    addTotals(allTotals, totals);
    if (dev.status === 'decommissioned') continue;
    const h = effectiveHealth(dev.health, alive);
    count(t.counts, dev.status, h);
    count(k.counts, dev.status, h);
    count(allCounts, dev.status, h);
    const report = reports(dev.edge_id)[dev.id];
    if (dev.status === 'active' && report?.batteryPercent !== undefined && report.batteryPercent <= low) {
      t.low.push({ deviceId: dev.id, name: dev.name, edgeId: dev.edge_id, batteryPercent: report.batteryPercent, lastSeenAt: report.lastSeenAt !== undefined ? iso(report.lastSeenAt) : null });
    }
  }

  const edges = await edgeViews(d.db, now, town !== undefined ? { town } : {});
  for (const e of edges) townOf(e.townId);
  const names = new Map<string, string>();
  const townIds = [...towns.keys()].filter((x): x is string => x !== null);
  if (townIds.length > 0) {
    for (const g of await d.db.selectFrom('grids').select(['id', 'name', 'name_zh']).where('id', 'in', townIds).execute()) names.set(g.id, g.name_zh ? `${g.name_zh} ${g.name}` : g.name);
  }
  const edgeTotals = { total: edges.length, online: 0, offline: 0, never: 0, revoked: 0 };
  for (const e of edges) edgeTotals[e.status]++;

  const townList: TownStatusT[] = [...towns.entries()]
    .sort(([a], [b]) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)))
    .map(([id, t]) => ({
      townId: id,
      name: id === null ? null : (names.get(id) ?? null),
      devices: t.counts,
      availability: availabilityJson(t.totals),
      byKind: [...t.kinds.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, k]) => ({ kind, devices: k.counts, availabilityPercent: availabilityPercent(k.totals) })),
      edges: edges.filter((e) => e.townId === id),
      lowBattery: t.low.sort((a, b) => a.batteryPercent - b.batteryPercent || a.deviceId.localeCompare(b.deviceId)),
    }));
  return { at: iso(now), from: iso(from), to: iso(to), lowBatteryPercent: low, totals: { devices: allCounts, availability: availabilityJson(allTotals), edges: edgeTotals }, towns: townList };
}

export const FleetDevicesQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(['online', 'offline', 'unknown'] as const, { description: 'as the fleet counts it: a silent edge makes its devices unknown' })),
    town: Type.Optional(Type.String({ maxLength: 128 })),
    edge: Type.Optional(Type.String({ maxLength: 64 })),
    profile: Type.Optional(Type.String({ maxLength: 128 })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type FleetDevicesQuery = Type.Static<typeof FleetDevicesQuery>;

export const FleetDeviceJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    profile: Type.String(),
    kind: nullable(Type.String()),
    edgeId: Type.String(),
    townId: nullable(Type.String()),
    gridId: nullable(Type.String()),
    location: nullable(LocationJson),
    // The same health fields as a device's own view (GET /devices/:id).
    ...DeviceHealthJson.properties,
  },
  { additionalProperties: false },
);
export const FleetDeviceList = Type.Object({ items: Type.Array(FleetDeviceJson), nextCursor: NextCursor }, { additionalProperties: false });
export type FleetDeviceList = Type.Static<typeof FleetDeviceList>;

/** Active devices in one effective state (offline: their edge is alive and says so), id order. */
export async function fleetDevices(d: FleetDeps, q: FleetDevicesQuery, keyTown: string | null): Promise<FleetDeviceList> {
  const now = d.clock.now();
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  const town = scopedTown(keyTown, q.town);
  const fleetRows = await d.db.selectFrom('edge_fleet').selectAll().execute();
  const fleet = new Map(fleetRows.map((f) => [f.edge_id, f]));
  const alive = fleetRows.filter((f) => edgeOnline(f, now)).map((f) => f.edge_id);
  let query = d.db.selectFrom('devices').selectAll().where('status', '=', 'active');
  if (town !== undefined) query = query.where('town_id', '=', town);
  if (q.edge !== undefined) query = query.where('edge_id', '=', q.edge);
  if (q.profile !== undefined) query = query.where('profile', '=', q.profile);
  if (q.status === 'online' || q.status === 'offline') {
    if (alive.length === 0) return { items: [], nextCursor: null };
    query = query.where('health', '=', q.status).where('edge_id', 'in', alive);
  } else if (q.status === 'unknown' && alive.length > 0) {
    // (With no edge alive every active device is unknown.)
    query = query.where((eb) => eb.or([eb('health', 'is', null), eb('health', 'not in', ['online', 'offline']), eb('edge_id', 'not in', alive)]));
  }
  if (q.cursor !== undefined) query = query.where('id', '>', decodeIdCursor(q.cursor));
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const reports = new Map<string, Record<string, StoredDeviceReport>>();
  const items = page.map((r) => {
    const f = fleet.get(r.edge_id);
    const up = edgeOnline(f, now);
    if (!reports.has(r.edge_id)) reports.set(r.edge_id, parseHeartbeatDevices(f?.heartbeat_devices ?? null));
    const report = reports.get(r.edge_id)![r.id];
    return {
      id: r.id,
      name: r.name,
      profile: r.profile,
      kind: d.profiles.has(r.profile) ? d.profiles.get(r.profile).kind : null,
      edgeId: r.edge_id,
      townId: r.town_id,
      gridId: r.grid_id,
      location: r.lon !== null && r.lat !== null ? { lon: r.lon, lat: r.lat } : null,
      status: effectiveHealth(r.health, up),
      reported: r.health,
      since: isoOrNull(r.health_since),
      lastSeenAt: report?.lastSeenAt !== undefined ? iso(report.lastSeenAt) : null,
      lastError: report?.lastError ?? null,
      batteryPercent: report?.batteryPercent ?? null,
      edgeOnline: up,
    };
  });
  return { items, nextCursor: rows.length > limit && last ? encodeIdCursor(last.id) : null };
}

// An edge as technicians see it: registration, town, liveness from heartbeats, what it runs, and its
// remote configuration — desired version, the version it applied, and its last report (with the
// reasons when it rejected one).
import type { Kysely, Selectable } from 'kysely';
import Type from 'typebox';
import type { ConfigReport } from '../../contracts/edge-config.js';
import type { Database, EdgeFleetTable, EdgesTable } from '../db/schema.js';
import { IsoTime, NullableIsoTime, nullable } from '../http/schemas.js';
import { iso, isoOrNull } from '../http/time.js';
import { edgeOnline, heartbeatIntervalMs } from '../fleet/liveness.js';
import { uplinkView } from '../telemetry/uplink-health.js';

export const EDGE_STATES = ['online', 'offline', 'never', 'revoked'] as const;

export const EdgeViewJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    townId: nullable(Type.String()),
    createdAt: IsoTime,
    revokedAt: NullableIsoTime,
    enrolledAt: NullableIsoTime,
    status: Type.Enum(EDGE_STATES, { description: 'online: heard within 3 heartbeat intervals; never: no heartbeat yet' }),
    lastHeartbeatAt: NullableIsoTime,
    heartbeatIntervalSeconds: Type.Number(),
    startedAt: NullableIsoTime,
    uptimeSeconds: nullable(Type.Integer({ description: 'now (or at the last heartbeat, when offline) minus the start' })),
    version: nullable(Type.String({ description: 'gridsense version the edge runs' })),
    outboxDepth: nullable(Type.Integer()),
    deadLetters: nullable(Type.Integer()),
    oldestUndeliveredAlarmAgeSeconds: nullable(Type.Integer({ description: 'how long the oldest alarm in the edge outbox has waited (null: none waiting); for a silent edge, at its last heartbeat' })),
    oldestUndeliveredAlarmSince: NullableIsoTime,
    outboxOverQuota: Type.Boolean({ description: 'alarms alone exceed the edge outbox quota: it queues no telemetry summaries' }),
    config: Type.Object(
      {
        desiredVersion: Type.Integer(),
        appliedVersion: nullable(Type.Integer()),
        inSync: Type.Boolean(),
        changedAt: IsoTime,
        rules: Type.Array(Type.String()),
        lastReport: nullable(
          Type.Object(
            {
              version: Type.Integer(),
              applied: Type.Boolean(),
              at: IsoTime,
              error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))) })),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    devices: Type.Object(
      { total: Type.Integer(), active: Type.Integer(), disabled: Type.Integer(), online: Type.Integer(), offline: Type.Integer(), unknown: Type.Integer() },
      { additionalProperties: false, description: 'registered devices on this edge (decommissioned ones not counted)' },
    ),
  },
  { additionalProperties: false },
);
export type EdgeViewJson = Type.Static<typeof EdgeViewJson>;

type DeviceCounts = EdgeViewJson['devices'];
const noDevices = (): DeviceCounts => ({ total: 0, active: 0, disabled: 0, online: 0, offline: 0, unknown: 0 });

export function edgeView(e: Pick<Selectable<EdgesTable>, 'id' | 'name' | 'created_at' | 'revoked_at'>, f: Selectable<EdgeFleetTable> | undefined, counts: DeviceCounts | undefined, now: number): EdgeViewJson {
  const alive = edgeOnline(f, now);
  const hb = f?.heartbeat_at ?? null;
  const status = e.revoked_at !== null ? 'revoked' : hb === null ? 'never' : alive ? 'online' : 'offline';
  const started = f?.started_at ?? null;
  const report = f?.report ? (JSON.parse(f.report) as ConfigReport) : null;
  const desired = Number(f?.config_version ?? 1);
  const applied = f?.applied_version === null || f?.applied_version === undefined ? null : Number(f.applied_version);
  const c = counts ?? noDevices();
  // A silent edge's devices are unknown, whatever they last said.
  const devices = alive ? c : { ...c, online: 0, offline: 0, unknown: c.active };
  return {
    id: e.id,
    name: e.name,
    townId: f?.town_id ?? null,
    createdAt: iso(e.created_at),
    revokedAt: isoOrNull(e.revoked_at),
    enrolledAt: isoOrNull(f?.enrolled_at ?? null),
    status,
    lastHeartbeatAt: isoOrNull(hb),
    heartbeatIntervalSeconds: (f ? heartbeatIntervalMs(f) : heartbeatIntervalMs({ heartbeat_at: null, heartbeat_gap_ms: null, heartbeat_prev_gap_ms: null })) / 1000,
    ...uplinkView(f, alive, now),
    startedAt: isoOrNull(started),
    uptimeSeconds: started !== null && hb !== null ? Math.max(0, Math.floor(((alive ? now : Number(hb)) - Number(started)) / 1000)) : null,
    version: f?.agent_version ?? null,
    outboxDepth: f?.outbox_depth ?? null,
    deadLetters: f?.dead_letters ?? null,
    config: {
      desiredVersion: desired,
      appliedVersion: applied,
      inSync: applied === desired,
      changedAt: iso(Number(f?.config_changed_at ?? e.created_at)),
      rules: f ? (JSON.parse(f.rules) as string[]) : [],
      lastReport: report && f?.report_at ? { version: report.version, applied: report.applied, at: iso(Number(f.report_at)), ...(report.error ? { error: report.error } : {}) } : null,
    },
    devices,
  };
}

/** Device counts per edge (active ones by their last reported health). */
export async function deviceCountsByEdge(db: Kysely<Database>, edgeIds?: string[]): Promise<Map<string, DeviceCounts>> {
  let q = db.selectFrom('devices').select((eb) => ['edge_id', 'status', 'health', eb.fn.countAll<number>().as('n')]).where('status', '!=', 'decommissioned');
  if (edgeIds) {
    if (edgeIds.length === 0) return new Map();
    q = q.where('edge_id', 'in', edgeIds);
  }
  const rows = await q.groupBy(['edge_id', 'status', 'health']).execute();
  const out = new Map<string, DeviceCounts>();
  for (const r of rows) {
    const c = out.get(r.edge_id) ?? noDevices();
    const n = Number(r.n);
    c.total += n;
    if (r.status === 'disabled') c.disabled += n;
    else {
      c.active += n;
      if (r.health === 'online') c.online += n;
      else if (r.health === 'offline') c.offline += n;
      else c.unknown += n;
    }
    out.set(r.edge_id, c);
  }
  return out;
}

/** Edges (optionally one town's, or one edge) with their fleet rows and device counts. */
export async function edgeViews(db: Kysely<Database>, now: number, filter: { town?: string; id?: string } = {}): Promise<EdgeViewJson[]> {
  let q = db.selectFrom('edges').leftJoin('edge_fleet', 'edge_fleet.edge_id', 'edges.id').select(['edges.id', 'edges.name', 'edges.created_at', 'edges.revoked_at']);
  if (filter.town !== undefined) q = q.where('edge_fleet.town_id', '=', filter.town);
  if (filter.id !== undefined) q = q.where('edges.id', '=', filter.id);
  const edges = await q.orderBy('edges.id').execute();
  if (edges.length === 0) return [];
  const ids = edges.map((e) => e.id);
  const fleet = new Map<string, Selectable<EdgeFleetTable>>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const f of await db.selectFrom('edge_fleet').selectAll().where('edge_id', 'in', ids.slice(i, i + 500)).execute()) fleet.set(f.edge_id, f);
  }
  const counts = filter.town === undefined && filter.id === undefined ? await deviceCountsByEdge(db) : await deviceCountsByEdge(db, ids);
  return edges.map((e) => edgeView(e, fleet.get(e.id), counts.get(e.id), now));
}

// A registered device's life: moved (location or edge), edited (name, overrides, connection…),
// disabled and enabled, decommissioned, claimed on site, its MQTT secret renewed. Each change is one
// transaction that also moves the configuration version of every edge it affects; on PostgreSQL the
// device is locked first, so two changes of one device never interleave.
import type { Kysely, Selectable, Updateable } from 'kysely';
import { GsError, type ErrorDetail } from '../../contracts/errors.js';
import { isUniqueViolation } from '../db/errors.js';
import { lockKeys } from '../db/locks.js';
import type { Database, DevicesTable } from '../db/schema.js';
import { bumpConfig, ensureEdgeFleet } from '../edges/desired.js';
import { placeDevice, type FleetDeps } from '../fleet/deps.js';
import { connectionErrors, topicRootOf, usesEmbeddedBroker } from './connection.js';
import { normaliseClaimCode } from './model.js';
import { activeCounts, edgeMqttAccounts, edgeRuleSets, fieldProblems, MAX_DEVICES_PER_EDGE, mqttAccountOf, mqttConflicts, newMqttSecret, prepareConnection, registrationError, type Problem } from './register.js';
import type { ClaimBody, MoveBody, MqttCredentialsJson, PatchBody } from './schemas.js';
import { hashPassword } from '../../edge/broker/password.js';

/** Advisory-lock space of devices (PostgreSQL), apart from the other contexts' spaces. */
const DEVICE_LOCK_SPACE = 0x67730010;

export interface Changed {
  row: Selectable<DevicesTable>;
  /** Edges whose configuration version moved: notify their long-polls after the commit. */
  edges: string[];
  mqtt?: MqttCredentialsJson;
}

/** The device, when it exists and the caller's town may see it; else GS_ERR_DEVICE_UNKNOWN (404). */
export async function loadDevice(db: Kysely<Database>, id: string, town: string | null): Promise<Selectable<DevicesTable>> {
  const row = await db.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (town !== null && row.town_id !== town)) throw new GsError('GS_ERR_DEVICE_UNKNOWN', `no device "${id}"`);
  return row;
}

interface Step {
  patch: Updateable<DevicesTable>;
  /** A health-history state to record (a state change the fleet counts). */
  log?: string;
  /** Edges to bump besides the device's own (when it is or was active). */
  edges: string[];
  tags?: string[];
  mqtt?: MqttCredentialsJson;
}

/** Runs `step` on the locked, freshly read row, writes its patch and bumps the edges. */
async function change(d: FleetDeps, id: string, town: string | null, step: (row: Selectable<DevicesTable>, trx: Kysely<Database>) => Promise<Step>): Promise<Changed> {
  const now = d.clock.now();
  try {
    return await d.db.transaction().execute(async (trx) => {
      await lockKeys(trx, DEVICE_LOCK_SPACE, [id]);
      const row = await loadDevice(trx, id, town);
      const s = await step(row, trx);
      await trx.updateTable('devices').set({ ...s.patch, updated_at: now }).where('id', '=', id).execute();
      if (s.tags) {
        await trx.deleteFrom('device_tags').where('device_id', '=', id).execute();
        if (s.tags.length > 0) await trx.insertInto('device_tags').values(s.tags.map((tag) => ({ device_id: id, tag }))).execute();
      }
      if (s.log) await trx.insertInto('device_health_log').values({ id: d.newId(), device_id: id, state: s.log, at: now }).execute();
      for (const e of s.edges) await ensureEdgeFleet(trx, e, now);
      const edges = await bumpConfig(trx, s.edges, now);
      const next = await trx.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return { row: next, edges, ...(s.mqtt ? { mqtt: s.mqtt } : {}) };
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new GsError('GS_ERR_DEVICE_EXISTS', 'another device holds that serial');
    throw err;
  }
}

function notDecommissioned(row: Selectable<DevicesTable>, what: string): void {
  if (row.status === 'decommissioned') throw new GsError('GS_ERR_DEVICE_STATE', `device "${row.id}" is decommissioned; it cannot be ${what}`);
}

/** An edge a device may go to: enrolled or registered, and not revoked. */
async function liveEdge(db: Kysely<Database>, edgeId: string): Promise<{ townId: string | null }> {
  const e = await db.selectFrom('edges').leftJoin('edge_fleet', 'edge_fleet.edge_id', 'edges.id').select(['edges.id', 'edges.revoked_at', 'edge_fleet.town_id']).where('edges.id', '=', edgeId).executeTakeFirst();
  if (!e) throw new GsError('GS_ERR_VALIDATION', `no edge "${edgeId}"`, [{ path: '/edge', message: 'is not a registered edge' }]);
  if (e.revoked_at !== null) throw new GsError('GS_ERR_EDGE_REVOKED', `edge "${edgeId}" is revoked`, [{ path: '/edge', message: 'is revoked' }]);
  return { townId: e.town_id ?? null };
}

/** Throws when the device, active on `edgeId` with `conn` and `overrides`, would break that edge's configuration. */
async function checkOnEdge(d: FleetDeps, trx: Kysely<Database>, row: Selectable<DevicesTable>, edgeId: string, conn: Record<string, unknown>, overrides: Record<string, Record<string, unknown>> | null, site: string | null): Promise<void> {
  const problems: Problem[] = [];
  if (row.status !== 'active' || row.edge_id !== edgeId) {
    const n = (await activeCounts(trx, [edgeId])).get(edgeId) ?? 0;
    if (n >= MAX_DEVICES_PER_EDGE) problems.push({ path: '/edge', message: `edge "${edgeId}" already runs ${MAX_DEVICES_PER_EDGE} devices, the most one edge's configuration holds` });
  }
  const account = mqttAccountOf(row.id, conn);
  if (account) problems.push(...mqttConflicts(account, (await edgeMqttAccounts(trx, [edgeId])).get(edgeId) ?? []));
  const deps = { ...d, db: trx };
  const sets = (await edgeRuleSets(deps, [edgeId], new Map([[edgeId, [row.profile]]]), [row.id])).get(edgeId) ?? [];
  problems.push(...d.rules.overrideProblems(sets, { id: row.id, profile: row.profile, site, overrides }, d.profiles));
  if (problems.length > 0) throw registrationError(row.id, problems);
}

function townCheck(town: string | null, next: string | null): void {
  if (town !== null && next !== town) throw new GsError('GS_ERR_AUTH_FORBIDDEN', `the device would move to ${next ? `town "${next}"` : 'no town'}; this key writes to town "${town}" only`);
}

export function moveDevice(d: FleetDeps, id: string, town: string | null, body: MoveBody): Promise<Changed> {
  return change(d, id, town, async (row, trx) => {
    notDecommissioned(row, 'moved');
    const edgeId = body.edge ?? row.edge_id;
    const edgeMoved = edgeId !== row.edge_id;
    const edge = await liveEdge(trx, edgeId);
    const location = body.location ?? (row.lon !== null && row.lat !== null ? { lon: row.lon, lat: row.lat } : null);
    const site = body.site !== undefined ? body.site : row.site;
    const place = placeDevice(d.grids, location, edge.townId);
    townCheck(town, place.townId);
    const conn = JSON.parse(row.connection) as Record<string, unknown>;
    if (edgeMoved && row.status === 'active') await checkOnEdge(d, trx, row, edgeId, conn, row.overrides ? (JSON.parse(row.overrides) as Record<string, Record<string, unknown>>) : null, site);
    const active = row.status === 'active';
    return {
      patch: {
        edge_id: edgeId,
        lon: location?.lon ?? null,
        lat: location?.lat ?? null,
        grid_id: place.gridId,
        town_id: place.townId,
        site,
        ...(edgeMoved ? { health: null, health_since: d.clock.now() } : {}),
      },
      // On another edge nothing is known of it until that edge reports.
      ...(edgeMoved && active ? { log: 'unknown' } : {}),
      edges: active ? [row.edge_id, edgeId] : [],
    };
  });
}

export function disableDevice(d: FleetDeps, id: string, town: string | null): Promise<Changed> {
  return change(d, id, town, async (row) => {
    if (row.status !== 'active') throw new GsError('GS_ERR_DEVICE_STATE', `device "${id}" is ${row.status}, not active`);
    return { patch: { status: 'disabled', disabled_at: d.clock.now(), health: null, health_since: d.clock.now() }, log: 'disabled', edges: [row.edge_id] };
  });
}

export function enableDevice(d: FleetDeps, id: string, town: string | null): Promise<Changed> {
  return change(d, id, town, async (row, trx) => {
    if (row.status !== 'disabled') throw new GsError('GS_ERR_DEVICE_STATE', `device "${id}" is ${row.status}, not disabled`);
    await liveEdge(trx, row.edge_id);
    await checkOnEdge(d, trx, row, row.edge_id, JSON.parse(row.connection) as Record<string, unknown>, row.overrides ? (JSON.parse(row.overrides) as Record<string, Record<string, unknown>>) : null, row.site);
    return { patch: { status: 'active', disabled_at: null, health: null, health_since: d.clock.now() }, log: 'unknown', edges: [row.edge_id] };
  });
}

export function decommissionDevice(d: FleetDeps, id: string, town: string | null): Promise<Changed> {
  return change(d, id, town, async (row) => {
    notDecommissioned(row, 'decommissioned again');
    const conn = JSON.parse(row.connection) as Record<string, unknown>;
    // Its login dies with it: a sensor taken down keeps no key to the broker.
    delete conn.passwordHash;
    delete conn.password;
    return {
      patch: { status: 'decommissioned', decommissioned_at: d.clock.now(), claim_code: null, connection: JSON.stringify(conn), health: null, health_since: d.clock.now() },
      log: 'decommissioned',
      edges: row.status === 'active' ? [row.edge_id] : [],
    };
  });
}

export function patchDevice(d: FleetDeps, id: string, town: string | null, body: PatchBody): Promise<Changed> {
  return change(d, id, town, async (row, trx) => {
    notDecommissioned(row, 'changed');
    const patch: Updateable<DevicesTable> = {};
    let affectsEdge = false;
    let mqtt: MqttCredentialsJson | undefined;
    if (body.name !== undefined) {
      patch.name = body.name;
      affectsEdge = true;
    }
    if (body.serial !== undefined) patch.serial = body.serial;
    if (body.pollInterval !== undefined) {
      const bad = fieldProblems({ pollInterval: body.pollInterval });
      if (bad.length > 0) throw new GsError('GS_ERR_VALIDATION', `device "${id}": ${bad[0]!.message}`, bad);
      patch.poll_interval = body.pollInterval === null ? null : JSON.stringify(body.pollInterval);
      affectsEdge = true;
    }
    if (body.offlineAfterMisses !== undefined) {
      patch.offline_after_misses = body.offlineAfterMisses;
      affectsEdge = true;
    }
    let overrides = row.overrides ? (JSON.parse(row.overrides) as Record<string, Record<string, unknown>>) : null;
    if (body.overrides !== undefined) {
      overrides = body.overrides && Object.keys(body.overrides).length > 0 ? body.overrides : null;
      patch.overrides = overrides ? JSON.stringify(overrides) : null;
      affectsEdge = true;
    }
    let conn = JSON.parse(row.connection) as Record<string, unknown>;
    if (body.connection !== undefined) {
      const given: Record<string, unknown> = { ...body.connection };
      // Same broker login kept unless a new secret is given: editing a host must not lock the device out.
      if (usesEmbeddedBroker(given as { protocol: string }) && given.password === undefined && given.passwordHash === undefined && typeof conn.passwordHash === 'string') {
        const oldUser = typeof conn.username === 'string' ? conn.username : row.id;
        if ((given.username ?? row.id) === oldUser) given.passwordHash = conn.passwordHash;
      }
      const prepared = prepareConnection(row.id, given);
      const problems: ErrorDetail[] = connectionErrors(prepared.check as { protocol: string }, d.profiles.has(row.profile) ? d.profiles.get(row.profile).protocol : undefined).map((p) => ({ path: `/connection${p.path}`, message: p.message }));
      if (problems.length > 0) throw new GsError('GS_ERR_VALIDATION', `device "${id}": the connection is not valid`, problems);
      conn = prepared.conn;
      if (prepared.secret.kind === 'hash') conn.passwordHash = await hashPassword(prepared.secret.password);
      if (prepared.secret.kind === 'generate') {
        const s = await newMqttSecret();
        conn.passwordHash = s.passwordHash;
        mqtt = { username: conn.username as string, password: s.password, topicRoot: topicRootOf(row.id, conn) };
      }
      patch.connection = JSON.stringify(conn);
      patch.protocol = String(conn.protocol);
      affectsEdge = true;
    }
    if (row.status === 'active' && (body.connection !== undefined || body.overrides !== undefined)) await checkOnEdge(d, trx, row, row.edge_id, conn, overrides, row.site);
    if (body.tags) patch.tags = JSON.stringify(body.tags);
    return { patch, edges: affectsEdge && row.status === 'active' ? [row.edge_id] : [], ...(body.tags ? { tags: body.tags } : {}), ...(mqtt ? { mqtt } : {}) };
  });
}

/** A new MQTT password for a device on its edge's broker (the old one stops working once the edge applies it). */
export function renewMqttSecret(d: FleetDeps, id: string, town: string | null): Promise<Changed> {
  return change(d, id, town, async (row) => {
    notDecommissioned(row, 'given a new secret');
    const conn = JSON.parse(row.connection) as Record<string, unknown>;
    if (!usesEmbeddedBroker(conn as { protocol: string })) {
      throw new GsError('GS_ERR_DEVICE_STATE', `device "${id}" does not log in to its edge's MQTT broker`, [{ path: '/connection', message: `protocol ${String(conn.protocol)}${conn.broker ? `, broker ${String(conn.broker)}` : ''}` }]);
    }
    const s = await newMqttSecret();
    delete conn.password;
    conn.passwordHash = s.passwordHash;
    if (conn.username === undefined) conn.username = row.id;
    return {
      patch: { connection: JSON.stringify(conn) },
      edges: row.status === 'active' ? [row.edge_id] : [],
      mqtt: { username: conn.username as string, password: s.password, topicRoot: topicRootOf(row.id, conn) },
    };
  });
}

/**
 * A technician on site claims the device on the label: its location (and so grid and town) is set,
 * once. A code nobody holds is 404; a used one 409.
 */
export async function claimDevice(d: FleetDeps, town: string | null, body: ClaimBody, actor: string): Promise<Changed> {
  const code = normaliseClaimCode(body.code);
  const hit = await d.db.selectFrom('devices').select(['id', 'claimed_at', 'status', 'town_id']).where('claim_code', '=', code).executeTakeFirst();
  if (!hit || hit.status === 'decommissioned' || (town !== null && hit.town_id !== town && hit.town_id !== null)) {
    throw new GsError('GS_ERR_CLAIM_UNKNOWN', `no device has claim code "${body.code}"`);
  }
  if (hit.claimed_at !== null) throw new GsError('GS_ERR_CLAIM_USED', `claim code "${body.code}" was already used (device ${hit.id})`);
  return change(d, hit.id, null, async (row, trx) => {
    if (row.claimed_at !== null) throw new GsError('GS_ERR_CLAIM_USED', `claim code "${body.code}" was already used (device ${row.id})`);
    const edge = await trx.selectFrom('edge_fleet').select('town_id').where('edge_id', '=', row.edge_id).executeTakeFirst();
    const place = placeDevice(d.grids, { lon: body.lon, lat: body.lat }, edge?.town_id ?? null);
    townCheck(town, place.townId);
    return {
      patch: { lon: body.lon, lat: body.lat, grid_id: place.gridId, town_id: place.townId, ...(body.site ? { site: body.site } : {}), claimed_at: d.clock.now(), claimed_by: actor },
      edges: row.status === 'active' ? [row.edge_id] : [],
    };
  });
}

// Registering devices, one (POST /devices) or many (an import): every candidate is checked the way
// the edge will check it (profile, connection by its driver's validator, MQTT accounts unique per
// edge, rule overrides against the rules the edge runs), plus what only the cloud knows (ids and
// serials taken, the edge enrolled and not revoked, the town a key may write to). Then all of them
// are written in one transaction, or — with `partial` — the good ones; never half of one.
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ErrorCode, ErrorDetail } from '../../contracts/errors.js';
import { GsError } from '../../contracts/errors.js';
import { schemaErrors } from '../../contracts/validate.js';
import { durationMs } from '../../contracts/duration.js';
import { DesiredConfig } from '../../contracts/edge-config.js';
import { hashPassword } from '../../edge/broker/password.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Database, DevicesTable } from '../db/schema.js';
import { bumpConfig, ensureEdgeFleet } from '../edges/desired.js';
import { placeDevice, type FleetDeps } from '../fleet/deps.js';
import { connectionErrors, topicRootOf, usesEmbeddedBroker } from './connection.js';
import { newClaimCode } from './model.js';
import { DeviceInput, type MqttCredentialsJson } from './schemas.js';
import type { Kysely } from 'kysely';
import type { RuleSet } from '../../rules/types.js';

/** A problem of one candidate; `code` when it is more than a validation error (a taken id, another town). */
export interface Problem extends ErrorDetail {
  code?: ErrorCode;
}

export interface Candidate {
  input: unknown;
  /** Problems found before (cells of a CSV line that could not be read). */
  errors?: ErrorDetail[];
}

export interface RegisterOptions {
  /** Write the good candidates even when others fail. */
  partial: boolean;
  /** Check only; write nothing. */
  dryRun?: boolean;
  /** A town key's town: every device must land in it. */
  town: string | null;
}

export interface Registered {
  index: number;
  device: Selectable<DevicesTable>;
  /** The generated MQTT login, shown once. */
  mqtt?: MqttCredentialsJson;
}

export interface RegisterOutcome {
  created: Registered[];
  /** Indices that passed every check (written unless dryRun or another failed without partial). */
  ok: number[];
  failed: Array<{ index: number; id: string | null; errors: Problem[] }>;
  /** Edges whose configuration version moved. */
  edges: string[];
}

type Secret = { kind: 'none' } | { kind: 'generate' } | { kind: 'hash'; password: string };

interface Plan {
  input: DeviceInput;
  conn: Record<string, unknown>;
  secret: Secret;
  gridId: string | null;
  townId: string | null;
}

const CHUNK = 200;
/** The most devices one edge's configuration may hold (the contract's limit). */
export const MAX_DEVICES_PER_EDGE = (DesiredConfig.properties.devices as { maxItems?: number }).maxItems ?? 5000;
/** The edge refuses faster polling. */
export const MIN_POLL_MS = 10;

/** Problems the edge's config checks would find in the fields besides the connection. */
export function fieldProblems(input: { pollInterval?: DeviceInput['pollInterval'] | null }): Problem[] {
  if (input.pollInterval !== undefined && input.pollInterval !== null && durationMs(input.pollInterval) < MIN_POLL_MS) return [{ path: '/pollInterval', message: `must be at least ${MIN_POLL_MS}ms` }];
  return [];
}

/** Active devices per edge. */
export async function activeCounts(db: Kysely<Database>, edgeIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (edgeIds.length === 0) return out;
  const rows = await db.selectFrom('devices').select((eb) => ['edge_id', eb.fn.countAll<number>().as('n')]).where('edge_id', 'in', edgeIds).where('status', '=', 'active').groupBy('edge_id').execute();
  for (const r of rows) out.set(r.edge_id, Number(r.n));
  return out;
}

/** The stored connection and how to make its secret; `check` is what the validator sees meanwhile. */
export function prepareConnection(id: string, given: Record<string, unknown>): { conn: Record<string, unknown>; secret: Secret; check: Record<string, unknown> } {
  const conn = { ...given };
  if (!usesEmbeddedBroker(conn as { protocol: string })) return { conn, secret: { kind: 'none' }, check: conn };
  if (conn.username === undefined) conn.username = id;
  if (typeof conn.password === 'string' && conn.passwordHash === undefined) {
    // A password given in clear is stored as its hash only; the technician already knows it.
    const password = conn.password;
    delete conn.password;
    return { conn, secret: { kind: 'hash', password }, check: { ...conn, password } };
  }
  if (conn.password === undefined && conn.passwordHash === undefined) return { conn, secret: { kind: 'generate' }, check: { ...conn, password: 'to-be-generated' } };
  return { conn, secret: { kind: 'none' }, check: conn };
}

/** A random MQTT password (24 characters) and its scrypt hash for the connection block. */
export async function newMqttSecret(): Promise<{ password: string; passwordHash: string }> {
  const password = randomBytes(18).toString('base64url');
  return { password, passwordHash: await hashPassword(password) };
}

function chunks<T>(xs: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

async function existing(db: Kysely<Database>, column: 'id' | 'serial' | 'claim_code', values: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks([...new Set(values)], 500)) {
    const rows = await db.selectFrom('devices').select(column).where(column, 'in', part).execute();
    for (const r of rows) found.add((r as Record<string, string>)[column]!);
  }
  return found;
}

/** The MQTT accounts on an edge's broker: username and topic root must not collide. */
export interface MqttAccount {
  deviceId: string;
  username: string;
  root: string;
}

export function mqttAccountOf(deviceId: string, conn: Record<string, unknown>): MqttAccount | undefined {
  if (!usesEmbeddedBroker(conn as { protocol: string })) return undefined;
  return { deviceId, username: typeof conn.username === 'string' ? conn.username : deviceId, root: topicRootOf(deviceId, conn) };
}

/** Problems of `a` joining `others` on one broker (as the edge's broker refuses them). */
export function mqttConflicts(a: MqttAccount, others: Iterable<MqttAccount>): Problem[] {
  const out: Problem[] = [];
  for (const o of others) {
    if (o.deviceId === a.deviceId) continue;
    if (o.username === a.username) out.push({ path: '/connection/username', message: `MQTT user "${a.username}" already belongs to device ${o.deviceId} on this edge; every device logs in with its own`, code: 'GS_ERR_MQTT_ACCOUNT_CONFLICT' });
    if (o.root.startsWith(a.root) || a.root.startsWith(o.root)) out.push({ path: '/connection/topicRoot', message: `topic root "${a.root}" overlaps device ${o.deviceId}'s "${o.root}"`, code: 'GS_ERR_MQTT_ACCOUNT_CONFLICT' });
  }
  return out;
}

/** Active embedded-broker MQTT accounts on these edges, by edge. */
export async function edgeMqttAccounts(db: Kysely<Database>, edgeIds: string[]): Promise<Map<string, MqttAccount[]>> {
  const out = new Map<string, MqttAccount[]>(edgeIds.map((e) => [e, []]));
  if (edgeIds.length === 0) return out;
  const rows = await db.selectFrom('devices').select(['id', 'edge_id', 'connection']).where('edge_id', 'in', edgeIds).where('status', '=', 'active').where('protocol', '=', 'mqtt').execute();
  for (const r of rows) {
    const a = mqttAccountOf(r.id, JSON.parse(r.connection) as Record<string, unknown>);
    if (a) out.get(r.edge_id)?.push(a);
  }
  return out;
}

/** The rule sets each edge runs (its list + default rules of its active devices' profiles + `extra`). */
export async function edgeRuleSets(d: FleetDeps, edgeIds: string[], extra: Map<string, string[]> = new Map(), exclude: string[] = []): Promise<Map<string, RuleSet[]>> {
  const out = new Map<string, RuleSet[]>();
  if (edgeIds.length === 0) return out;
  const fleet = await d.db.selectFrom('edge_fleet').select(['edge_id', 'rules']).where('edge_id', 'in', edgeIds).execute();
  const rules = new Map(fleet.map((f) => [f.edge_id, JSON.parse(f.rules) as string[]]));
  let q = d.db.selectFrom('devices').select(['edge_id', 'profile']).distinct().where('edge_id', 'in', edgeIds).where('status', '=', 'active');
  if (exclude.length > 0) q = q.where('id', 'not in', exclude);
  const used = await q.execute();
  for (const e of edgeIds) {
    const profiles = new Set([...used.filter((u) => u.edge_id === e).map((u) => u.profile), ...(extra.get(e) ?? [])]);
    out.set(e, d.rules.setsFor(rules.get(e) ?? [], profiles, d.profiles));
  }
  return out;
}

/** Hashes with at most 4 scrypt runs at once (each takes ~16 MiB and tens of ms). */
async function limited<T>(jobs: Array<() => Promise<T>>, width = 4): Promise<T[]> {
  const out: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      out[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return out;
}

export async function registerDevices(d: FleetDeps, candidates: Candidate[], o: RegisterOptions): Promise<RegisterOutcome> {
  const now = d.clock.now();
  const problems: Problem[][] = candidates.map((c) => [...(c.errors ?? [])]);
  const plans: Array<Plan | undefined> = candidates.map((c, i) => {
    const schema = schemaErrors(DeviceInput, c.input);
    if (schema.length > 0) {
      problems[i]!.push(...schema);
      return undefined;
    }
    const input = c.input as DeviceInput;
    const { conn, secret, check } = prepareConnection(input.id, input.connection);
    const profile = d.profiles.has(input.profile) ? d.profiles.get(input.profile) : undefined;
    if (!profile) problems[i]!.push({ path: '/profile', message: `no device profile "${input.profile}" (known: ${d.profiles.all().map((p) => p.id).sort().join(', ')})` });
    for (const p of connectionErrors(check as { protocol: string }, profile?.protocol)) problems[i]!.push({ path: `/connection${p.path}`, message: p.message });
    problems[i]!.push(...fieldProblems(input));
    return { input, conn, secret, gridId: null, townId: null };
  });

  // Duplicates inside the batch.
  const firstId = new Map<string, number>();
  const firstSerial = new Map<string, number>();
  plans.forEach((p, i) => {
    if (!p) return;
    const prior = firstId.get(p.input.id);
    if (prior !== undefined) problems[i]!.push({ path: '/id', message: `device "${p.input.id}" appears twice (also #${prior + 1})`, code: 'GS_ERR_DEVICE_EXISTS' });
    else firstId.set(p.input.id, i);
    if (p.input.serial !== undefined) {
      const s = firstSerial.get(p.input.serial);
      if (s !== undefined) problems[i]!.push({ path: '/serial', message: `serial "${p.input.serial}" appears twice (also #${s + 1})`, code: 'GS_ERR_DEVICE_EXISTS' });
      else firstSerial.set(p.input.serial, i);
    }
  });

  // What the database already holds.
  const valid = plans.filter((p): p is Plan => p !== undefined);
  const takenIds = await existing(d.db, 'id', valid.map((p) => p.input.id));
  const takenSerials = await existing(d.db, 'serial', valid.flatMap((p) => (p.input.serial !== undefined ? [p.input.serial] : [])));
  const edgeIds = [...new Set(valid.map((p) => p.input.edge))];
  const edges = new Map<string, { revoked: boolean; townId: string | null }>();
  for (const part of chunks(edgeIds, 500)) {
    const rows = await d.db.selectFrom('edges').leftJoin('edge_fleet', 'edge_fleet.edge_id', 'edges.id').select(['edges.id', 'edges.revoked_at', 'edge_fleet.town_id']).where('edges.id', 'in', part).execute();
    for (const r of rows) edges.set(r.id, { revoked: r.revoked_at !== null, townId: r.town_id ?? null });
  }
  plans.forEach((p, i) => {
    if (!p) return;
    const add = (x: Problem) => problems[i]!.push(x);
    if (takenIds.has(p.input.id)) add({ path: '/id', message: `device "${p.input.id}" is already registered`, code: 'GS_ERR_DEVICE_EXISTS' });
    if (p.input.serial !== undefined && takenSerials.has(p.input.serial)) add({ path: '/serial', message: `serial "${p.input.serial}" belongs to a registered device`, code: 'GS_ERR_DEVICE_EXISTS' });
    const edge = edges.get(p.input.edge);
    if (!edge) add({ path: '/edge', message: `no edge "${p.input.edge}" (enroll it first: POST /api/v1/edges/enrollment-tokens)` });
    else if (edge.revoked) add({ path: '/edge', message: `edge "${p.input.edge}" is revoked`, code: 'GS_ERR_EDGE_REVOKED' });
    const place = placeDevice(d.grids, p.input.location, edge?.townId ?? null);
    p.gridId = place.gridId;
    p.townId = place.townId;
    if (o.town !== null && place.townId !== o.town) {
      add({ path: p.input.location ? '/location' : '/edge', message: `the device would be in ${place.townId ? `town "${place.townId}"` : 'no town'}; this key writes to town "${o.town}" only`, code: 'GS_ERR_AUTH_FORBIDDEN' });
    }
  });

  // MQTT accounts and rule overrides, against the edge as it will be.
  const live = (i: number) => plans[i] !== undefined && problems[i]!.length === 0 && !plans[i]!.input.disabled;
  const accounts = await edgeMqttAccounts(d.db, edgeIds.filter((e) => edges.has(e)));
  const extraProfiles = new Map<string, string[]>();
  plans.forEach((p, i) => {
    if (!p || !live(i)) return;
    extraProfiles.set(p.input.edge, [...(extraProfiles.get(p.input.edge) ?? []), p.input.profile]);
  });
  const ruleSets = await edgeRuleSets(d, edgeIds.filter((e) => edges.has(e)), extraProfiles);
  const counts = await activeCounts(d.db, edgeIds.filter((e) => edges.has(e)));
  plans.forEach((p, i) => {
    if (!p || problems[i]!.length > 0) return;
    if (!p.input.disabled) {
      const n = (counts.get(p.input.edge) ?? 0) + 1;
      if (n > MAX_DEVICES_PER_EDGE) {
        problems[i]!.push({ path: '/edge', message: `edge "${p.input.edge}" already runs ${MAX_DEVICES_PER_EDGE} devices, the most one edge's configuration holds` });
        return;
      }
      counts.set(p.input.edge, n);
    }
    const account = mqttAccountOf(p.input.id, p.conn);
    if (account && !p.input.disabled) {
      const others = accounts.get(p.input.edge) ?? [];
      const clash = mqttConflicts(account, others);
      problems[i]!.push(...clash);
      if (clash.length === 0) others.push(account);
    }
    problems[i]!.push(...d.rules.overrideProblems(ruleSets.get(p.input.edge) ?? [], { id: p.input.id, profile: p.input.profile, site: p.input.site ?? null, overrides: p.input.overrides ?? null }, d.profiles));
  });

  const failed = problems.flatMap((errors, index) => (errors.length > 0 ? [{ index, id: plans[index]?.input.id ?? idOf(candidates[index]!.input), errors }] : []));
  const ok = problems.flatMap((errors, index) => (errors.length === 0 ? [index] : []));
  if ((failed.length > 0 && !o.partial) || o.dryRun || ok.length === 0) return { created: [], ok, failed, edges: [] };

  // Secrets (slow: scrypt) only once everything is known to be written.
  const secrets = await limited(
    ok.map((i) => async (): Promise<MqttCredentialsJson | undefined> => {
      const p = plans[i]!;
      if (p.secret.kind === 'none') return undefined;
      if (p.secret.kind === 'hash') {
        p.conn.passwordHash = await hashPassword(p.secret.password);
        return undefined;
      }
      const s = await newMqttSecret();
      p.conn.passwordHash = s.passwordHash;
      return { username: p.conn.username as string, password: s.password, topicRoot: topicRootOf(p.input.id, p.conn) };
    }),
  );
  const codes = await claimCodes(d.db, ok.length);

  const rows = ok.map((i, k): Selectable<DevicesTable> => {
    const p = plans[i]!;
    const input = p.input;
    const active = !input.disabled;
    return {
      id: input.id,
      edge_id: input.edge,
      name: input.name ?? input.id,
      profile: input.profile,
      protocol: String(p.conn.protocol),
      connection: JSON.stringify(p.conn),
      serial: input.serial ?? null,
      lon: input.location?.lon ?? null,
      lat: input.location?.lat ?? null,
      grid_id: p.gridId,
      town_id: p.townId,
      site: input.site ?? null,
      tags: JSON.stringify(input.tags ?? []),
      poll_interval: input.pollInterval !== undefined ? JSON.stringify(input.pollInterval) : null,
      offline_after_misses: input.offlineAfterMisses ?? null,
      overrides: input.overrides && Object.keys(input.overrides).length > 0 ? JSON.stringify(input.overrides) : null,
      status: active ? 'active' : 'disabled',
      claim_code: codes[k]!,
      claimed_at: null,
      claimed_by: null,
      created_at: now,
      updated_at: now,
      disabled_at: active ? null : now,
      decommissioned_at: null,
      health: null,
      health_since: null,
    };
  });

  let bumped: string[];
  try {
    bumped = await d.db.transaction().execute(async (trx) => {
      for (const part of chunks(rows)) await trx.insertInto('devices').values(part).execute();
      const tags = rows.flatMap((r) => (JSON.parse(r.tags) as string[]).map((tag) => ({ device_id: r.id, tag })));
      for (const part of chunks(tags, 500)) await trx.insertInto('device_tags').values(part).execute();
      const log = rows.map((r) => ({ id: d.newId(), device_id: r.id, state: r.status === 'active' ? 'unknown' : 'disabled', at: now }));
      for (const part of chunks(log, 500)) await trx.insertInto('device_health_log').values(part).execute();
      for (const e of new Set(rows.map((r) => r.edge_id))) await ensureEdgeFleet(trx, e, now);
      return bumpConfig(trx, rows.filter((r) => r.status === 'active').map((r) => r.edge_id), now);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new GsError('GS_ERR_DEVICE_EXISTS', 'a device with one of these ids or serials was registered meanwhile; nothing was written, try again');
    throw err;
  }
  return {
    created: ok.map((index, k) => ({ index, device: rows[k]!, ...(secrets[k] ? { mqtt: secrets[k] } : {}) })),
    ok,
    failed,
    edges: bumped,
  };
}

/** `n` claim codes that no device holds yet. */
export async function claimCodes(db: Kysely<Database>, n: number): Promise<string[]> {
  const codes = new Set<string>();
  while (codes.size < n) {
    const fresh: string[] = [];
    while (codes.size + fresh.length < n) {
      const c = newClaimCode();
      if (!codes.has(c) && !fresh.includes(c)) fresh.push(c);
    }
    const taken = await existing(db, 'claim_code', fresh);
    for (const c of fresh) if (!taken.has(c)) codes.add(c);
  }
  return [...codes];
}

function idOf(input: unknown): string | null {
  const id = (input as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : null;
}

/** The error a failed single registration answers with: a taken id is 409, another town 403, the rest 400. */
export function registrationError(id: string | null, errors: Problem[]): GsError {
  const codes = new Set(errors.map((e) => e.code));
  const code: ErrorCode = codes.has('GS_ERR_AUTH_FORBIDDEN')
    ? 'GS_ERR_AUTH_FORBIDDEN'
    : codes.has('GS_ERR_DEVICE_EXISTS')
      ? 'GS_ERR_DEVICE_EXISTS'
      : codes.has('GS_ERR_MQTT_ACCOUNT_CONFLICT')
        ? 'GS_ERR_MQTT_ACCOUNT_CONFLICT'
        : codes.has('GS_ERR_EDGE_REVOKED')
          ? 'GS_ERR_EDGE_REVOKED'
          : 'GS_ERR_VALIDATION';
  return new GsError(code, `device${id ? ` "${id}"` : ''} cannot be registered: ${errors.length} problem(s)`, errors.map((e) => ({ path: e.path, message: e.message })));
}

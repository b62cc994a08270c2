// Applies one alarm's new transitions, in seq order, to its alarm row and to the grid events.
//
// Ordering rule (why out-of-order delivery converges): nothing of an alarm is applied before its
// raise (seq 0). Transitions that arrive first are stored and held; when the raise arrives it is
// applied, then every held transition in seq order. After the raise, later transitions apply as they
// come — their effects commute (clear is terminal, priority only rises, "last" fields take the
// highest seq) — so any arrival order ends in the state in-order delivery gives.
//
// Concurrency (PostgreSQL; SQLite runs write transactions one at a time): ingest holds a lock per
// alarm (see ingest.ts), and the open event is read FOR UPDATE, so two batches joining one event
// count both occurrences; two batches opening one event meet at its unique open_dedup_key, and the
// loser's transaction is retried and joins the winner's event.
import type { Kysely, Selectable, Updateable } from 'kysely';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import type { AlarmsTable, Database } from '../db/schema.js';
import { applyDecision } from '../events/apply.js';
import type { BusMessageType } from '../events/bus.js';
import { correlate } from '../events/correlate.js';
import { lookupForRaise } from '../events/correlate-lookup.js';
import { categoryFor, type EventPolicy } from '../events/policy.js';
import { loadOpenEvent } from '../events/repo.js';
import type { Placement } from '../grids/snapshot.js';

export interface ApplyContext {
  edgeId: string;
  now: number;
  newId: () => string;
  policy: EventPolicy;
  /** The grid (most specific) and town containing a point. */
  locate: (lon: number, lat: number) => Placement;
  profileKind: (profileId: string | undefined) => string | undefined;
  /** Collects the notifications to publish after commit. */
  notify: (eventId: string, type: BusMessageType) => void;
}

export type AlarmRow = Selectable<AlarmsTable>;

export type { Placement };
const NOWHERE: Placement = { gridId: null, townId: null };

/**
 * What to apply, in order. `row`: the alarm as stored (undefined before its raise was applied);
 * `fresh`: its transitions this batch stored for the first time; `held`: its stored transitions
 * with seq > 0 (only needed when the raise is among `fresh`).
 */
export function planTransitions(row: AlarmRow | undefined, fresh: Envelope[], held: Envelope[]): Envelope[] {
  if (row) return [...fresh].sort((a, b) => a.seq - b.seq);
  const raise = fresh.find((t) => t.seq === 0);
  if (!raise) return []; // held until the raise arrives
  return [raise, ...[...held].sort((a, b) => a.seq - b.seq)];
}

export async function applyAlarmTransitions(trx: Kysely<Database>, ctx: ApplyContext, row: AlarmRow | undefined, todo: Envelope[]): Promise<void> {
  for (const t of todo) row = t.action === 'raise' ? await applyRaise(trx, ctx, t) : await applyLater(trx, ctx, row!, t);
}

function valueJson(t: Envelope): string | null {
  return t.value === undefined ? null : JSON.stringify(t.value);
}

async function applyRaise(trx: Kysely<Database>, ctx: ApplyContext, t: Envelope): Promise<AlarmRow> {
  const place = t.location ? ctx.locate(t.location.lon, t.location.lat) : NOWHERE;
  const profileKind = ctx.profileKind(t.profile);
  // Its own open event (dedup), else one its category and grid may join (correlation).
  const { open, joinCandidate } = await lookupForRaise(trx, t, { gridId: place.gridId, category: categoryFor(ctx.policy, t.type, profileKind), policy: ctx.policy });
  const decision = correlate(t, open, { gridId: place.gridId, townId: place.townId, grid: place.grid ?? null, joinCandidate, now: ctx.now, policy: ctx.policy, edgeId: ctx.edgeId, profileKind });
  const applied = await applyDecision(trx, decision, ctx);
  const row: AlarmRow = {
    id: ctx.newId(),
    edge_id: ctx.edgeId,
    alarm_id: t.alarmId,
    device_id: t.deviceId,
    type: t.type,
    severity: t.severity,
    state: 'raised',
    first_ts: t.ts,
    last_ts: t.ts,
    last_seq: t.seq,
    cleared_ts: null,
    value: valueJson(t),
    unit: t.unit ?? null,
    message: t.message ?? null,
    lon: t.location?.lon ?? null,
    lat: t.location?.lat ?? null,
    site: t.site ?? null,
    profile: t.profile ?? null,
    rule_id: t.ruleId ?? null,
    event_id: applied.eventId,
    created_at: ctx.now,
    updated_at: ctx.now,
  };
  await trx.insertInto('alarms').values(row).execute();
  if (applied.eventId && applied.link) {
    await trx.insertInto('event_alarms').values({ event_id: applied.eventId, alarm_id: row.id, linked_at: ctx.now }).execute();
  }
  if (applied.eventId && applied.publish) ctx.notify(applied.eventId, applied.publish);
  return row;
}

async function applyLater(trx: Kysely<Database>, ctx: ApplyContext, row: AlarmRow, t: Envelope): Promise<AlarmRow> {
  const wasRaised = row.state === 'raised';
  const set: Updateable<AlarmsTable> = { updated_at: ctx.now };
  // "Last" fields follow the highest seq, so a late update cannot overwrite newer data.
  if (t.seq > row.last_seq) {
    Object.assign(set, { severity: t.severity, last_ts: t.ts, last_seq: t.seq });
    if (t.value !== undefined) set.value = valueJson(t);
    if (t.unit !== undefined) set.unit = t.unit;
    if (t.message !== undefined) set.message = t.message;
  }
  if (t.action === 'clear' && wasRaised) Object.assign(set, { state: 'cleared', cleared_ts: t.ts });
  await trx.updateTable('alarms').set(set).where('id', '=', row.id).execute();

  // A second clear of a cleared alarm (a misbehaving edge) must not count down the event again.
  const counts = !(t.action === 'clear' && !wasRaised);
  if (counts && row.event_id) {
    const open = await loadOpenEvent(trx, { id: row.event_id }, { forUpdate: true });
    // The grid was decided when the event opened; updates and clears do not move it.
    const decision = correlate(t, open, { gridId: null, now: ctx.now, policy: ctx.policy, edgeId: ctx.edgeId, profileKind: ctx.profileKind(t.profile) });
    const applied = await applyDecision(trx, decision, ctx);
    if (applied.eventId && applied.publish) ctx.notify(applied.eventId, applied.publish);
  }
  return { ...row, ...set } as AlarmRow;
}

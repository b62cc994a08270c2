// Alarm ingest: at-least-once in, exactly-once stored. Each (edge, alarmId, seq) is inserted once —
// a retry finds it already there and counts as a duplicate — and the new transitions of one batch are
// applied to alarms and grid events in the same transaction, so a batch lands whole or not at all.
import type { Kysely } from 'kysely';
import type { AlarmBatch, AlarmBatchResult } from '../../contracts/alarm.js';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import type { Clock } from '../../contracts/clock.js';
import { GsError, type ErrorDetail } from '../../contracts/errors.js';
import { isRetryableConflict } from '../db/errors.js';
import { LOCK_SPACE, lockKeys } from '../db/locks.js';
import type { Database } from '../db/schema.js';
import type { BusMessageType } from '../events/bus.js';
import type { EventPolicy } from '../events/policy.js';
import { appendToFeed } from '../events/feed.js';
import { lockJoinsOf } from '../events/correlate-lookup.js';
import { applyAlarmTransitions, planTransitions, type AlarmRow, type Placement } from './apply.js';
import { linkEvidence } from '../evidence/repo.js';

export interface IngestDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  policy: EventPolicy;
  locate: (lon: number, lat: number) => Placement;
  profileKind: (profileId: string | undefined) => string | undefined;
}

export interface EventChange {
  eventId: string;
  type: BusMessageType;
}

export interface IngestOutcome {
  result: AlarmBatchResult;
  /** Events the batch changed (already in the event feed); one entry per event and type. */
  changes: EventChange[];
}

/** Rows per INSERT: well inside SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK = 200;
/**
 * A lost race (PostgreSQL) is retried, the whole transaction, since PostgreSQL aborts it on the error:
 * for "one open event per key" the retry sees the winner's event and joins it; a deadlock between
 * two batches locking the same events in different orders is run again.
 */
const MAX_ATTEMPTS = 5;

/** The envelope's schema cannot say that seq 0 is the raise and only the raise. */
export function checkSequence(batch: AlarmBatch): void {
  const details: ErrorDetail[] = [];
  (batch.alarms as Envelope[]).forEach((a, i) => {
    if (a.action === 'raise' && a.seq !== 0) details.push({ path: `/alarms/${i}/seq`, message: `a raise has seq 0, got ${a.seq}` });
    if (a.action !== 'raise' && a.seq === 0) details.push({ path: `/alarms/${i}/seq`, message: `seq 0 is the raise; an ${a.action} takes 1 or more` });
  });
  if (details.length > 0) throw new GsError('GS_ERR_ALARM_INVALID', `alarm batch is not valid: ${details.length} problem(s)`, details);
}

export async function ingestAlarms(deps: IngestDeps, edgeId: string, batch: AlarmBatch): Promise<IngestOutcome> {
  checkSequence(batch);
  const alarms = batch.alarms as Envelope[];
  // A transition repeated inside one batch is a duplicate like any other retry.
  const unique = new Map<string, Envelope>();
  for (const a of alarms) {
    const key = `${a.alarmId}\u0000${a.seq}`;
    if (!unique.has(key)) unique.set(key, a);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.transaction().execute(async (trx) => {
        const accepted = await ingestInTransaction(trx, deps, edgeId, [...unique.values()]);
        await appendToFeed(trx, deps.policy, accepted.changes, deps.clock.now());
        return { result: { accepted: accepted.stored, duplicates: batch.alarms.length - accepted.stored }, changes: accepted.changes };
      });
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS || !isRetryableConflict(err)) throw err;
    }
  }
}

async function ingestInTransaction(
  trx: Kysely<Database>,
  deps: IngestDeps,
  edgeId: string,
  transitions: Envelope[],
): Promise<{ stored: number; changes: EventChange[] }> {
  const now = deps.clock.now();
  const fresh = new Set<string>();
  for (let i = 0; i < transitions.length; i += INSERT_CHUNK) {
    const chunk = transitions.slice(i, i + INSERT_CHUNK);
    const inserted = await trx
      .insertInto('alarm_transitions')
      .values(chunk.map((a) => ({ edge_id: edgeId, alarm_id: a.alarmId, seq: a.seq, action: a.action, ts: a.ts, received_at: now, envelope: JSON.stringify(a) })))
      .onConflict((oc) => oc.columns(['edge_id', 'alarm_id', 'seq']).doNothing())
      .returning(['alarm_id', 'seq'])
      .execute();
    for (const r of inserted) fresh.add(`${r.alarm_id}\u0000${r.seq}`);
  }

  // Evidence an envelope carries is linked to its alarm (the bytes come apart, content-addressed).
  for (const a of transitions) {
    if (a.evidence?.length && fresh.has(`${a.alarmId}\u0000${a.seq}`)) await linkEvidence(trx, { edgeId, alarmId: a.alarmId, evidence: a.evidence, newId: deps.newId, now });
  }

  // Group the new transitions by alarm, in the order the batch first mentions each alarm.
  const byAlarm = new Map<string, Envelope[]>();
  for (const a of transitions) {
    if (!fresh.has(`${a.alarmId}\u0000${a.seq}`)) continue;
    const list = byAlarm.get(a.alarmId);
    if (list) list.push(a);
    else byAlarm.set(a.alarmId, [a]);
  }

  const notified = new Map<string, Set<BusMessageType>>();
  const ctx = {
    edgeId,
    now,
    newId: deps.newId,
    policy: deps.policy,
    locate: deps.locate,
    profileKind: deps.profileKind,
    notify: (eventId: string, type: BusMessageType) => {
      const s = notified.get(eventId) ?? new Set<BusMessageType>();
      s.add(type);
      notified.set(eventId, s);
    },
  };
  // Two queries per batch rather than two per alarm: the alarms as stored, and the transitions held
  // for alarms whose raise arrives now.
  const ids = [...byAlarm.keys()];
  // PostgreSQL: a concurrent batch may carry other transitions of the same alarms (seq 0 here, seq 1
  // there). Each alarm is read and applied under its lock, taken after this batch's transitions
  // are stored, so whichever batch goes second sees the first's alarm row or held transitions.
  await lockKeys(trx, LOCK_SPACE.alarm, ids.map((id) => `${edgeId} ${id}`));
  // Then every "category in grid" its raises may join, sorted, before any is applied.
  await lockJoinsOf(trx, [...byAlarm.values()].flat(), deps);
  const rows = new Map<string, AlarmRow>();
  for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
    const found = await trx.selectFrom('alarms').selectAll().where('edge_id', '=', edgeId).where('alarm_id', 'in', ids.slice(i, i + INSERT_CHUNK)).execute();
    for (const r of found) rows.set(r.alarm_id, r);
  }
  const raisedNow = ids.filter((id) => !rows.has(id) && byAlarm.get(id)!.some((a) => a.seq === 0));
  const held = new Map<string, Envelope[]>();
  for (let i = 0; i < raisedNow.length; i += INSERT_CHUNK) {
    const found = await trx
      .selectFrom('alarm_transitions')
      .select(['alarm_id', 'envelope'])
      .where('edge_id', '=', edgeId)
      .where('alarm_id', 'in', raisedNow.slice(i, i + INSERT_CHUNK))
      .where('seq', '>', 0)
      .execute();
    for (const h of found) held.set(h.alarm_id, [...(held.get(h.alarm_id) ?? []), JSON.parse(h.envelope) as Envelope]);
  }
  for (const [alarmId, list] of byAlarm) {
    const row = rows.get(alarmId);
    await applyAlarmTransitions(trx, ctx, row, planTransitions(row, list, held.get(alarmId) ?? []));
  }

  // One message per event and kind of change, carrying the event's final state; `updated` says
  // nothing that `opened` or `cleared` (sent with the same final state) does not already say.
  const changes: EventChange[] = [];
  for (const [eventId, types] of notified) {
    if (types.has('event.opened')) changes.push({ eventId, type: 'event.opened' });
    if (types.has('event.updated') && !types.has('event.opened') && !types.has('event.cleared') && !types.has('event.closed')) changes.push({ eventId, type: 'event.updated' });
    if (types.has('event.cleared') || types.has('event.closed')) changes.push({ eventId, type: 'event.cleared' });
    if (types.has('event.closed')) changes.push({ eventId, type: 'event.closed' });
  }
  return { stored: fresh.size, changes };
}

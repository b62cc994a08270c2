// Carries out a correlator Decision inside the ingest transaction: the event row, its timeline entry,
// and which live notification to publish once the transaction has committed.
import type { Kysely, Updateable } from 'kysely';
import type { Database, EventsTable } from '../db/schema.js';
import type { BusMessageType } from './bus.js';
import type { Decision, EventPatch, TimelineDraft } from './correlate.js';
import type { EventPolicy } from './policy.js';

export interface Applied {
  /** The event the alarm belongs to now, or null when the decision was to ignore. */
  eventId: string | null;
  /** Link the alarm to the event (a raise). */
  link: boolean;
  publish: BusMessageType | null;
}

export interface ApplyDecisionContext {
  newId: () => string;
  now: number;
  /** For categories that close on clear (policy `closeOnClear`). */
  policy?: EventPolicy;
}

export async function applyDecision(trx: Kysely<Database>, d: Decision, ctx: ApplyDecisionContext): Promise<Applied> {
  switch (d.kind) {
    case 'ignore':
      return { eventId: null, link: false, publish: null };
    case 'open': {
      const e = d.event;
      const id = ctx.newId();
      await trx
        .insertInto('events')
        .values({
          id,
          dedup_key: e.dedupKey,
          open_dedup_key: e.dedupKey,
          edge_id: e.edgeId,
          device_id: e.deviceId,
          alarm_type: e.alarmType,
          grid_id: e.gridId,
          town_id: e.townId,
          grid_version: e.gridVersion,
          grid_name: e.gridName,
          grid_name_zh: e.gridNameZh,
          grid_path: e.gridPath ? JSON.stringify(e.gridPath) : null,
          incident_at: e.incidentAt,
          category: e.category,
          priority: e.priority,
          status: e.status,
          occurrence_count: e.occurrenceCount,
          active_alarms: e.activeAlarms,
          opened_at: e.openedAt,
          updated_at: e.openedAt,
          deadline_at: e.deadlineAt,
          cleared_at: null,
          title: e.title,
          lon: e.location?.lon ?? null,
          lat: e.location?.lat ?? null,
          site: e.site,
        })
        .execute();
      await addTimeline(trx, id, d.timeline, ctx);
      return { eventId: id, link: true, publish: 'event.opened' };
    }
    case 'update':
      await patchEvent(trx, d.eventId, d.patch);
      await addTimeline(trx, d.eventId, d.timeline, ctx);
      return { eventId: d.eventId, link: d.linkAlarm, publish: 'event.updated' };
    case 'clear-recorded': {
      await patchEvent(trx, d.eventId, d.patch);
      await addTimeline(trx, d.eventId, d.timeline, ctx);
      if (d.patch.clearedAt == null) return { eventId: d.eventId, link: false, publish: 'event.updated' };
      const closed = await closeIfCategorySaysSo(trx, d.eventId, ctx);
      return { eventId: d.eventId, link: false, publish: closed ? 'event.closed' : 'event.cleared' };
    }
  }
}

/** Every alarm cleared and the category closes on clear: 'system' files it (归档) without a site visit. */
async function closeIfCategorySaysSo(trx: Kysely<Database>, eventId: string, ctx: ApplyDecisionContext): Promise<boolean> {
  const ev = await trx.selectFrom('events').select(['category', 'status']).where('id', '=', eventId).executeTakeFirst();
  if (!ev || ev.status === 'closed' || !ctx.policy?.categories[ev.category]?.closeOnClear) return false;
  await trx.updateTable('events').set({ status: 'closed', closed_at: ctx.now, open_dedup_key: null, updated_at: ctx.now }).where('id', '=', eventId).execute();
  await trx
    .insertInto('event_timeline')
    .values({ id: ctx.newId(), event_id: eventId, at: ctx.now, kind: 'auto_closed', actor: 'system', note: `every alarm cleared; ${ev.category} events close on clear`, data: JSON.stringify({ from: ev.status, to: 'closed' }) })
    .execute();
  return true;
}

async function patchEvent(trx: Kysely<Database>, id: string, p: EventPatch): Promise<void> {
  const set: Updateable<EventsTable> = { updated_at: p.updatedAt };
  if (p.priority !== undefined) set.priority = p.priority;
  if (p.deadlineAt !== undefined) set.deadline_at = p.deadlineAt;
  if (p.occurrenceCount !== undefined) set.occurrence_count = p.occurrenceCount;
  if (p.activeAlarms !== undefined) set.active_alarms = p.activeAlarms;
  if (p.clearedAt !== undefined) set.cleared_at = p.clearedAt;
  await trx.updateTable('events').set(set).where('id', '=', id).execute();
}

async function addTimeline(trx: Kysely<Database>, eventId: string, t: TimelineDraft, ctx: { newId: () => string; now: number }): Promise<void> {
  await trx
    .insertInto('event_timeline')
    .values({ id: ctx.newId(), event_id: eventId, at: ctx.now, kind: t.kind, actor: t.actor, note: t.note, data: JSON.stringify(t.data) })
    .execute();
}

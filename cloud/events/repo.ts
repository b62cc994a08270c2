// Reading events: rows to the API's JSON (codes and Chinese labels side by side), lists with keyset
// paging, and the summary the correlator needs.
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import { isPostgres } from '../db/dialect.js';
import type { Database, EventsTable } from '../db/schema.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { DEFAULT_PAGE_SIZE } from '../http/schemas.js';
import { iso, isoOrNull, parseTimeParam } from '../http/time.js';
import { alarmsOfEvent } from '../alarms/repo.js';
import { evidenceOfEvent } from '../evidence/repo.js';
import type { EventSummary } from './correlate.js';
import { categoryLabel, priorityLabel, type EventPolicy, type Priority } from './policy.js';
import type { EventDetailJson, EventJson, EventList, EventListQuery, TimelineEntryJson } from './schemas.js';
import { statusLabel, type EventStatus } from './status.js';
import { allowedActions } from './lifecycle.js';

type EventRow = Selectable<EventsTable>;

/** The grid's name and path are the event's own (as they were when it opened), not the grid's current ones. */
function selectEvents(db: Kysely<Database>) {
  return db.selectFrom('events').selectAll('events');
}

export function toEventJson(r: EventRow, policy: EventPolicy): EventJson {
  return {
    id: r.id,
    status: r.status,
    statusLabel: statusLabel(r.status),
    category: r.category,
    categoryLabel: categoryLabel(policy, r.category),
    priority: r.priority,
    priorityLabel: priorityLabel(policy, r.priority),
    title: r.title,
    edgeId: r.edge_id,
    deviceId: r.device_id,
    alarmType: r.alarm_type,
    gridId: r.grid_id,
    townId: r.town_id,
    gridName: r.grid_name,
    gridNameZh: r.grid_name_zh,
    gridVersion: r.grid_version,
    gridPath: r.grid_path === null ? null : (JSON.parse(r.grid_path) as EventJson['gridPath']),
    location: r.lon === null || r.lat === null ? null : { lon: r.lon, lat: r.lat },
    site: r.site,
    occurrenceCount: r.occurrence_count,
    activeAlarms: r.active_alarms,
    openedAt: iso(r.opened_at),
    updatedAt: iso(r.updated_at),
    deadlineAt: iso(r.deadline_at),
    clearedAt: isoOrNull(r.cleared_at),
    readyToVerify: r.cleared_at !== null && r.status !== 'closed',
    assignee: r.assignee_kind && r.assignee_id ? { kind: r.assignee_kind, id: r.assignee_id, name: r.assignee_name } : null,
    acceptedAt: isoOrNull(r.accepted_at),
    dispatchedAt: isoOrNull(r.dispatched_at),
    resolvedAt: isoOrNull(r.resolved_at),
    closedAt: isoOrNull(r.closed_at),
    escalatedAt: isoOrNull(r.escalated_at),
    escalations: r.escalations,
    allowedActions: allowedActions(r.status as EventStatus),
  };
}

/** Newest first by (opened_at, id); `from` inclusive, `to` exclusive. */
/** Statuses in which the work is done: an event in them is not overdue whatever its deadline. */
const DONE = ['resolved', 'verified', 'closed'];

export async function listEvents(db: Kysely<Database>, policy: EventPolicy, q: EventListQuery, clock: Clock): Promise<EventList> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  const from = parseTimeParam(q.from, 'from');
  const to = parseTimeParam(q.to, 'to');
  let query = selectEvents(db);
  if (q.status) query = query.where('events.status', '=', q.status);
  if (q.category) query = query.where('events.category', '=', q.category);
  if (q.gridId) query = query.where('events.grid_id', '=', q.gridId);
  if (q.townId) query = query.where('events.town_id', '=', q.townId);
  if (q.overdue !== undefined) {
    const now = clock.now();
    query = q.overdue
      ? query.where('events.deadline_at', '<', now).where('events.status', 'not in', DONE)
      : query.where((eb) => eb.or([eb('events.deadline_at', '>=', now), eb('events.status', 'in', DONE)]));
  }
  // The device that opened the event, or one whose alarm joined it.
  if (q.deviceId) {
    const deviceId = q.deviceId;
    query = query.where((eb) => eb.or([eb('events.device_id', '=', deviceId), eb('events.id', 'in', db.selectFrom('alarms').select('event_id').where('device_id', '=', deviceId).where('event_id', 'is not', null).$narrowType<{ event_id: string }>())]));
  }
  if (q.priority) query = query.where('events.priority', '=', q.priority);
  if (from !== undefined) query = query.where('events.opened_at', '>=', from);
  if (to !== undefined) query = query.where('events.opened_at', '<', to);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    query = query.where((eb) => eb.or([eb('events.opened_at', '<', c.t), eb.and([eb('events.opened_at', '=', c.t), eb('events.id', '<', c.id)])]));
  }
  const rows = await query.orderBy('events.opened_at', 'desc').orderBy('events.id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => toEventJson(r, policy)),
    nextCursor: rows.length > limit && last ? encodeCursor({ t: last.opened_at, id: last.id }) : null,
  };
}

export async function getEventsByIds(db: Kysely<Database>, policy: EventPolicy, ids: readonly string[]): Promise<Map<string, EventJson>> {
  const out = new Map<string, EventJson>();
  if (ids.length === 0) return out;
  const rows = await selectEvents(db).where('events.id', 'in', [...ids]).execute();
  for (const r of rows) out.set(r.id, toEventJson(r, policy));
  return out;
}

export async function getEventDetail(db: Kysely<Database>, policy: EventPolicy, id: string): Promise<EventDetailJson | null> {
  const row = await selectEvents(db).where('events.id', '=', id).executeTakeFirst();
  if (!row) return null;
  const [alarms, timeline, evidence] = await Promise.all([alarmsOfEvent(db, id), timelineOf(db, id), evidenceOfEvent(db, id)]);
  return { ...toEventJson(row, policy), devices: [...new Set([row.device_id, ...alarms.map((a) => a.deviceId)])], alarms, timeline, evidence };
}

async function timelineOf(db: Kysely<Database>, eventId: string): Promise<TimelineEntryJson[]> {
  const rows = await db.selectFrom('event_timeline').selectAll().where('event_id', '=', eventId).orderBy('at').orderBy('id').execute();
  return rows.map((r) => ({
    at: iso(r.at),
    kind: r.kind,
    actor: r.actor,
    note: r.note,
    data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
  }));
}

/**
 * The open event for a dedup key, or — by id — an alarm's own event if it is still open.
 * `forUpdate`: lock the row until the transaction ends (PostgreSQL; SQLite's writers take turns anyway).
 */
export async function loadOpenEvent(db: Kysely<Database>, by: { dedupKey: string } | { id: string }, opts: { forUpdate?: boolean } = {}): Promise<EventSummary | null> {
  let q = db
    .selectFrom('events')
    .select(['id', 'category', 'priority', 'occurrence_count', 'active_alarms', 'opened_at', 'deadline_at', 'cleared_at']);
  q = 'dedupKey' in by ? q.where('open_dedup_key', '=', by.dedupKey) : q.where('id', '=', by.id).where('open_dedup_key', 'is not', null);
  if (opts.forUpdate && isPostgres(db)) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  if (!r) return null;
  return {
    id: r.id,
    category: r.category,
    priority: r.priority as Priority,
    occurrenceCount: r.occurrence_count,
    activeAlarms: r.active_alarms,
    openedAt: r.opened_at,
    deadlineAt: r.deadline_at,
    clearedAt: r.cleared_at,
  };
}

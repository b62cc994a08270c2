import type { Kysely, Selectable } from 'kysely';
import type { Severity } from '../../contracts/alarm.js';
import type { AlarmsTable, Database } from '../db/schema.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { DEFAULT_PAGE_SIZE } from '../http/schemas.js';
import { iso, isoOrNull } from '../http/time.js';
import type { AlarmJson, AlarmList, AlarmListQuery } from './schemas.js';

export function toAlarmJson(r: Selectable<AlarmsTable>): AlarmJson {
  return {
    id: r.id,
    alarmId: r.alarm_id,
    edgeId: r.edge_id,
    deviceId: r.device_id,
    type: r.type,
    severity: r.severity as Severity,
    state: r.state,
    raisedAt: iso(r.first_ts),
    lastAt: iso(r.last_ts),
    clearedAt: isoOrNull(r.cleared_ts),
    lastSeq: r.last_seq,
    value: r.value === null ? null : (JSON.parse(r.value) as AlarmJson['value']),
    unit: r.unit,
    message: r.message,
    location: r.lon === null || r.lat === null ? null : { lon: r.lon, lat: r.lat },
    site: r.site,
    profile: r.profile,
    ruleId: r.rule_id,
    eventId: r.event_id,
    receivedAt: iso(r.created_at),
  };
}

/** Newest first by when the cloud first stored the alarm. */
/** `townId`: a town key's scope — only alarms linked to that town's events. */
export async function listAlarms(db: Kysely<Database>, q: AlarmListQuery, townId: string | null = null): Promise<AlarmList> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  let query = db.selectFrom('alarms').selectAll();
  if (townId !== null) query = query.where('event_id', 'in', db.selectFrom('events').select('id').where('town_id', '=', townId));
  if (q.deviceId) query = query.where('device_id', '=', q.deviceId);
  if (q.state) query = query.where('state', '=', q.state);
  if (q.edgeId) query = query.where('edge_id', '=', q.edgeId);
  if (q.alarmId) query = query.where('alarm_id', '=', q.alarmId);
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    query = query.where((eb) => eb.or([eb('created_at', '<', c.t), eb.and([eb('created_at', '=', c.t), eb('id', '<', c.id)])]));
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map(toAlarmJson), nextCursor: rows.length > limit && last ? encodeCursor({ t: last.created_at, id: last.id }) : null };
}

export async function getAlarm(db: Kysely<Database>, id: string, townId: string | null = null): Promise<AlarmJson | null> {
  let q = db.selectFrom('alarms').selectAll().where('id', '=', id);
  if (townId !== null) q = q.where('event_id', 'in', db.selectFrom('events').select('id').where('town_id', '=', townId));
  const r = await q.executeTakeFirst();
  return r ? toAlarmJson(r) : null;
}

export async function alarmsOfEvent(db: Kysely<Database>, eventId: string): Promise<AlarmJson[]> {
  const rows = await db
    .selectFrom('event_alarms')
    .innerJoin('alarms', 'alarms.id', 'event_alarms.alarm_id')
    .selectAll('alarms')
    .where('event_alarms.event_id', '=', eventId)
    .orderBy('alarms.first_ts')
    .orderBy('alarms.id')
    .execute();
  return rows.map(toAlarmJson);
}

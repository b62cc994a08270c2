// What the correlator needs from the database for a raise: the open event of its own incident
// (dedup: device + alarm type, including a device that joined another device's event), else the
// open event its category and grid could join. Locked on PostgreSQL so that two raises of different
// devices in one grid, arriving at once on two instances, make one event and not two: each takes the
// lock of "category in grid" before looking, so the second looks after the first has committed.
// SQLite runs one write transaction at a time, so there the lock is nothing.
import type { Kysely } from 'kysely';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import { isPostgres } from '../db/dialect.js';
import { lockKeys } from '../db/locks.js';
import type { Database } from '../db/schema.js';
import type { Placement } from '../grids/snapshot.js';
import { dedupKeyOf, type EventSummary, type JoinCandidate } from './correlate.js';
import { categoryFor, joinWindowMs, type EventPolicy, type Priority } from './policy.js';
import { loadOpenEvent } from './repo.js';

/** Advisory-lock space of "category in grid" (PostgreSQL), apart from the other contexts' spaces. */
export const EVENT_JOIN_LOCK_SPACE = 0x67730021;

export interface JoinContext {
  policy: EventPolicy;
  locate: (lon: number, lat: number) => Placement;
  profileKind: (profileId: string | undefined) => string | undefined;
}

/** The lock a raise of this category in this grid takes; null when its category never joins or it has no grid. */
export function joinLockKey(category: string, gridId: string | null, policy: EventPolicy): string | null {
  return gridId !== null && joinWindowMs(policy, category) > 0 ? `${category}@${gridId}` : null;
}

/**
 * Takes, in one sorted statement, the join locks every raise of a batch will need, before any is
 * applied: two batches touching the same grids in different orders then never wait on each other
 * crosswise (a deadlock PostgreSQL would break by failing one of them).
 */
export async function lockJoinsOf(trx: Kysely<Database>, raises: readonly Envelope[], c: JoinContext): Promise<void> {
  if (!isPostgres(trx)) return; // one writer at a time: nothing to lock, nothing to compute
  const keys = new Set<string>();
  for (const t of raises) {
    if (t.action !== 'raise' || !t.location) continue;
    const key = joinLockKey(categoryFor(c.policy, t.type, c.profileKind(t.profile)), c.locate(t.location.lon, t.location.lat).gridId, c.policy);
    if (key) keys.add(key);
  }
  await lockKeys(trx, EVENT_JOIN_LOCK_SPACE, [...keys]);
}

export interface RaiseLookup {
  /** The open event of the alarm's own incident (a repeat). */
  open: EventSummary | null;
  /** Otherwise: an open event of its category and grid within the window (the correlator decides). */
  joinCandidate: JoinCandidate | null;
}

/** Looks up, under the join lock, the events a raise may belong to; rows found are locked FOR UPDATE. */
export async function lookupForRaise(trx: Kysely<Database>, t: Envelope, where: { gridId: string | null; category: string; policy: EventPolicy }): Promise<RaiseLookup> {
  const key = joinLockKey(where.category, where.gridId, where.policy);
  // Taken again if ingest already holds it (advisory locks nest): correct for any caller.
  if (key) await lockKeys(trx, EVENT_JOIN_LOCK_SPACE, [key]);
  const own = await loadOpenEvent(trx, { dedupKey: dedupKeyOf(t.deviceId, t.type) }, { forUpdate: true });
  if (own) return { open: own, joinCandidate: null };
  const window = joinWindowMs(where.policy, where.category);
  if (window === 0) return { open: null, joinCandidate: null };

  // A device that joined another device's event: its repeats belong there too.
  const member = await trx
    .selectFrom('alarms')
    .innerJoin('events', 'events.id', 'alarms.event_id')
    .select('events.id')
    .where('alarms.device_id', '=', t.deviceId)
    .where('alarms.type', '=', t.type)
    .where('events.open_dedup_key', 'is not', null)
    .orderBy('events.opened_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (member) {
    const open = await loadOpenEvent(trx, { id: member.id }, { forUpdate: true });
    if (open) return { open, joinCandidate: null };
  }
  if (where.gridId === null) return { open: null, joinCandidate: null };

  // The open event of this category in this grid whose first alarm is nearest before (else after) this one.
  let q = trx
    .selectFrom('events')
    .select(['id', 'category', 'priority', 'occurrence_count', 'active_alarms', 'opened_at', 'deadline_at', 'cleared_at', 'grid_id', 'incident_at'])
    .where('grid_id', '=', where.gridId)
    .where('category', '=', where.category)
    .where('open_dedup_key', 'is not', null)
    .where('incident_at', '>=', t.ts - window)
    .where('incident_at', '<=', t.ts + window)
    .orderBy('incident_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1);
  if (isPostgres(trx)) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  if (!r) return { open: null, joinCandidate: null };
  return {
    open: null,
    joinCandidate: {
      id: r.id,
      category: r.category,
      priority: r.priority as Priority,
      occurrenceCount: r.occurrence_count,
      activeAlarms: r.active_alarms,
      openedAt: r.opened_at,
      deadlineAt: r.deadline_at,
      clearedAt: r.cleared_at,
      gridId: r.grid_id,
      incidentAt: r.incident_at,
      closed: false,
    },
  };
}

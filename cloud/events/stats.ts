// The figures a county is judged on, per town, grid or category over a period: how many events, how
// many handled (处置率), how many late (overdue rate), and how long acceptance and resolution took.
// One GROUP BY in portable SQL (CASE, AVG, SUM), so SQLite and PostgreSQL give the same numbers.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { categoryLabel, type EventPolicy } from './policy.js';

export const STATS_GROUPS = ['town', 'grid', 'category'] as const;
export type StatsGroup = (typeof STATS_GROUPS)[number];

export interface StatsRow {
  key: string | null;
  label: string | null;
  total: number;
  open: number;
  handled: number;
  /** handled / total, 0–1; null with no events. */
  handlingRate: number | null;
  overdue: number;
  overdueRate: number | null;
  meanMinutesToAccept: number | null;
  meanMinutesToResolve: number | null;
}

const COLUMN = { town: 'events.town_id', grid: 'events.grid_id', category: 'events.category' } as const;

export async function eventStats(db: Kysely<Database>, policy: EventPolicy, q: { groupBy: StatsGroup; from?: number; to?: number; townId?: string; now: number }): Promise<StatsRow[]> {
  const col = sql.ref(COLUMN[q.groupBy]);
  const done = sql`events.status IN ('resolved', 'verified', 'closed')`;
  // Late: handled after the deadline, or still open past it.
  const late = sql`(CASE WHEN (${done} AND events.resolved_at > events.deadline_at) OR (NOT ${done} AND events.deadline_at < ${q.now}) THEN 1 ELSE 0 END)`;
  let query = db
    .selectFrom('events')
    .select([
      sql<string | null>`${col}`.as('key'),
      sql<number>`COUNT(*)`.as('total'),
      sql<number>`SUM(CASE WHEN ${done} THEN 1 ELSE 0 END)`.as('handled'),
      sql<number>`SUM(CASE WHEN events.status = 'closed' THEN 0 ELSE 1 END)`.as('open'),
      sql<number>`SUM(${late})`.as('overdue'),
      sql<number | null>`AVG(CASE WHEN events.accepted_at IS NOT NULL THEN events.accepted_at - events.opened_at END)`.as('accept_ms'),
      sql<number | null>`AVG(CASE WHEN events.resolved_at IS NOT NULL THEN events.resolved_at - events.opened_at END)`.as('resolve_ms'),
    ])
    .groupBy(col)
    // Both databases put the group without a key (outside every town) first.
    .orderBy(col, (ob) => ob.asc().nullsFirst());
  if (q.from !== undefined) query = query.where('events.opened_at', '>=', q.from);
  if (q.to !== undefined) query = query.where('events.opened_at', '<', q.to);
  if (q.townId !== undefined) query = query.where('events.town_id', '=', q.townId);
  const rows = await query.execute();
  const names = q.groupBy === 'category' ? new Map<string, string>() : await gridNames(db, rows.map((r) => r.key).filter((k): k is string => k !== null));
  return rows.map((r) => {
    // PostgreSQL returns COUNT/SUM as bigint strings and AVG as numeric strings.
    const total = Number(r.total);
    const handled = Number(r.handled);
    const overdue = Number(r.overdue);
    const minutes = (ms: unknown) => (ms === null || ms === undefined ? null : Math.round((Number(ms) / 60_000) * 10) / 10);
    return {
      key: r.key,
      label: r.key === null ? null : q.groupBy === 'category' ? categoryLabel(policy, r.key) : (names.get(r.key) ?? null),
      total,
      open: Number(r.open),
      handled,
      handlingRate: total ? ratio(handled, total) : null,
      overdue,
      overdueRate: total ? ratio(overdue, total) : null,
      meanMinutesToAccept: minutes(r.accept_ms),
      meanMinutesToResolve: minutes(r.resolve_ms),
    };
  });
}

function ratio(a: number, b: number): number {
  return Math.round((a / b) * 10_000) / 10_000;
}

async function gridNames(db: Kysely<Database>, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('grids').select(['id', 'name', 'name_zh']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.name_zh ?? r.name]));
}

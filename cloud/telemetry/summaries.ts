// Telemetry summaries in: each (device, point, period) is stored once — a retried upload counts as
// duplicates and changes nothing — and the gaps an edge's outbox quota left are stored once per edge
// and gap id. Out: a device's summaries over a time range.
import type { Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import type { SummaryBatch, SummaryBatchResult } from '../../contracts/telemetry-summary.js';
import type { Database } from '../db/schema.js';
import { iso } from '../http/time.js';
import { telemetryDb } from './tables.js';

const CHUNK = 200;

export async function ingestSummaries(db: Kysely<Database>, clock: Clock, edgeId: string, batch: SummaryBatch): Promise<SummaryBatchResult> {
  const details = batch.summaries.flatMap((s, i) => (s.to <= s.from ? [{ path: `/summaries/${i}/to`, message: 'must be after from' }] : s.min > s.max ? [{ path: `/summaries/${i}/min`, message: 'must not exceed max' }] : []));
  (batch.gaps ?? []).forEach((g, i) => {
    if (g.to < g.from) details.push({ path: `/gaps/${i}/to`, message: 'must not be before from' });
  });
  if (details.length > 0) throw new GsError('GS_ERR_VALIDATION', `telemetry batch is not valid: ${details.length} problem(s)`, details);
  const now = clock.now();
  const tdb = telemetryDb(db);
  let accepted = 0;
  await tdb.transaction().execute(async (trx) => {
    for (let i = 0; i < batch.summaries.length; i += CHUNK) {
      const rows = batch.summaries.slice(i, i + CHUNK).map((s) => ({
        device_id: s.deviceId, point: s.point, period_from: s.from, period_to: s.to, edge_id: edgeId, count: s.count,
        min: s.min, max: s.max, mean: s.mean, last: s.last, last_ts: s.lastTs, unit: s.unit ?? null, received_at: now,
      }));
      const r = await trx.insertInto('telemetry_summaries').values(rows).onConflict((oc) => oc.columns(['device_id', 'point', 'period_from']).doNothing()).executeTakeFirst();
      accepted += Number(r.numInsertedOrUpdatedRows ?? 0);
    }
    const gaps = batch.gaps ?? [];
    if (gaps.length > 0) {
      const rows = gaps.map((g) => ({ edge_id: edgeId, gap_id: g.id, dropped: g.dropped, period_from: g.from, period_to: g.to, dropped_at: g.at, max_bytes: g.maxBytes, received_at: now }));
      const r = await trx.insertInto('telemetry_gaps').values(rows).onConflict((oc) => oc.columns(['edge_id', 'gap_id']).doNothing()).executeTakeFirst();
      accepted += Number(r.numInsertedOrUpdatedRows ?? 0);
    }
  });
  // Repeats inside one batch count as duplicates too.
  return { accepted, duplicates: batch.summaries.length + (batch.gaps?.length ?? 0) - accepted };
}

export interface SummaryJson {
  point: string;
  from: string;
  to: string;
  count: number;
  min: number;
  max: number;
  mean: number;
  last: number;
  lastAt: string;
  unit: string | null;
  edgeId: string;
}

/** Summaries whose period starts in [from, to], oldest first, optionally of one point. */
export async function deviceSummaries(db: Kysely<Database>, deviceId: string, q: { from: number; to: number; point?: string; limit: number }): Promise<SummaryJson[]> {
  let query = telemetryDb(db).selectFrom('telemetry_summaries').selectAll().where('device_id', '=', deviceId).where('period_from', '>=', q.from).where('period_from', '<=', q.to);
  if (q.point !== undefined) query = query.where('point', '=', q.point);
  const rows = await query.orderBy('period_from').orderBy('point').limit(q.limit).execute();
  return rows.map((r) => ({
    point: r.point, from: iso(Number(r.period_from)), to: iso(Number(r.period_to)), count: Number(r.count),
    min: Number(r.min), max: Number(r.max), mean: Number(r.mean), last: Number(r.last), lastAt: iso(Number(r.last_ts)), unit: r.unit, edgeId: r.edge_id,
  }));
}

export interface GapJson {
  edgeId: string;
  id: string;
  dropped: number;
  from: string;
  to: string;
  droppedAt: string;
  maxBytes: number;
  receivedAt: string;
}

/** Gaps the edges reported, newest first, optionally of one edge (or of the edges in `edgeIds`). */
export async function telemetryGaps(db: Kysely<Database>, q: { edgeId?: string; edgeIds?: string[]; limit: number }): Promise<GapJson[]> {
  let query = telemetryDb(db).selectFrom('telemetry_gaps').selectAll();
  if (q.edgeId !== undefined) query = query.where('edge_id', '=', q.edgeId);
  if (q.edgeIds !== undefined) {
    if (q.edgeIds.length === 0) return [];
    query = query.where('edge_id', 'in', q.edgeIds);
  }
  const rows = await query.orderBy('received_at', 'desc').orderBy('gap_id', 'desc').limit(q.limit).execute();
  return rows.map((r) => ({
    edgeId: r.edge_id, id: r.gap_id, dropped: Number(r.dropped), from: iso(Number(r.period_from)), to: iso(Number(r.period_to)),
    droppedAt: iso(Number(r.dropped_at)), maxBytes: Number(r.max_bytes), receivedAt: iso(Number(r.received_at)),
  }));
}

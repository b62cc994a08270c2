// Campaigns and jobs as the API shows them: per-state counts overall and per wave, failure reasons.
import type { Static } from 'typebox';
import { FIRMWARE_JOB_STATES, type FirmwareJobState } from '../../contracts/firmware.js';
import { decodeIdCursor, encodeIdCursor } from '../devices/query.js';
import { DEFAULT_PAGE_SIZE } from '../http/schemas.js';
import { iso, isoOrNull } from '../http/time.js';
import { CAMPAIGN_STATE_LABELS, JOB_STATE_LABELS, type CampaignJson, type CampaignList, type JobJson, type JobList, type JobListQuery } from './schemas.js';
import type { CampaignSelection, FirmwareCampaignsTable, FirmwareJobsTable, FwDb, StoredWave } from './tables.js';

type Counts = Record<FirmwareJobState | 'total', number>;
const zero = (): Counts => ({ ...(Object.fromEntries(FIRMWARE_JOB_STATES.map((s) => [s, 0])) as Record<FirmwareJobState, number>), total: 0 });

export async function campaignViews(db: FwDb, rows: FirmwareCampaignsTable[]): Promise<Array<Static<typeof CampaignJson>>> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const counts = await db
    .selectFrom('firmware_jobs')
    .select(['campaign_id', 'wave', 'state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', 'in', ids)
    .groupBy(['campaign_id', 'wave', 'state'])
    .execute();
  const reasons = await db
    .selectFrom('firmware_jobs')
    .select(['campaign_id', 'reason_code', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('reason_message').as('example')])
    .where('campaign_id', 'in', ids)
    .where('state', '=', 'failed')
    .groupBy(['campaign_id', 'reason_code'])
    .execute();
  const artifacts = await db.selectFrom('firmware_artifacts').select(['id', 'version', 'profiles']).where('id', 'in', [...new Set(rows.map((r) => r.artifact_id))]).execute();
  return rows.map((c) => {
    const stored = JSON.parse(c.waves) as StoredWave[];
    const overall = zero();
    const perWave = stored.map(() => zero());
    for (const r of counts.filter((x) => x.campaign_id === c.id)) {
      const n = Number(r.n);
      const s = r.state as FirmwareJobState;
      overall[s] += n;
      overall.total += n;
      const w = perWave[r.wave];
      if (w) {
        w[s] += n;
        w.total += n;
      }
    }
    const a = artifacts.find((x) => x.id === c.artifact_id)!;
    return {
      id: c.id,
      name: c.name,
      state: c.state,
      stateLabel: CAMPAIGN_STATE_LABELS[c.state],
      artifact: { id: a.id, version: a.version, profiles: JSON.parse(a.profiles) as string[] },
      targetKind: c.target_kind,
      target: JSON.parse(c.selection) as CampaignSelection,
      currentWave: c.current_wave < 0 ? null : c.current_wave,
      waves: stored.map((w, i) => ({
        index: i,
        share: w.share,
        size: w.size,
        startedAt: isoOrNull(w.startedAt),
        finishedAt: isoOrNull(w.finishedAt),
        counts: perWave[i]!,
        failureRate: perWave[i]!.total > 0 ? perWave[i]!.failed / perWave[i]!.total : 0,
      })),
      counts: overall,
      failureReasons: reasons
        .filter((r) => r.campaign_id === c.id)
        .map((r) => ({ code: r.reason_code ?? 'unknown', count: Number(r.n), example: r.example ?? null }))
        .sort((x, y) => y.count - x.count),
      jitterMs: Number(c.jitter_ms),
      window: c.window_start !== null && c.window_end !== null ? { start: c.window_start, end: c.window_end } : null,
      failureThreshold: c.failure_threshold,
      soakMs: Number(c.soak_ms),
      maxInFlightPerEdge: c.max_in_flight_per_edge,
      jobTimeoutMs: c.job_timeout_ms === null ? null : Number(c.job_timeout_ms),
      haltedReason: c.halted_reason,
      createdAt: iso(c.created_at),
      createdBy: c.created_by,
      startedAt: isoOrNull(c.started_at),
      finishedAt: isoOrNull(c.finished_at),
      updatedAt: iso(c.updated_at),
    };
  });
}

/** Newest first, keyset paging on the (time-sortable) id. */
export async function listCampaigns(db: FwDb, q: { state?: FirmwareCampaignsTable['state'] | undefined; limit?: number | undefined; cursor?: string | undefined }): Promise<Static<typeof CampaignList>> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  let query = db.selectFrom('firmware_campaigns').selectAll();
  if (q.state !== undefined) query = query.where('state', '=', q.state);
  if (q.cursor !== undefined) query = query.where('id', '<', decodeIdCursor(q.cursor));
  const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  return { items: await campaignViews(db, page), nextCursor: rows.length > limit ? encodeIdCursor(page.at(-1)!.id) : null };
}

export function jobJson(j: FirmwareJobsTable): Static<typeof JobJson> {
  const state = j.state as FirmwareJobState;
  return {
    id: j.id,
    campaignId: j.campaign_id,
    wave: j.wave,
    targetKind: j.target_kind,
    deviceId: j.device_id,
    edgeId: j.edge_id,
    state,
    stateLabel: JOB_STATE_LABELS[state],
    releasedAt: isoOrNull(j.released_at === null ? null : Number(j.released_at)),
    notBefore: isoOrNull(j.not_before === null ? null : Number(j.not_before)),
    bytes: j.bytes === null ? null : Number(j.bytes),
    reason: j.reason_code !== null || j.reason_message !== null ? { code: j.reason_code, message: j.reason_message } : null,
    runningVersion: j.running_version,
    updatedAt: iso(Number(j.updated_at)),
  };
}

/** A campaign's jobs in id order (its wave plan order), filtered, keyset-paged. */
export async function listJobs(db: FwDb, campaignId: string, q: Static<typeof JobListQuery>): Promise<Static<typeof JobList>> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  let query = db.selectFrom('firmware_jobs').selectAll().where('campaign_id', '=', campaignId);
  if (q.state !== undefined) query = query.where('state', '=', q.state);
  if (q.wave !== undefined) query = query.where('wave', '=', q.wave);
  if (q.edge !== undefined) query = query.where('edge_id', '=', q.edge);
  if (q.cursor !== undefined) query = query.where('id', '>', decodeIdCursor(q.cursor));
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  return { items: page.map(jobJson), nextCursor: rows.length > limit ? encodeIdCursor(page.at(-1)!.id) : null };
}

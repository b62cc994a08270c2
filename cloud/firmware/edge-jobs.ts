// The edge's side of campaigns: the jobs it should run now, and its reports of how they go.
// An edge sees the released, unfinished jobs of its devices (and of itself); per campaign at most
// `maxInFlightPerEdge` at a time — those under way first, then the pending ones by notBefore — so
// one town's sensors never all reboot at once. `paused` is set when the campaign is not running.
import { GsError } from '../../contracts/errors.js';
import { canMoveJob, type FirmwareJob, type FirmwareJobReport, type FirmwareJobState } from '../../contracts/firmware.js';
import { artifactRef } from './artifacts.js';
import { bumpEdges } from './changes.js';
import type { FirmwareDeps } from './deps.js';
import type { FirmwareArtifactsTable, FirmwareCampaignsTable, FirmwareJobsTable, FwDb } from './tables.js';
import { LIVE_JOB_STATES, TERMINAL_JOB_STATES } from './waves.js';

/** FirmwareJobList's maxItems. */
const MAX_JOBS = 10_000;

type CampaignBits = Pick<FirmwareCampaignsTable, 'state' | 'window_start' | 'window_end'>;

export function toFirmwareJob(j: FirmwareJobsTable, c: CampaignBits, a: FirmwareArtifactsTable): FirmwareJob {
  return {
    jobId: j.id,
    campaignId: j.campaign_id,
    target: j.target_kind === 'edge' ? { kind: 'edge' } : { kind: 'device', deviceId: j.device_id! },
    artifact: artifactRef(a),
    state: j.state as FirmwareJobState,
    notBefore: Number(j.not_before ?? j.released_at ?? 0),
    ...(c.window_start !== null && c.window_end !== null ? { window: { start: c.window_start, end: c.window_end } } : {}),
    paused: c.state !== 'running',
  };
}

async function artifactsById(db: FwDb, ids: string[]): Promise<Map<string, FirmwareArtifactsTable>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('firmware_artifacts').selectAll().where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

export async function edgeJobs(db: FwDb, edgeId: string): Promise<FirmwareJob[]> {
  const rows = await db
    .selectFrom('firmware_jobs as j')
    .innerJoin('firmware_campaigns as c', 'c.id', 'j.campaign_id')
    .selectAll('j')
    .select(['c.state as campaign_state', 'c.window_start as window_start', 'c.window_end as window_end', 'c.max_in_flight_per_edge as cap', 'c.artifact_id as artifact_id'])
    .where('j.edge_id', '=', edgeId)
    .where('j.released_at', 'is not', null)
    .where('j.state', 'in', [...LIVE_JOB_STATES])
    .where('c.state', 'in', ['running', 'paused', 'halted', 'aborted'])
    .orderBy('j.campaign_id')
    .orderBy('j.not_before')
    .orderBy('j.id')
    .execute();
  const byCampaign = new Map<string, typeof rows>();
  for (const r of rows) byCampaign.set(r.campaign_id, [...(byCampaign.get(r.campaign_id) ?? []), r]);
  const picked: typeof rows = [];
  for (const list of byCampaign.values()) {
    const under = list.filter((r) => r.state !== 'pending');
    const waiting = list.filter((r) => r.state === 'pending');
    const cap = list[0]!.cap === null ? Infinity : Number(list[0]!.cap);
    picked.push(...under, ...waiting.slice(0, Math.max(0, cap - under.length)));
  }
  const artifacts = await artifactsById(db, picked.map((r) => r.artifact_id));
  return picked.slice(0, MAX_JOBS).map((r) => toFirmwareJob(r, { state: r.campaign_state, window_start: r.window_start, window_end: r.window_end }, artifacts.get(r.artifact_id)!));
}

/** Whether this edge has a released job (any state) for the artifact: it may download it. */
export async function edgeMayDownload(db: FwDb, edgeId: string, artifactId: string): Promise<boolean> {
  const r = await db
    .selectFrom('firmware_jobs as j')
    .innerJoin('firmware_campaigns as c', 'c.id', 'j.campaign_id')
    .select('j.id')
    .where('j.edge_id', '=', edgeId)
    .where('c.artifact_id', '=', artifactId)
    .where('j.released_at', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

export interface Reported {
  job: FirmwareJob;
  /** The state moved (not a repeat): the campaign may advance. */
  moved: boolean;
  terminal: boolean;
  edges: string[];
}

/**
 * Applies an edge's report to its job: 404 for a job that is not this edge's, 409 for a move the
 * state table refuses, nothing for the same state again (a downloading progress report updates
 * `bytes`). Compare-and-set on the state, retried when another report moved it meanwhile.
 */
export async function reportJob(d: FirmwareDeps, edgeId: string, jobId: string, r: FirmwareJobReport): Promise<Reported> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const j = await d.db.selectFrom('firmware_jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
    if (!j || j.edge_id !== edgeId) throw new GsError('GS_ERR_FIRMWARE_JOB_NOT_FOUND', `no firmware job "${jobId}" for this edge`);
    if (j.released_at === null) throw new GsError('GS_ERR_FIRMWARE_JOB_STATE', `job ${jobId} has not been released yet (its wave has not started)`);
    const from = j.state as FirmwareJobState;
    const same = from === r.state;
    if (!same && !canMoveJob(from, r.state)) throw new GsError('GS_ERR_FIRMWARE_JOB_STATE', `job ${jobId} is ${from}: it cannot become ${r.state}`, [{ path: '/state', message: `${from} → ${r.state} is not allowed` }]);
    const now = d.clock.now();
    const set: Partial<FirmwareJobsTable> = same
      ? { ...(r.bytes !== undefined ? { bytes: r.bytes } : {}) }
      : {
          state: r.state,
          reported_at: r.at,
          updated_at: now,
          ...(r.bytes !== undefined ? { bytes: r.bytes } : {}),
          ...(r.reason ? { reason_code: r.reason.code, reason_message: r.reason.message } : {}),
          ...(r.runningVersion !== undefined ? { running_version: r.runningVersion } : {}),
        };
    const outcome = await d.db.transaction().execute(async (trx) => {
      if (Object.keys(set).length === 0) return { ok: true, edges: [] as string[] };
      const u = await trx.updateTable('firmware_jobs').set(set).where('id', '=', jobId).where('state', '=', from).executeTakeFirst();
      if (Number(u.numUpdatedRows) !== 1) return { ok: false, edges: [] };
      return { ok: true, edges: same ? [] : await bumpEdges(trx, [edgeId], now) };
    });
    if (!outcome.ok) continue;
    const fresh = (await d.db.selectFrom('firmware_jobs').selectAll().where('id', '=', jobId).executeTakeFirst())!;
    const c = (await d.db.selectFrom('firmware_campaigns').selectAll().where('id', '=', j.campaign_id).executeTakeFirst())!;
    const a = (await artifactsById(d.db, [c.artifact_id])).get(c.artifact_id)!;
    return { job: toFirmwareJob(fresh, c, a), moved: !same, terminal: TERMINAL_JOB_STATES.includes(r.state), edges: outcome.edges };
  }
  throw new GsError('GS_ERR_CONFLICT', `job ${jobId} keeps changing; report again`);
}

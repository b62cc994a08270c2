// Wave progression: a running campaign releases its next wave once every job of the current one has
// ended, its failure rate stayed at or under the threshold, and the soak time has passed; a wave whose
// failures pass the threshold halts the campaign (nothing more is released). It runs after each job
// report and from the periodic sweep. Safe with several instances: every step holds the campaign's
// advisory lock (PostgreSQL; SQLite runs one writer at a time) and moves `current_wave` by
// compare-and-set, so a wave is released once whoever gets there first.
import type { Kysely } from 'kysely';
import { FIRMWARE_TERMINAL_STATES } from '../../contracts/firmware.js';
import { lockKeys } from '../db/locks.js';
import type { Database } from '../db/schema.js';
import { bumpEdges } from './changes.js';
import type { FirmwareDeps } from './deps.js';
import { passesThreshold } from './plan.js';
import type { FirmwareCampaignsTable, FwDb, StoredWave } from './tables.js';

/** The first key of pg_advisory_xact_lock: one firmware campaign. */
export const CAMPAIGN_LOCK_SPACE = 0x67730010;

export const LIVE_JOB_STATES = ['pending', 'downloading', 'verifying', 'installing'] as const;
export const TERMINAL_JOB_STATES = FIRMWARE_TERMINAL_STATES as readonly string[];

/** Takes the campaign's lock for the rest of the transaction and reads it. */
export async function lockCampaign(trx: FwDb, id: string): Promise<FirmwareCampaignsTable | undefined> {
  await lockKeys(trx as unknown as Kysely<Database>, CAMPAIGN_LOCK_SPACE, [id]);
  return trx.selectFrom('firmware_campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Edges with released jobs of the campaign that are not over: whose job lists change with its state. */
export async function edgesWithLiveJobs(trx: FwDb, campaignId: string): Promise<string[]> {
  const rows = await trx
    .selectFrom('firmware_jobs')
    .select('edge_id')
    .distinct()
    .where('campaign_id', '=', campaignId)
    .where('released_at', 'is not', null)
    .where('state', 'in', [...LIVE_JOB_STATES])
    .execute();
  return rows.map((r) => r.edge_id);
}

interface Step {
  /** Edges whose job lists changed (notify them after the commit). */
  edges: string[];
  /** A wave was released: look again (the next may be empty, or already over). */
  again: boolean;
}

/** One step of one campaign, in its own transaction. */
async function step(d: FirmwareDeps, id: string): Promise<Step> {
  return d.db.transaction().execute(async (trx) => {
    const c = await lockCampaign(trx, id);
    if (!c || c.state !== 'running') return { edges: [], again: false };
    const now = d.clock.now();
    const edges = await timeOut(trx, c, now);
    const waves = JSON.parse(c.waves) as StoredWave[];
    const w = c.current_wave;
    if (w >= 0) {
      const counts = await trx.selectFrom('firmware_jobs').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).where('campaign_id', '=', id).where('wave', '=', w).groupBy('state').execute();
      const of = (s: string) => Number(counts.find((r) => r.state === s)?.n ?? 0);
      const size = counts.reduce((sum, r) => sum + Number(r.n), 0);
      const failed = of('failed');
      if (w !== c.waived_wave && passesThreshold(failed, size, c.failure_threshold)) {
        const reason = `wave ${w + 1}: ${failed} of ${size} job(s) failed, over the threshold of ${Math.round(c.failure_threshold * 1000) / 10}%`;
        await trx.updateTable('firmware_campaigns').set({ state: 'halted', halted_reason: reason, updated_at: now }).where('id', '=', id).where('state', '=', 'running').execute();
        return { edges: await bumpEdges(trx, [...edges, ...(await edgesWithLiveJobs(trx, id))], now), again: false };
      }
      const ended = TERMINAL_JOB_STATES.reduce((sum, s) => sum + of(s), 0);
      if (ended < size) return { edges: await bumpEdges(trx, edges, now), again: false };
      const wave = waves[w]!;
      if (wave.finishedAt === null) {
        const last = await trx.selectFrom('firmware_jobs').select((eb) => eb.fn.max('updated_at').as('at')).where('campaign_id', '=', id).where('wave', '=', w).executeTakeFirst();
        wave.finishedAt = last?.at != null ? Number(last.at) : now;
        await trx.updateTable('firmware_campaigns').set({ waves: JSON.stringify(waves), updated_at: now }).where('id', '=', id).execute();
      }
      if (w === waves.length - 1) {
        await trx.updateTable('firmware_campaigns').set({ state: 'completed', finished_at: now, updated_at: now }).where('id', '=', id).where('state', '=', 'running').execute();
        return { edges: await bumpEdges(trx, edges, now), again: false };
      }
      if (now < wave.finishedAt + Number(c.soak_ms)) return { edges: await bumpEdges(trx, edges, now), again: false };
    }
    const next = w + 1;
    waves[next]!.startedAt = now;
    const moved = await trx
      .updateTable('firmware_campaigns')
      .set({ current_wave: next, waves: JSON.stringify(waves), updated_at: now })
      .where('id', '=', id)
      .where('current_wave', '=', w)
      .where('state', '=', 'running')
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) return { edges: await bumpEdges(trx, edges, now), again: false };
    await trx
      .updateTable('firmware_jobs')
      .set((eb) => ({ released_at: now, not_before: eb('jitter_ms', '+', now), updated_at: now }))
      .where('campaign_id', '=', id)
      .where('wave', '=', next)
      .where('released_at', 'is', null)
      .where('state', '=', 'pending')
      .execute();
    const released = await trx.selectFrom('firmware_jobs').select('edge_id').distinct().where('campaign_id', '=', id).where('wave', '=', next).execute();
    return { edges: await bumpEdges(trx, [...edges, ...released.map((r) => r.edge_id)], now), again: true };
  });
}

/** Jobs released longer ago than the campaign's job timeout fail (a device that went quiet must not hold a wave forever). */
async function timeOut(trx: FwDb, c: FirmwareCampaignsTable, now: number): Promise<string[]> {
  if (c.job_timeout_ms === null) return [];
  const late = trx
    .selectFrom('firmware_jobs')
    .where('campaign_id', '=', c.id)
    .where('released_at', 'is not', null)
    .where('state', 'in', [...LIVE_JOB_STATES])
    .where('not_before', '<', now - Number(c.job_timeout_ms));
  const edges = (await late.select('edge_id').distinct().execute()).map((r) => r.edge_id);
  if (edges.length === 0) return [];
  await trx
    .updateTable('firmware_jobs')
    .set({ state: 'failed', reason_code: 'GS_ERR_FIRMWARE_JOB_TIMEOUT', reason_message: `no outcome within ${Math.round(Number(c.job_timeout_ms) / 1000)} s of its start`, updated_at: now })
    .where('campaign_id', '=', c.id)
    .where('released_at', 'is not', null)
    .where('state', 'in', [...LIVE_JOB_STATES])
    .where('not_before', '<', now - Number(c.job_timeout_ms))
    .execute();
  return edges;
}

/** Moves one campaign as far as it can go now; returns the edges whose job lists changed. */
export async function advanceCampaign(d: FirmwareDeps, id: string): Promise<string[]> {
  const edges = new Set<string>();
  // Bounded: each release moves current_wave forward by one.
  for (let i = 0; i < 1000; i++) {
    const s = await step(d, id);
    for (const e of s.edges) edges.add(e);
    if (!s.again) break;
  }
  return [...edges];
}

/** The sweep: every running campaign, one after the other. */
export async function sweepCampaigns(d: FirmwareDeps): Promise<string[]> {
  const running = await d.db.selectFrom('firmware_campaigns').select('id').where('state', '=', 'running').orderBy('id').execute();
  const edges = new Set<string>();
  for (const r of running) for (const e of await advanceCampaign(d, r.id)) edges.add(e);
  return [...edges];
}

// Campaigns: created as a draft with every job planned (targets shuffled, cut into waves, a jitter
// drawn for each), then started, paused, resumed and aborted. Each state change holds the campaign's
// lock and is a compare-and-set on its state; the edges whose job lists change are bumped in the same
// transaction.
import { GsError } from '../../contracts/errors.js';
import type { Principal } from '../auth/roles.js';
import { bumpEdges } from './changes.js';
import { getArtifact, manifestOf } from './artifacts.js';
import type { FirmwareDeps } from './deps.js';
import { trustedKeys } from './keys.js';
import { checkShares, checkWindow, shuffle, waveSizes } from './plan.js';
import type { CampaignSelection, CampaignState, FirmwareCampaignsTable, FirmwareJobsTable, StoredWave } from './tables.js';
import { selectTargets } from './targets.js';
import { advanceCampaign, edgesWithLiveJobs, lockCampaign } from './waves.js';

export const DEFAULT_WAVES = [0.05, 0.3, 1];
export const DEFAULT_FAILURE_THRESHOLD = 0.2;
const INSERT_BATCH = 500;

export interface CreateCampaign {
  name?: string | undefined;
  artifactId: string;
  target?: CampaignSelection | undefined;
  waves?: Array<{ share: number }> | undefined;
  jitterMs?: number | undefined;
  window?: { start: string; end: string } | undefined;
  failureThreshold?: number | undefined;
  soakMs?: number | undefined;
  maxInFlightPerEdge?: number | undefined;
  jobTimeoutMs?: number | undefined;
  start?: boolean | undefined;
}

/** Result of a change: the campaign id, and the edges to wake after the commit. */
export interface Changed {
  id: string;
  edges: string[];
}

export async function createCampaign(d: FirmwareDeps, body: CreateCampaign, actor: string): Promise<Changed> {
  const artifact = await getArtifact(d.db, body.artifactId).catch((err: unknown) => {
    if (err instanceof GsError) throw new GsError('GS_ERR_VALIDATION', err.message, [{ path: '/artifactId', message: 'no such artifact' }]);
    throw err;
  });
  if (!(await trustedKeys(d.db)).some((k) => k.id === artifact.key_id)) {
    throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', `artifact ${artifact.id} was signed by key ${artifact.key_id}, which is revoked`, [{ path: '/artifactId', message: 'signing key revoked' }]);
  }
  const shares = (body.waves ?? DEFAULT_WAVES.map((share) => ({ share }))).map((w) => w.share);
  checkShares(shares);
  if (body.window) checkWindow(body.window);
  const selection: CampaignSelection = {};
  for (const k of ['edges', 'towns', 'tags', 'devices'] as const) {
    const v = body.target?.[k];
    if (v !== undefined) selection[k] = [...new Set(v)];
  }
  const manifest = manifestOf(artifact);
  const { kind, targets } = await selectTargets(d.db, manifest.profiles, selection);
  if (targets.length === 0) throw new GsError('GS_ERR_FIRMWARE_NO_TARGETS', `no ${kind === 'edge' ? 'live edge' : `active device of ${manifest.profiles.join(', ')}`} matches the selection`);

  const now = d.clock.now();
  const jitter = body.jitterMs ?? 0;
  const sizes = waveSizes(targets.length, shares);
  const order = shuffle(targets, d.random);
  const waves: StoredWave[] = shares.map((share, i) => ({ share, size: sizes[i]!, startedAt: null, finishedAt: null }));
  const id = d.newId();
  const campaign: FirmwareCampaignsTable = {
    id,
    name: body.name ?? `${manifest.version} → ${manifest.profiles.join(', ')}`,
    artifact_id: artifact.id,
    target_kind: kind,
    selection: JSON.stringify(selection),
    waves: JSON.stringify(waves),
    jitter_ms: jitter,
    window_start: body.window?.start ?? null,
    window_end: body.window?.end ?? null,
    failure_threshold: body.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD,
    soak_ms: body.soakMs ?? 0,
    max_in_flight_per_edge: body.maxInFlightPerEdge ?? null,
    job_timeout_ms: body.jobTimeoutMs ?? null,
    state: 'draft',
    current_wave: -1,
    waived_wave: null,
    halted_reason: null,
    created_at: now,
    created_by: actor,
    started_at: null,
    finished_at: null,
    updated_at: now,
  };
  let wave = 0;
  let left = sizes[0]!;
  const jobs: FirmwareJobsTable[] = order.map((t) => {
    while (left === 0 && wave < sizes.length - 1) left = sizes[++wave]!;
    left--;
    return {
      id: d.newId(),
      campaign_id: id,
      wave,
      target_kind: t.kind,
      device_id: t.deviceId,
      edge_id: t.edgeId,
      state: 'pending',
      jitter_ms: jitter > 0 ? Math.floor(d.random() * jitter) : 0,
      released_at: null,
      not_before: null,
      bytes: null,
      reason_code: null,
      reason_message: null,
      running_version: null,
      reported_at: null,
      created_at: now,
      updated_at: now,
    };
  });
  await d.db.transaction().execute(async (trx) => {
    await trx.insertInto('firmware_campaigns').values(campaign).execute();
    for (let i = 0; i < jobs.length; i += INSERT_BATCH) await trx.insertInto('firmware_jobs').values(jobs.slice(i, i + INSERT_BATCH)).execute();
  });
  if (body.start) return startCampaign(d, id);
  return { id, edges: [] };
}

export async function getCampaign(d: FirmwareDeps, id: string): Promise<FirmwareCampaignsTable> {
  const c = await d.db.selectFrom('firmware_campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  if (!c) throw new GsError('GS_ERR_FIRMWARE_CAMPAIGN_NOT_FOUND', `no firmware campaign "${id}"`);
  return c;
}

function refuse(c: FirmwareCampaignsTable, what: string): GsError {
  return new GsError('GS_ERR_FIRMWARE_CAMPAIGN_STATE', `campaign ${c.id} is ${c.state}: it cannot ${what}`);
}

/**
 * One state change under the campaign's lock: `from` the states it may start in, `apply` does the
 * writes and names edges to bump besides those with live jobs.
 */
async function change(d: FirmwareDeps, id: string, what: string, from: readonly CampaignState[], to: CampaignState, extra: Partial<FirmwareCampaignsTable> = {}, apply?: (trx: FirmwareDeps['db'], now: number) => Promise<string[]>): Promise<Changed> {
  const edges = await d.db.transaction().execute(async (trx) => {
    const c = await lockCampaign(trx, id);
    if (!c) throw new GsError('GS_ERR_FIRMWARE_CAMPAIGN_NOT_FOUND', `no firmware campaign "${id}"`);
    if (!from.includes(c.state)) throw refuse(c, what);
    const now = d.clock.now();
    // Live jobs before the change: they are the ones whose `paused` flag or existence changes.
    const live = await edgesWithLiveJobs(trx, id);
    await trx.updateTable('firmware_campaigns').set({ ...extra, state: to, updated_at: now }).where('id', '=', id).where('state', '=', c.state).execute();
    const more = apply ? await apply(trx, now) : [];
    return bumpEdges(trx, [...live, ...more], now);
  });
  return { id, edges };
}

/** draft → running: the first wave is released at once. */
export async function startCampaign(d: FirmwareDeps, id: string): Promise<Changed> {
  const c = await getCampaign(d, id);
  const artifact = await getArtifact(d.db, c.artifact_id);
  if (!(await trustedKeys(d.db)).some((k) => k.id === artifact.key_id)) throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', `the artifact's signing key ${artifact.key_id} was revoked: this campaign cannot start`);
  const started = await change(d, id, 'start', ['draft'], 'running', { started_at: d.clock.now() });
  const released = await advanceCampaign(d, id);
  return { id, edges: [...started.edges, ...released] };
}

/** running → paused: nothing more is released; edges are told (`paused`) to start nothing new. */
export function pauseCampaign(d: FirmwareDeps, id: string): Promise<Changed> {
  return change(d, id, 'pause', ['running'], 'paused');
}

/**
 * paused → running; halted → running only by an admin who says so (`overrideHalt`): the halted wave's
 * failures are accepted and its threshold no longer applies (the next waves' still do).
 */
export async function resumeCampaign(d: FirmwareDeps, id: string, who: Principal | null, overrideHalt: boolean): Promise<Changed> {
  const c = await getCampaign(d, id);
  if (c.state === 'halted') {
    if (!who?.scopes.has('admin')) throw new GsError('GS_ERR_AUTH_FORBIDDEN', 'a halted campaign is resumed by an admin only');
    if (!overrideHalt) throw new GsError('GS_ERR_FIRMWARE_CAMPAIGN_STATE', `campaign ${id} halted (${c.halted_reason ?? 'too many failures'}): resume it with {"overrideHalt": true} to accept that wave's failures`);
  }
  const fromHalt = c.state === 'halted';
  const resumed = await change(d, id, 'resume', fromHalt ? ['halted'] : ['paused'], 'running', fromHalt ? { waived_wave: c.current_wave, halted_reason: null } : {});
  const moved = await advanceCampaign(d, id);
  return { id, edges: [...resumed.edges, ...moved] };
}

/** Any unfinished campaign → aborted: its jobs not started are cancelled; those under way may finish. */
export function abortCampaign(d: FirmwareDeps, id: string): Promise<Changed> {
  return change(d, id, 'abort', ['draft', 'running', 'paused', 'halted'], 'aborted', { finished_at: d.clock.now() }, async (trx, now) => {
    await trx.updateTable('firmware_jobs').set({ state: 'cancelled', reason_code: null, reason_message: 'the campaign was aborted', updated_at: now }).where('campaign_id', '=', id).where('state', '=', 'pending').execute();
    return [];
  });
}

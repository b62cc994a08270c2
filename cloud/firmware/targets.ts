// Who a campaign updates. Devices: the active devices whose profile the artifact is for, on live edges,
// narrowed by edges, towns, tags and explicit ids (each list given must match; within a list, any).
// The edge agent (artifact profile gridsense-edge): every live edge, narrowed by edges and towns.
import { GsError, type ErrorDetail } from '../../contracts/errors.js';
import { EDGE_AGENT_PROFILE } from '../../contracts/firmware.js';
import type { CampaignSelection, FwDb } from './tables.js';

export interface Target {
  kind: 'device' | 'edge';
  deviceId: string | null;
  edgeId: string;
}

export async function selectTargets(db: FwDb, profiles: readonly string[], sel: CampaignSelection): Promise<{ kind: 'device' | 'edge'; targets: Target[] }> {
  if (profiles.includes(EDGE_AGENT_PROFILE)) {
    if (profiles.length > 1) throw new GsError('GS_ERR_VALIDATION', `an artifact for the edge agent (${EDGE_AGENT_PROFILE}) cannot also be for device profiles`, [{ path: '/artifactId', message: profiles.join(', ') }]);
    const extra = (['tags', 'devices'] as const).filter((k) => sel[k] !== undefined);
    if (extra.length > 0) throw new GsError('GS_ERR_VALIDATION', 'the edge agent is selected by edges and towns only', extra.map((k) => ({ path: `/target/${k}`, message: 'not for an edge agent campaign' })));
    let q = db.selectFrom('edges').leftJoin('edge_fleet', 'edge_fleet.edge_id', 'edges.id').select('edges.id as id').where('edges.revoked_at', 'is', null);
    if (sel.edges) q = q.where('edges.id', 'in', sel.edges);
    if (sel.towns) q = q.where('edge_fleet.town_id', 'in', sel.towns);
    const rows = await q.orderBy('edges.id').execute();
    return { kind: 'edge', targets: rows.map((r) => ({ kind: 'edge', deviceId: null, edgeId: r.id })) };
  }
  let q = db
    .selectFrom('devices')
    .innerJoin('edges', 'edges.id', 'devices.edge_id')
    .select(['devices.id as id', 'devices.edge_id as edgeId'])
    .where('devices.status', '=', 'active')
    .where('devices.profile', 'in', [...profiles])
    .where('edges.revoked_at', 'is', null);
  if (sel.edges) q = q.where('devices.edge_id', 'in', sel.edges);
  if (sel.towns) q = q.where('devices.town_id', 'in', sel.towns);
  if (sel.tags) q = q.where('devices.id', 'in', db.selectFrom('device_tags').select('device_id').where('tag', 'in', sel.tags));
  if (sel.devices) q = q.where('devices.id', 'in', sel.devices);
  const rows = await q.orderBy('devices.id').execute();
  if (sel.devices) {
    // Named devices that the selection leaves out are a mistake worth a clear answer, not a silent skip.
    const found = new Set(rows.map((r) => r.id));
    const missing = sel.devices.filter((id) => !found.has(id));
    if (missing.length > 0) {
      const known = await db.selectFrom('devices').select(['id', 'profile', 'status']).where('id', 'in', missing).execute();
      const why = new Map(known.map((k) => [k.id, k.status !== 'active' ? `is ${k.status}` : !profiles.includes(k.profile) ? `is a ${k.profile}, the image is for ${profiles.join(', ')}` : 'is left out by the other filters (or its edge is revoked)']));
      const details: ErrorDetail[] = missing.slice(0, 100).map((id) => ({ path: `/target/devices/${id}`, message: why.get(id) ?? 'no such device' }));
      throw new GsError('GS_ERR_VALIDATION', `${missing.length} named device(s) cannot take this image`, details);
    }
  }
  return { kind: 'device', targets: rows.map((r) => ({ kind: 'device', deviceId: r.id, edgeId: r.edgeId })) };
}

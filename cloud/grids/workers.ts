// Grid workers (网格员): who walks a grid and takes the events dispatched to them. A worker belongs to
// one grid (or village); their town is the town above it, re-derived when grids are re-imported.
// Retiring keeps the row, so past events still name who handled them.
import type { Kysely, Selectable } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Database, GridWorkersTable } from '../db/schema.js';
import { DEFAULT_PAGE_SIZE } from '../http/schemas.js';
import { iso, isoOrNull } from '../http/time.js';
import { townAbove } from './hierarchy.js';
import { afterCursor, currentNodes, nextCursorOf, scopedTown } from './roster-common.js';
import type { WorkerCreateBody, WorkerJson, WorkerList, WorkerListQuery, WorkerPatchBody } from './roster-schemas.js';

export interface RosterDeps {
  db: Kysely<Database>;
  now: () => number;
  newId: () => string;
}

/** Levels a worker can be responsible for: a base grid, or a whole village/community. */
const WORKER_LEVELS = ['grid', 'village'];

export function toWorkerJson(r: Selectable<GridWorkersTable>): WorkerJson {
  return { id: r.id, name: r.name, phone: r.phone, gridId: r.grid_id, townId: r.town_id, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at), retiredAt: isoOrNull(r.retired_at) };
}

/** The grid's town, checking that the grid exists at a worker's level and that a town key may use it. */
async function placeWorker(db: Kysely<Database>, gridId: string, keyTown: string | null): Promise<string | null> {
  const nodes = await currentNodes(db);
  const grid = nodes.get(gridId);
  if (!grid) throw new GsError('GS_ERR_VALIDATION', `no grid "${gridId}"`, [{ path: '/gridId', message: 'must be the id of a current grid' }]);
  if (!WORKER_LEVELS.includes(grid.level)) {
    throw new GsError('GS_ERR_VALIDATION', `grid "${gridId}" is a ${grid.level}; a grid worker serves a grid or a village`, [{ path: '/gridId', message: `must be a grid of level ${WORKER_LEVELS.join(' or ')}` }]);
  }
  const town = townAbove(gridId, nodes);
  if (keyTown !== null && town !== keyTown) throw new GsError('GS_ERR_AUTH_FORBIDDEN', `grid "${gridId}" is in ${town ? `town "${town}"` : 'no town'}; this key writes to town "${keyTown}" only`);
  return town;
}

/** The worker if it exists and the key's town may see it; else GS_ERR_WORKER_NOT_FOUND. */
export async function getWorker(db: Kysely<Database>, id: string, keyTown: string | null): Promise<Selectable<GridWorkersTable>> {
  const r = await db.selectFrom('grid_workers').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r || (keyTown !== null && r.town_id !== keyTown)) throw new GsError('GS_ERR_WORKER_NOT_FOUND', `no grid worker "${id}"`);
  return r;
}

export async function createWorker(d: RosterDeps, body: WorkerCreateBody, keyTown: string | null): Promise<WorkerJson> {
  const town = await placeWorker(d.db, body.gridId, keyTown);
  const now = d.now();
  const row: Selectable<GridWorkersTable> = { id: body.id ?? d.newId(), name: body.name.trim(), phone: body.phone, grid_id: body.gridId, town_id: town, created_at: now, updated_at: now, retired_at: null };
  try {
    await d.db.insertInto('grid_workers').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new GsError('GS_ERR_WORKER_EXISTS', `grid worker "${row.id}" already exists`, [{ path: '/id', message: 'is taken' }]);
    throw err;
  }
  return toWorkerJson(row);
}

export async function patchWorker(d: RosterDeps, id: string, body: WorkerPatchBody, keyTown: string | null): Promise<WorkerJson> {
  const row = await getWorker(d.db, id, keyTown);
  if (row.retired_at !== null) throw new GsError('GS_ERR_CONFLICT', `grid worker "${id}" is retired`);
  const next = { ...row, updated_at: d.now() };
  if (body.name !== undefined) next.name = body.name.trim();
  if (body.phone !== undefined) next.phone = body.phone;
  if (body.gridId !== undefined) {
    next.town_id = await placeWorker(d.db, body.gridId, keyTown);
    next.grid_id = body.gridId;
  }
  await d.db.updateTable('grid_workers').set({ name: next.name, phone: next.phone, grid_id: next.grid_id, town_id: next.town_id, updated_at: next.updated_at }).where('id', '=', id).execute();
  return toWorkerJson(next);
}

/** Retires the worker (idempotent): new events cannot go to them; past events keep their name. */
export async function retireWorker(d: RosterDeps, id: string, keyTown: string | null): Promise<WorkerJson> {
  const row = await getWorker(d.db, id, keyTown);
  if (row.retired_at !== null) return toWorkerJson(row);
  const now = d.now();
  await d.db.updateTable('grid_workers').set({ retired_at: now, updated_at: now }).where('id', '=', id).execute();
  return toWorkerJson({ ...row, retired_at: now, updated_at: now });
}

export async function listWorkers(db: Kysely<Database>, q: WorkerListQuery, keyTown: string | null): Promise<WorkerList> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  const town = scopedTown(keyTown, q.townId);
  let query = db.selectFrom('grid_workers').selectAll();
  if (town !== undefined) query = query.where('town_id', '=', town);
  if (q.gridId !== undefined) query = query.where('grid_id', '=', q.gridId);
  if (!q.includeRetired) query = query.where('retired_at', 'is', null);
  const after = afterCursor(q.cursor);
  if (after !== undefined) query = query.where('id', '>', after);
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  return { items: rows.slice(0, limit).map(toWorkerJson), nextCursor: nextCursorOf(rows, limit) };
}

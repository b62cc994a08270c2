// A grid import makes a new grid version: the grids it changes get a new revision (the old one stays,
// valid until this version), unchanged grids carry over, nothing is deleted. Then every registered
// device with a location is placed again in the new grids (a redrawn boundary moves devices between
// grids and towns) and every grid worker's town is derived again. All in one transaction: a bad file
// or a failure changes nothing. Events are not touched: they keep the grid they opened in.
import type { Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import { lockKeys } from '../db/locks.js';
import type { Database } from '../db/schema.js';
import { parseGridCollection, type GridInput } from './geojson.js';
import { townAbove, type GridNode } from './hierarchy.js';
import { buildGridIndex } from './locate.js';
import { currentVersion, loadLocatableGrids } from './service.js';
import type { GridImportResult } from './schemas.js';

/** Advisory-lock space of grid imports (PostgreSQL): two imports at once take turns. */
const GRID_IMPORT_LOCK_SPACE = 0x67730020;
/** Rows per `IN (…)` list, well inside both databases' parameter limits. */
const CHUNK = 500;

/**
 * @throws GsError GS_ERR_GRID_INVALID listing every problem with its path (nothing is written).
 */
export async function importGrids(db: Kysely<Database>, collection: unknown, clock: Clock, actor: string): Promise<GridImportResult> {
  return db.transaction().execute(async (trx) => {
    await lockKeys(trx, GRID_IMPORT_LOCK_SPACE, ['grids']);
    const stored = await trx.selectFrom('grids').select(['id', 'level', 'name', 'name_zh', 'parent_id', 'geometry']).execute();
    const byId = new Map(stored.map((g) => [g.id, g]));
    const grids = parseGridCollection(collection, new Map(stored.map((g) => [g.id, g.level])));
    const previous = await currentVersion(trx);
    const now = clock.now();

    const created = grids.filter((g) => !byId.has(g.id));
    const changed = grids.filter((g) => {
      const s = byId.get(g.id);
      return s !== undefined && (s.name !== g.name || s.name_zh !== g.nameZh || s.level !== g.level || s.parent_id !== g.parentId || s.geometry !== JSON.stringify(g.geometry));
    });
    const unchanged = grids.length - created.length - changed.length;
    if (created.length + changed.length === 0) {
      return { version: previous, imported: grids.length, created: 0, updated: 0, unchanged, devicesMoved: 0, workersMoved: 0 };
    }

    const version = previous + 1;
    const changedIds = changed.map((g) => g.id);
    for (let i = 0; i < changedIds.length; i += CHUNK) {
      await trx.updateTable('grid_revisions').set({ version_to: version }).where('grid_id', 'in', changedIds.slice(i, i + CHUNK)).where('version_to', 'is', null).execute();
    }
    for (const g of [...created, ...changed]) {
      await trx.insertInto('grid_revisions').values({ grid_id: g.id, version_from: version, version_to: null, created_at: now, ...columns(g) }).execute();
      await trx
        .insertInto('grids')
        .values({ id: g.id, ...columns(g), version, created_at: now, updated_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ ...columns(g), version, updated_at: now }))
        .execute();
    }

    const devicesMoved = await placeDevicesAgain(trx, version, now);
    const workersMoved = await deriveWorkerTowns(trx, now);
    await trx
      .insertInto('grid_versions')
      .values({ version, created_at: now, actor, imported: grids.length, created: created.length, updated: changed.length, unchanged, devices_moved: devicesMoved })
      .execute();
    return { version, imported: grids.length, created: created.length, updated: changed.length, unchanged, devicesMoved, workersMoved };
  });
}

function columns(g: GridInput) {
  return {
    name: g.name,
    name_zh: g.nameZh,
    level: g.level,
    parent_id: g.parentId,
    geometry: JSON.stringify(g.geometry),
    min_lon: g.bbox.minLon,
    min_lat: g.bbox.minLat,
    max_lon: g.bbox.maxLon,
    max_lat: g.bbox.maxLat,
    area_km2: g.areaKm2,
  };
}

/**
 * Devices with a location, not decommissioned, placed in the grids of `version` the way registration
 * places them (most specific grid; the town-level grid containing the point). Returns how many moved
 * to another grid or town. Devices without a location keep their edge's town.
 */
async function placeDevicesAgain(trx: Kysely<Database>, version: number, now: number): Promise<number> {
  const index = buildGridIndex(await loadLocatableGrids(trx, version));
  const devices = await trx
    .selectFrom('devices')
    .select(['id', 'lon', 'lat', 'grid_id', 'town_id'])
    .where('lon', 'is not', null)
    .where('lat', 'is not', null)
    .where('status', '!=', 'decommissioned')
    .execute();
  // Devices that move to the same place are updated together.
  const moves = new Map<string, string[]>();
  for (const d of devices) {
    const all = index.containing(d.lon!, d.lat!);
    const gridId = all[0]?.id ?? null;
    const townId = all.find((g) => g.level === 'town')?.id ?? null;
    if (gridId === d.grid_id && townId === d.town_id) continue;
    const key = JSON.stringify([gridId, townId]);
    moves.set(key, [...(moves.get(key) ?? []), d.id]);
  }
  let moved = 0;
  for (const [key, ids] of moves) {
    const [gridId, townId] = JSON.parse(key) as [string | null, string | null];
    for (let i = 0; i < ids.length; i += CHUNK) {
      await trx.updateTable('devices').set({ grid_id: gridId, town_id: townId, updated_at: now }).where('id', 'in', ids.slice(i, i + CHUNK)).execute();
    }
    moved += ids.length;
  }
  return moved;
}

/** A worker serves the town above their grid; a grid moved under another town moves them too. */
async function deriveWorkerTowns(trx: Kysely<Database>, now: number): Promise<number> {
  const nodes = new Map<string, GridNode>();
  const rows = await trx.selectFrom('grids').select(['id', 'level', 'name', 'name_zh', 'parent_id']).execute();
  for (const r of rows) nodes.set(r.id, { id: r.id, level: r.level, name: r.name, nameZh: r.name_zh, parentId: r.parent_id });
  const workers = await trx.selectFrom('grid_workers').select(['id', 'grid_id', 'town_id']).execute();
  let moved = 0;
  for (const w of workers) {
    const town = townAbove(w.grid_id, nodes);
    if (town === w.town_id) continue;
    await trx.updateTable('grid_workers').set({ town_id: town, updated_at: now }).where('id', '=', w.id).execute();
    moved++;
  }
  return moved;
}

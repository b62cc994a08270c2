// Reading grids: the current version or any past one. Every state a grid has had is a row of
// grid_revisions, valid from one version until (excluded) the next; the current state has
// version_to NULL. `grids` mirrors the current state for the other contexts' joins.
import type { Kysely } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import type { Database } from '../db/schema.js';
import { iso } from '../http/time.js';
import { pathOf, type GridNode } from './hierarchy.js';
import type { GridLevel, GridShape } from './locate.js';
import type { GridDetailJson, GridSummaryJson, GridVersionJson } from './schemas.js';

/** The grid version in force now; 0 before the first import. */
export async function currentVersion(db: Kysely<Database>): Promise<number> {
  const r = await db.selectFrom('grid_versions').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
  return Number(r?.v ?? 0);
}

/**
 * Which version a request means: `version` as given, or the one in force at `asOf` (the last import
 * at or before it), or the current one. Throws GS_ERR_GRID_VERSION_NOT_FOUND for a version that
 * does not exist or a time before the first import.
 */
export async function resolveVersion(db: Kysely<Database>, q: { version?: number | undefined; asOf?: number | undefined }): Promise<number> {
  if (q.version !== undefined) {
    const hit = await db.selectFrom('grid_versions').select('version').where('version', '=', q.version).executeTakeFirst();
    if (!hit) throw new GsError('GS_ERR_GRID_VERSION_NOT_FOUND', `there is no grid version ${q.version}`, [{ path: '/version', message: 'see GET /grids/versions' }]);
    return q.version;
  }
  if (q.asOf !== undefined) {
    const r = await db.selectFrom('grid_versions').select((eb) => eb.fn.max('version').as('v')).where('created_at', '<=', q.asOf).executeTakeFirst();
    if (r?.v === null || r?.v === undefined) throw new GsError('GS_ERR_GRID_VERSION_NOT_FOUND', `no grids had been imported at ${iso(q.asOf)}`, [{ path: '/asOf', message: 'is before the first grid import' }]);
    return Number(r.v);
  }
  return currentVersion(db);
}

const SUMMARY_COLUMNS = ['grid_id', 'version_from', 'name', 'name_zh', 'level', 'parent_id', 'min_lon', 'min_lat', 'max_lon', 'max_lat', 'area_km2', 'created_at'] as const;

/** Revisions valid at `version`. */
function atVersion(db: Kysely<Database>, version: number) {
  return db
    .selectFrom('grid_revisions')
    .where('version_from', '<=', version)
    .where((eb) => eb.or([eb('version_to', 'is', null), eb('version_to', '>', version)]));
}

interface SummaryRow {
  grid_id: string;
  version_from: number;
  name: string;
  name_zh: string | null;
  level: string;
  parent_id: string | null;
  min_lon: number;
  min_lat: number;
  max_lon: number;
  max_lat: number;
  area_km2: number;
  created_at: number;
}

function toSummary(r: SummaryRow): GridSummaryJson {
  return {
    id: r.grid_id,
    name: r.name,
    nameZh: r.name_zh,
    level: r.level as GridLevel,
    parentId: r.parent_id,
    version: r.version_from,
    bbox: [r.min_lon, r.min_lat, r.max_lon, r.max_lat],
    areaKm2: r.area_km2,
    updatedAt: iso(r.created_at),
  };
}

function toNode(r: Pick<SummaryRow, 'grid_id' | 'level' | 'name' | 'name_zh' | 'parent_id'>): GridNode {
  return { id: r.grid_id, level: r.level, name: r.name, nameZh: r.name_zh, parentId: r.parent_id };
}

export async function listGrids(db: Kysely<Database>, version: number, filter: { level?: string | undefined; parentId?: string | undefined } = {}): Promise<GridSummaryJson[]> {
  let q = atVersion(db, version).select(SUMMARY_COLUMNS);
  if (filter.level) q = q.where('level', '=', filter.level);
  if (filter.parentId) q = q.where('parent_id', '=', filter.parentId);
  const rows = await q.orderBy('grid_id').execute();
  return rows.map(toSummary);
}

/** The grid at `version` with its geometry and ancestor path, or null when it did not exist then. */
export async function getGrid(db: Kysely<Database>, id: string, version: number): Promise<GridDetailJson | null> {
  const r = await atVersion(db, version).selectAll().where('grid_id', '=', id).executeTakeFirst();
  if (!r) return null;
  const nodes = await hierarchyAt(db, version);
  return { ...toSummary(r), path: pathOf(id, nodes), geometry: JSON.parse(r.geometry) as GridDetailJson['geometry'] };
}

/** Every grid of `version` as hierarchy nodes, by id. */
export async function hierarchyAt(db: Kysely<Database>, version: number): Promise<Map<string, GridNode>> {
  const rows = await atVersion(db, version).select(['grid_id', 'level', 'name', 'name_zh', 'parent_id']).execute();
  return new Map(rows.map((r) => [r.grid_id, toNode(r)]));
}

export async function listVersions(db: Kysely<Database>): Promise<GridVersionJson[]> {
  const rows = await db.selectFrom('grid_versions').selectAll().orderBy('version', 'desc').execute();
  return rows.map((r) => ({
    version: r.version,
    importedAt: iso(r.created_at),
    actor: r.actor,
    imported: r.imported,
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    devicesMoved: r.devices_moved,
  }));
}

/** A stored grid as the locator needs it, plus what callers show and what an event keeps. */
export interface LocatableGrid extends GridShape {
  name: string;
  nameZh: string | null;
  parentId: string | null;
  version: number;
  summary: GridSummaryJson;
}

export async function loadLocatableGrids(db: Kysely<Database>, version: number): Promise<LocatableGrid[]> {
  const rows = await atVersion(db, version).selectAll().execute();
  return rows.map((r) => {
    const geometry = JSON.parse(r.geometry) as { type: string; coordinates: unknown };
    const polygons = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as GridShape['polygons'];
    return { id: r.grid_id, level: r.level as GridLevel, areaKm2: r.area_km2, polygons, name: r.name, nameZh: r.name_zh, parentId: r.parent_id, version: r.version_from, summary: toSummary(r) };
  });
}

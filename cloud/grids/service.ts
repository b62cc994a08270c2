import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import type { Database, GridsTable } from '../db/schema.js';
import { iso } from '../http/time.js';
import { parseGridCollection } from './geojson.js';
import type { GridLevel, GridShape } from './locate.js';
import type { GridDetailJson, GridImportResult, GridSummaryJson } from './schemas.js';

/**
 * Checks a GeoJSON FeatureCollection and upserts its grids by id, all or nothing.
 * @throws GsError GS_ERR_GRID_INVALID listing every problem with its path.
 */
export async function importGrids(db: Kysely<Database>, collection: unknown, clock: Clock): Promise<GridImportResult> {
  return db.transaction().execute(async (trx) => {
    const stored = await trx.selectFrom('grids').select(['id', 'level']).execute();
    const existing = new Map(stored.map((g) => [g.id, g.level]));
    const grids = parseGridCollection(collection, existing);
    const now = clock.now();
    let created = 0;
    for (const g of grids) {
      if (!existing.has(g.id)) created++;
      await trx
        .insertInto('grids')
        .values({
          id: g.id,
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
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            name_zh: eb.ref('excluded.name_zh'),
            level: eb.ref('excluded.level'),
            parent_id: eb.ref('excluded.parent_id'),
            geometry: eb.ref('excluded.geometry'),
            min_lon: eb.ref('excluded.min_lon'),
            min_lat: eb.ref('excluded.min_lat'),
            max_lon: eb.ref('excluded.max_lon'),
            max_lat: eb.ref('excluded.max_lat'),
            area_km2: eb.ref('excluded.area_km2'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
    return { imported: grids.length, created, updated: grids.length - created };
  });
}

type SummaryRow = Omit<Selectable<GridsTable>, 'geometry' | 'created_at'>;

const SUMMARY_COLUMNS = ['id', 'name', 'name_zh', 'level', 'parent_id', 'min_lon', 'min_lat', 'max_lon', 'max_lat', 'area_km2', 'updated_at'] as const;

function toSummary(r: SummaryRow): GridSummaryJson {
  return {
    id: r.id,
    name: r.name,
    nameZh: r.name_zh,
    level: r.level as GridLevel,
    parentId: r.parent_id,
    bbox: [r.min_lon, r.min_lat, r.max_lon, r.max_lat],
    areaKm2: r.area_km2,
    updatedAt: iso(r.updated_at),
  };
}

export async function listGrids(db: Kysely<Database>, filter: { level?: string; parentId?: string } = {}): Promise<GridSummaryJson[]> {
  let q = db.selectFrom('grids').select(SUMMARY_COLUMNS);
  if (filter.level) q = q.where('level', '=', filter.level);
  if (filter.parentId) q = q.where('parent_id', '=', filter.parentId);
  const rows = await q.orderBy('id').execute();
  return rows.map(toSummary);
}

export async function getGrid(db: Kysely<Database>, id: string): Promise<GridDetailJson | null> {
  const r = await db.selectFrom('grids').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) return null;
  return { ...toSummary(r), geometry: JSON.parse(r.geometry) as GridDetailJson['geometry'] };
}

/** A stored grid as the locator needs it, plus what callers show. */
export interface LocatableGrid extends GridShape {
  name: string;
  nameZh: string | null;
  summary: GridSummaryJson;
}

export async function loadLocatableGrids(db: Kysely<Database>): Promise<LocatableGrid[]> {
  const rows = await db.selectFrom('grids').selectAll().execute();
  return rows.map((r) => {
    const geometry = JSON.parse(r.geometry) as { type: string; coordinates: unknown };
    const polygons = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as GridShape['polygons'];
    return { id: r.id, level: r.level as GridLevel, areaKm2: r.area_km2, polygons, name: r.name, nameZh: r.name_zh, summary: toSummary(r) };
  });
}

// Which grid contains a point. Pure and in memory: a flatbush R-tree over the grids' bounding boxes
// narrows the candidates, exact point-in-polygon decides, and a fixed ranking picks the most
// specific grid. Rebuilt whenever grids change (they change on import, rarely).
import Flatbush from 'flatbush';
import { bboxOf, multiPolygonContains, type BBox, type MultiPolygonRings } from './geometry.js';

export const GRID_LEVELS = ['county', 'town', 'village', 'grid'] as const;
export type GridLevel = (typeof GRID_LEVELS)[number];

/** How deep a level is: county 0 … grid 3. */
export function levelDepth(level: string): number {
  const i = GRID_LEVELS.indexOf(level as GridLevel);
  return i < 0 ? -1 : i;
}

export interface GridShape {
  id: string;
  level: GridLevel;
  areaKm2: number;
  polygons: MultiPolygonRings;
}

export interface GridIndex<T extends GridShape> {
  readonly size: number;
  /** Every grid containing the point (boundary included), most specific first. */
  containing(lon: number, lat: number): T[];
  /** The most specific grid containing the point, or null. */
  locate(lon: number, lat: number): T | null;
}

/** Deepest level first, then the smallest area, then id — a total order, so ties are deterministic. */
export function compareSpecificity(a: GridShape, b: GridShape): number {
  return levelDepth(b.level) - levelDepth(a.level) || a.areaKm2 - b.areaKm2 || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function buildGridIndex<T extends GridShape>(grids: readonly T[]): GridIndex<T> {
  if (grids.length === 0) return { size: 0, containing: () => [], locate: () => null };
  const boxes: BBox[] = grids.map((g) => bboxOf(g.polygons));
  const tree = new Flatbush(grids.length);
  for (const b of boxes) tree.add(b.minLon, b.minLat, b.maxLon, b.maxLat);
  tree.finish();
  const containing = (lon: number, lat: number): T[] => {
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) return [];
    return tree
      .search(lon, lat, lon, lat)
      .map((i) => grids[i]!)
      .filter((g) => multiPolygonContains(g.polygons, lon, lat))
      .sort(compareSpecificity);
  };
  return { size: grids.length, containing, locate: (lon, lat) => containing(lon, lat)[0] ?? null };
}

// A county's grid GeoJSON, checked and turned into grids. Every problem is reported at once, each
// with the JSON pointer of the offending feature, ring or position, so a technician can fix the
// file in one pass.
import { GsError, type ErrorDetail } from '../../contracts/errors.js';
import { schemaErrors } from '../../contracts/validate.js';
import { areaKm2, bboxOf, type BBox, type MultiPolygonRings, type PolygonRings } from './geometry.js';
import { levelDepth, type GridLevel } from './locate.js';
import { GridFeatureCollection } from './schemas.js';

export interface GridInput {
  id: string;
  name: string;
  nameZh: string | null;
  level: GridLevel;
  parentId: string | null;
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: unknown[] };
  polygons: MultiPolygonRings;
  bbox: BBox;
  areaKm2: number;
}

/**
 * @param existingLevels levels of grids already stored, so a feature may name a parent imported earlier.
 * @throws GsError GS_ERR_GRID_INVALID with one detail per problem.
 */
export function parseGridCollection(value: unknown, existingLevels: ReadonlyMap<string, string> = new Map()): GridInput[] {
  const shapeErrors = schemaErrors(GridFeatureCollection, value);
  if (shapeErrors.length > 0) throw invalid(shapeErrors);
  const fc = value as GridFeatureCollection;
  const problems: ErrorDetail[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });

  const out: GridInput[] = [];
  const firstIndex = new Map<string, number>();
  fc.features.forEach((f, i) => {
    const at = `/features/${i}`;
    const p = f.properties;
    const prior = firstIndex.get(p.id);
    if (prior !== undefined) add(`${at}/properties/id`, `duplicate id "${p.id}" (also /features/${prior})`);
    else firstIndex.set(p.id, i);
    const polys = f.geometry.type === 'Polygon' ? checkPolygon(f.geometry.coordinates, `${at}/geometry/coordinates`, add) : checkMultiPolygon(f.geometry.coordinates, `${at}/geometry/coordinates`, add);
    if (!polys) return;
    out.push({
      id: p.id,
      name: p.name,
      nameZh: p.nameZh ?? null,
      level: p.level,
      parentId: p.parentId ?? null,
      geometry: { type: f.geometry.type, coordinates: f.geometry.coordinates },
      polygons: polys,
      bbox: bboxOf(polys),
      areaKm2: areaKm2(polys),
    });
  });

  // Parents: named, known (here or already stored) and one level up or more.
  const levels = new Map<string, string>(existingLevels);
  for (const g of fc.features) levels.set(g.properties.id, g.properties.level);
  fc.features.forEach((f, i) => {
    const { id, parentId, level } = f.properties;
    if (parentId === undefined || parentId === null) return;
    const at = `/features/${i}/properties/parentId`;
    if (parentId === id) return add(at, 'a grid cannot be its own parent');
    const parentLevel = levels.get(parentId);
    if (parentLevel === undefined) return add(at, `parent "${parentId}" is neither in this file nor stored`);
    if (levelDepth(parentLevel) >= levelDepth(level)) add(at, `parent "${parentId}" is a ${parentLevel}; a ${level} needs a parent of a higher level`);
  });

  if (problems.length > 0) throw invalid(problems);
  return out;
}

function invalid(details: ErrorDetail[]): GsError {
  return new GsError('GS_ERR_GRID_INVALID', `grid GeoJSON is not valid: ${details.length} problem(s)`, details);
}

type Add = (path: string, message: string) => void;

function checkMultiPolygon(coords: unknown[], at: string, add: Add): MultiPolygonRings | null {
  const polys: PolygonRings[] = [];
  let ok = true;
  coords.forEach((poly, i) => {
    if (!Array.isArray(poly)) {
      ok = false;
      return add(`${at}/${i}`, 'a MultiPolygon holds polygons (arrays of rings)');
    }
    const p = checkPolygon(poly, `${at}/${i}`, add);
    if (p) polys.push(...p);
    else ok = false;
  });
  return ok ? polys : null;
}

function checkPolygon(coords: unknown[], at: string, add: Add): MultiPolygonRings | null {
  if (coords.length === 0) {
    add(at, 'a polygon needs at least its outer ring');
    return null;
  }
  const rings: number[][][] = [];
  let ok = true;
  coords.forEach((ring, r) => {
    const checked = checkRing(ring, `${at}/${r}`, add);
    if (checked) rings.push(checked);
    else ok = false;
  });
  return ok ? [rings] : null;
}

function checkRing(ring: unknown, at: string, add: Add): number[][] | null {
  if (!Array.isArray(ring)) {
    add(at, 'a ring is an array of positions');
    return null;
  }
  let ok = true;
  ring.forEach((pos: unknown, k: number) => {
    const p = `${at}/${k}`;
    if (!Array.isArray(pos) || pos.length < 2 || pos.length > 3 || !pos.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      ok = false;
      return add(p, 'a position is [longitude, latitude] (optionally altitude), finite numbers');
    }
    const [lon, lat] = pos as number[];
    if (lon! < -180 || lon! > 180) {
      ok = false;
      add(`${p}/0`, `longitude ${lon} is outside -180…180`);
    }
    if (lat! < -90 || lat! > 90) {
      ok = false;
      add(`${p}/1`, `latitude ${lat} is outside -90…90 (are longitude and latitude swapped?)`);
    }
  });
  if (!ok) return null;
  const positions = ring as number[][];
  if (positions.length < 4) {
    add(at, `a ring needs at least 4 positions (a closed triangle), got ${positions.length}`);
    return null;
  }
  const first = positions[0]!;
  const last = positions[positions.length - 1]!;
  if (first[0] !== last[0] || first[1] !== last[1]) {
    add(at, `ring is not closed: the last position [${last.join(', ')}] must repeat the first [${first.join(', ')}]`);
    return null;
  }
  return positions;
}

// Planar geometry on lon/lat, enough for "which grid is this point in": grids are a few hundred
// metres to tens of kilometres across, far from the poles and the antimeridian.

/** A linear ring: closed (first position = last), [lon, lat, (alt)] positions. */
export type Ring = readonly (readonly number[])[];
/** Outer ring first, then holes. */
export type PolygonRings = readonly Ring[];
/** MultiPolygon coordinates; a Polygon is a MultiPolygon of one. */
export type MultiPolygonRings = readonly PolygonRings[];

export interface BBox {
  minLon: number;
  minLat: number;
  maxLon: number;
  maxLat: number;
}

/** Tolerance of "on the edge", in degrees² of the cross product: about a micrometre on the ground. */
const EPS = 1e-12;

function onSegment(x: number, y: number, x1: number, y1: number, x2: number, y2: number): boolean {
  const cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
  if (Math.abs(cross) > EPS) return false;
  return x >= Math.min(x1, x2) - EPS && x <= Math.max(x1, x2) + EPS && y >= Math.min(y1, y2) - EPS && y <= Math.max(y1, y2) + EPS;
}

/** 1 strictly inside, 0 on the boundary, -1 outside (ray casting, boundary tested first). */
export function ringSide(x: number, y: number, ring: Ring): 1 | 0 | -1 {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const xi = ring[i]![0]!;
    const yi = ring[i]![1]!;
    const xj = ring[j]![0]!;
    const yj = ring[j]![1]!;
    if (onSegment(x, y, xi, yi, xj, yj)) return 0;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside ? 1 : -1;
}

/**
 * Inside the polygon or on its boundary (outer ring or a hole's ring): a point on an edge always
 * counts as inside, so two grids sharing an edge both contain it and the ranking decides. A point
 * strictly inside a hole is outside.
 */
export function polygonContains(rings: PolygonRings, x: number, y: number): boolean {
  const outer = rings[0];
  if (!outer) return false;
  const side = ringSide(x, y, outer);
  if (side === -1) return false;
  if (side === 0) return true;
  for (let h = 1; h < rings.length; h++) {
    const s = ringSide(x, y, rings[h]!);
    if (s === 1) return false;
    if (s === 0) return true;
  }
  return true;
}

export function multiPolygonContains(polys: MultiPolygonRings, x: number, y: number): boolean {
  for (const p of polys) if (polygonContains(p, x, y)) return true;
  return false;
}

export function bboxOf(polys: MultiPolygonRings): BBox {
  let minLon = Infinity;
  let minLat = Infinity;
  let maxLon = -Infinity;
  let maxLat = -Infinity;
  for (const p of polys) {
    // Holes lie inside the outer ring, so the outer rings bound everything.
    for (const pos of p[0] ?? []) {
      const lon = pos[0]!;
      const lat = pos[1]!;
      if (lon < minLon) minLon = lon;
      if (lon > maxLon) maxLon = lon;
      if (lat < minLat) minLat = lat;
      if (lat > maxLat) maxLat = lat;
    }
  }
  return { minLon, minLat, maxLon, maxLat };
}

const EARTH_RADIUS_M = 6_378_137;
const rad = (d: number) => (d * Math.PI) / 180;

/** Area of a ring on the sphere in m², unsigned (the approximation turf and d3 use). */
function ringAreaM2(ring: Ring): number {
  let sum = 0;
  for (let i = 0; i < ring.length - 1; i++) {
    const a = ring[i]!;
    const b = ring[i + 1]!;
    sum += rad(b[0]! - a[0]!) * (2 + Math.sin(rad(a[1]!)) + Math.sin(rad(b[1]!)));
  }
  return Math.abs((sum * EARTH_RADIUS_M * EARTH_RADIUS_M) / 2);
}

/** Approximate area in km²: outer rings minus holes. */
export function areaKm2(polys: MultiPolygonRings): number {
  let m2 = 0;
  for (const p of polys) {
    p.forEach((ring, i) => {
      m2 += i === 0 ? ringAreaM2(ring) : -ringAreaM2(ring);
    });
  }
  return Math.max(0, m2) / 1e6;
}

import t from 'tap';
import { buildGridIndex, type GridShape } from './locate.js';
import { areaKm2, polygonContains, ringSide } from './geometry.js';

const square = (x0: number, y0: number, x1: number, y1: number) => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];

function grid(id: string, level: GridShape['level'], polygons: number[][][][]): GridShape {
  return { id, level, polygons, areaKm2: areaKm2(polygons) };
}

t.test('ringSide: inside, outside, and every kind of boundary point', async (t) => {
  const ring = square(0, 0, 10, 10);
  t.equal(ringSide(5, 5, ring), 1);
  t.equal(ringSide(15, 5, ring), -1);
  t.equal(ringSide(-0.0001, 5, ring), -1);
  t.equal(ringSide(0, 5, ring), 0, 'on a vertical edge');
  t.equal(ringSide(5, 10, ring), 0, 'on a horizontal edge');
  t.equal(ringSide(10, 10, ring), 0, 'on a vertex');
  const tri = [
    [0, 0],
    [10, 0],
    [0, 10],
    [0, 0],
  ];
  t.equal(ringSide(5, 5, tri), 0, 'on the diagonal');
  t.equal(ringSide(5.001, 5.001, tri), -1, 'just beyond the diagonal');
  t.equal(ringSide(4.999, 4.999, tri), 1, 'just inside the diagonal');
  t.equal(ringSide(5, 0.5, tri), 1);
});

t.test('polygonContains: holes are outside, a hole boundary counts as inside', async (t) => {
  const rings = [square(0, 0, 10, 10), square(4, 4, 6, 6)];
  t.ok(polygonContains(rings, 2, 2));
  t.notOk(polygonContains(rings, 5, 5), 'strictly inside the hole');
  t.ok(polygonContains(rings, 4, 5), 'on the hole edge');
  t.notOk(polygonContains(rings, 11, 5));
});

t.test('locate: the most specific grid; MultiPolygon parts; holes fall through to the parent', async (t) => {
  const county = grid('county', 'county', [[square(100, 30, 102, 32)]]);
  const town = grid('town', 'town', [[square(100, 30, 101, 32)]]);
  // A village with a hole (a lake that belongs to nobody's village).
  const village = grid('village', 'village', [[square(100, 30, 101, 31), square(100.4, 30.4, 100.6, 30.6)]]);
  // A grid in two parts, both inside the village.
  const g1 = grid('g1', 'grid', [[square(100, 30, 100.2, 30.2)], [square(100.8, 30.8, 101, 31)]]);
  const idx = buildGridIndex([g1, county, village, town]);
  t.equal(idx.size, 4);
  t.equal(idx.locate(100.1, 30.1)?.id, 'g1', 'first part of the MultiPolygon');
  t.equal(idx.locate(100.9, 30.9)?.id, 'g1', 'second part of the MultiPolygon');
  t.equal(idx.locate(100.5, 30.9)?.id, 'village', 'in the village, outside the grid');
  t.equal(idx.locate(100.5, 30.5)?.id, 'town', 'in the hole: the next level up');
  t.equal(idx.locate(101.5, 31.5)?.id, 'county');
  t.equal(idx.locate(103, 31), null, 'outside everything');
  t.equal(idx.locate(Number.NaN, 31), null, 'not a number');
  t.same(
    idx.containing(100.1, 30.1).map((g) => g.id),
    ['g1', 'village', 'town', 'county'],
    'every containing grid, most specific first',
  );
});

t.test('locate: a point on a shared edge is in both; the order is deterministic', async (t) => {
  const west = grid('west', 'grid', [[square(0, 0, 1, 1)]]);
  const east = grid('east', 'grid', [[square(1, 0, 2, 1)]]);
  const eastSmall = grid('east-small', 'grid', [[square(1, 0, 1.5, 1)]]);
  t.same(buildGridIndex([west, east]).containing(1, 0.5).map((g) => g.id), ['east', 'west'], 'equal level and area: by id');
  t.equal(buildGridIndex([east, west]).locate(1, 0.5)?.id, 'east', 'input order does not matter');
  t.equal(buildGridIndex([west, eastSmall]).locate(1, 0.5)?.id, 'east-small', 'equal level: the smaller area wins');
});

t.test('locate: no grids', async (t) => {
  t.equal(buildGridIndex([]).locate(1, 1), null);
});

t.test('areaKm2: a 0.1° square near 38.8°N is about 96.5 km² (11.1 km × 8.7 km), a hole subtracts', async (t) => {
  const a = areaKm2([[square(101, 38.75, 101.1, 38.85)]]);
  t.ok(Math.abs(a - 96.5) < 1, `got ${a}`);
  const holed = areaKm2([[square(101, 38.75, 101.1, 38.85), square(101, 38.75, 101.05, 38.85)]]);
  t.ok(Math.abs(holed - a / 2) < 0.5, `got ${holed}`);
});

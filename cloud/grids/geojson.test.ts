import t from 'tap';
import { parseGridCollection } from './geojson.js';
import { SAMPLE_COUNTY } from '../test-support.js';

const ring = [
  [101, 38],
  [101.1, 38],
  [101.1, 38.1],
  [101, 38.1],
  [101, 38],
];

function fc(...features: unknown[]) {
  return { type: 'FeatureCollection', features };
}

function feature(props: Record<string, unknown>, geometry: unknown = { type: 'Polygon', coordinates: [ring] }) {
  return { type: 'Feature', properties: { name: 'A grid', level: 'grid', ...props }, geometry };
}

t.test('the sample county parses', async (t) => {
  const grids = parseGridCollection(SAMPLE_COUNTY);
  t.equal(grids.length, 10);
  t.ok(grids.every((g) => g.areaKm2 > 0));
});

t.test('MultiPolygon with a hole parses', async (t) => {
  const hole = [
    [101.02, 38.02],
    [101.04, 38.02],
    [101.04, 38.04],
    [101.02, 38.04],
    [101.02, 38.02],
  ];
  const [g] = parseGridCollection(fc(feature({ id: 'm' }, { type: 'MultiPolygon', coordinates: [[ring, hole], [ring]] })));
  t.equal(g!.polygons.length, 2);
  t.equal(g!.polygons[0]!.length, 2);
});

function problems(value: unknown) {
  try {
    parseGridCollection(value);
  } catch (err) {
    const e = err as { code: string; details: Array<{ path: string; message: string }> };
    return { code: e.code, details: e.details };
  }
  return null;
}

t.test('an open ring is reported with its path', async (t) => {
  const open = ring.slice(0, 4).concat([[101, 38.05]]);
  t.match(problems(fc(feature({ id: 'ok' }), feature({ id: 'bad' }, { type: 'Polygon', coordinates: [open] }))), {
    code: 'GS_ERR_GRID_INVALID',
    details: [{ path: '/features/1/geometry/coordinates/0', message: /not closed/ }],
  });
});

t.test('too few positions, bad coordinates, swapped lon/lat', async (t) => {
  const tri = [ring[0], ring[1], ring[0]];
  const r = problems(
    fc(
      feature({ id: 'a' }, { type: 'Polygon', coordinates: [tri] }),
      feature({ id: 'b' }, { type: 'Polygon', coordinates: [[[200, 38], ...ring.slice(1, 4), [200, 38]]] }),
      feature({ id: 'c' }, { type: 'Polygon', coordinates: [ring.map(([lon, lat]) => [lat, lon])] }),
      feature({ id: 'd' }, { type: 'Polygon', coordinates: [[['x', 1], ...ring.slice(1)]] }),
    ),
  );
  t.equal(r?.code, 'GS_ERR_GRID_INVALID');
  const paths = r!.details.map((d) => d.path);
  t.ok(paths.includes('/features/0/geometry/coordinates/0'), 'ring with 3 positions');
  t.ok(paths.includes('/features/1/geometry/coordinates/0/0/0'), 'longitude 200');
  t.ok(paths.includes('/features/3/geometry/coordinates/0/0'), 'a string coordinate');
  t.match(r!.details.find((d) => d.path === '/features/1/geometry/coordinates/0/0/0')?.message, /longitude 200/);
  t.match(r!.details.find((d) => d.path === '/features/2/geometry/coordinates/0/0/1')?.message, /latitude 101 .*swapped/, 'lon/lat swapped');
});

t.test('missing id, unknown level, wrong geometry type: schema problems under GS_ERR_GRID_INVALID', async (t) => {
  const r = problems(
    fc(
      { type: 'Feature', properties: { name: 'no id', level: 'grid' }, geometry: { type: 'Polygon', coordinates: [ring] } },
      feature({ id: 'x', level: 'province' }),
      feature({ id: 'y' }, { type: 'Point', coordinates: [101, 38] }),
    ),
  );
  t.equal(r?.code, 'GS_ERR_GRID_INVALID');
  const paths = r!.details.map((d) => d.path);
  t.ok(paths.includes('/features/0/properties'), `missing id (${paths.join(', ')})`);
  t.ok(paths.some((p) => p.startsWith('/features/1/properties/level')), 'unknown level');
  t.ok(paths.some((p) => p.startsWith('/features/2/geometry/type')), 'Point');
});

t.test('duplicate ids, unknown parents, a parent at the wrong level', async (t) => {
  const r = problems(
    fc(
      feature({ id: 'town', level: 'town' }),
      feature({ id: 'town', level: 'town' }),
      feature({ id: 'g', parentId: 'nowhere' }),
      feature({ id: 'v', level: 'village', parentId: 'g' }),
    ),
  );
  t.same(
    r!.details.map((d) => d.path),
    ['/features/1/properties/id', '/features/2/properties/parentId', '/features/3/properties/parentId'],
  );
  t.same(parseGridCollection(fc(feature({ id: 'g', parentId: 'stored-village' })), new Map([['stored-village', 'village']])).length, 1, 'a stored parent is fine');
});

t.test('not a FeatureCollection at all', async (t) => {
  t.match(problems({ type: 'Feature' }), { code: 'GS_ERR_GRID_INVALID' });
  t.match(problems(fc()), { code: 'GS_ERR_GRID_INVALID', details: [{ path: '/features' }] });
});

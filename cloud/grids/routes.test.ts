import t from 'tap';
import { testCloud, admin, getJson, SAMPLE_COUNTY } from '../test-support.js';

type GridListT = { items: Array<{ id: string; level: string; parentId: string | null; nameZh: string | null; bbox: number[]; areaKm2: number }> };
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

t.test('import, list, detail, locate', async (t) => {
  const { app } = await testCloud(t);
  const first = await admin(app, 'POST', '/api/v1/grids/import', SAMPLE_COUNTY);
  t.equal(first.statusCode, 200);
  t.same(first.json(), { version: 1, imported: 10, created: 10, updated: 0, unchanged: 0, devicesMoved: 0, workersMoved: 0 });
  t.same((await admin(app, 'POST', '/api/v1/grids/import', SAMPLE_COUNTY)).json(), { version: 1, imported: 10, created: 0, updated: 0, unchanged: 10, devicesMoved: 0, workersMoved: 0 }, 'upsert by id; the same file again is no new version');

  const all = await getJson<GridListT>(app, '/api/v1/grids');
  t.equal(all.items.length, 10);
  t.equal((await getJson<GridListT>(app, '/api/v1/grids?level=grid')).items.length, 3);
  t.same((await getJson<GridListT>(app, '/api/v1/grids?parentId=qingquan')).items.map((g) => g.id), ['qingquan-riverside', 'qingquan-south']);

  const g = await getJson<{ id: string; nameZh: string; bbox: number[]; geometry: { type: string; coordinates: number[][][] } }>(app, '/api/v1/grids/qingquan-riverside-g01');
  t.match(g, { id: 'qingquan-riverside-g01', nameZh: '河滨社区第一网格', bbox: [101, 38.75, 101.075, 38.9], geometry: { type: 'Polygon' } });
  t.equal(g.geometry.coordinates[0]!.length, 5);

  const here = await getJson<GridListT>(app, '/api/v1/grids/locate?lon=101.04&lat=38.8');
  t.same(here.items.map((x) => x.id), ['qingquan-riverside-g01', 'qingquan-riverside', 'qingquan', 'demo-county'], 'most specific first');
  const edge = await getJson<GridListT>(app, '/api/v1/grids/locate?lon=101.075&lat=38.8');
  t.same(edge.items.slice(0, 2).map((x) => x.id), ['qingquan-riverside-g01', 'qingquan-riverside-g02'], 'on a shared edge: both, in a fixed order');
  t.same((await getJson<GridListT>(app, '/api/v1/grids/locate?lon=0&lat=0')).items, []);
});

t.test('a re-import moves the index at once; a bad import changes nothing', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const moved = clone(SAMPLE_COUNTY) as { features: Array<{ properties: { id: string }; geometry: { coordinates: number[][][] } }> };
  const g01 = moved.features.find((f) => f.properties.id === 'qingquan-riverside-g01')!;
  g01.geometry.coordinates = [[[101.0, 38.85], [101.075, 38.85], [101.075, 38.9], [101.0, 38.9], [101.0, 38.85]]];
  t.equal((await admin(app, 'POST', '/api/v1/grids/import', { type: 'FeatureCollection', features: [g01] })).statusCode, 200);
  t.equal((await getJson<GridListT>(app, '/api/v1/grids/locate?lon=101.04&lat=38.8')).items[0]!.id, 'qingquan-riverside', 'g01 shrank away from the point');

  const broken = clone(moved);
  broken.features[0]!.geometry.coordinates[0]!.pop(); // open the county's ring
  const res = await admin(app, 'POST', '/api/v1/grids/import', broken);
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'GS_ERR_GRID_INVALID', details: [{ path: '/features/0/geometry/coordinates/0', message: /not closed/ }] });
  t.equal((await getJson<GridListT>(app, '/api/v1/grids/locate?lon=101.04&lat=38.8')).items[0]!.id, 'qingquan-riverside', 'unchanged');
});

t.test('import errors through the route: GS_ERR_GRID_INVALID with the feature path', async (t) => {
  const { app } = await testCloud(t);
  const ring = [[101, 38], [101.1, 38], [101.1, 38.1], [101, 38.1], [101, 38]];
  const cases: Array<[string, unknown, string]> = [
    ['missing id', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { name: 'x', level: 'grid' }, geometry: { type: 'Polygon', coordinates: [ring] } }] }, '/features/0/properties'],
    ['bad coordinates', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'a', name: 'x', level: 'grid' }, geometry: { type: 'Polygon', coordinates: [[[101, 95], ...ring.slice(1, 4), [101, 95]]] } }] }, '/features/0/geometry/coordinates/0/0/1'],
    ['open ring', { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { id: 'a', name: 'x', level: 'grid' }, geometry: { type: 'Polygon', coordinates: [ring.slice(0, 4).concat([[101.05, 38.05]])] } }] }, '/features/0/geometry/coordinates/0'],
    ['not GeoJSON', { hello: 'world' }, ''],
  ];
  for (const [name, body, path] of cases) {
    const res = await admin(app, 'POST', '/api/v1/grids/import', body);
    t.equal(res.statusCode, 400, name);
    t.equal(res.json().code, 'GS_ERR_GRID_INVALID', name);
    t.ok(res.json().details.some((d: { path: string }) => d.path === path), `${name} → ${path}: ${JSON.stringify(res.json().details)}`);
  }
  t.same((await getJson<GridListT>(app, '/api/v1/grids')).items, [], 'nothing imported');
});

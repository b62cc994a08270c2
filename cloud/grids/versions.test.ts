// Grid versions over HTTP: an import that changes something makes a new version; past versions stay
// readable (?version=, ?asOf=) for lists, details and point lookups; events keep the grid they were
// placed in; registered devices and grid workers follow the new boundaries; another instance picks
// the new version up. SQLite here, PostgreSQL in the PostgreSQL pass.
import t from 'tap';
import { buildCloud } from '../app.js';
import { ADMIN, admin, createEdgeToken, envelope, getJson, postAlarms, SAMPLE_COUNTY, testCloud, testDatabase } from '../test-support.js';
import { call, modbusDevice, ok } from '../fleet/test-support.js';
import { seedRoster } from './roster-fixture.js';
import { ManualClock } from '../../contracts/clock.js';

type Feature = { properties: { id: string; name: string; parentId?: string }; geometry: { coordinates: number[][][] } };
type Grid = { id: string; name: string; version: number; bbox: number[]; path?: Array<{ id: string; name: string }> };
type GridListT = { version: number; items: Grid[] };
type EventT = { id: string; deviceId: string; gridId: string | null; gridName: string | null; gridVersion: number | null; gridPath: Array<{ id: string; level: string; name: string }> | null };

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const H = 3_600_000;
const POINT = { lon: 101.04, lat: 38.8 };

/** Riverside grid 1 shrunk to its northern half (the point above falls out of it) and renamed. */
function redrawnG01(): unknown {
  const fc = clone(SAMPLE_COUNTY) as { features: Feature[] };
  const g01 = fc.features.find((f) => f.properties.id === 'qingquan-riverside-g01')!;
  g01.properties.name = 'Riverside Grid 1 (north)';
  g01.geometry.coordinates = [[[101.0, 38.85], [101.075, 38.85], [101.075, 38.9], [101.0, 38.9], [101.0, 38.85]]];
  return { type: 'FeatureCollection', features: [g01] };
}

t.test('a re-import makes version 2; events keep the grid of version 1; devices are placed again', async (t) => {
  const { app, clock, token } = await testCloud(t);
  t.same(await getJson<GridListT>(app, '/api/v1/grids'), { version: 0, items: [] }, 'nothing imported: version 0');
  const v1At = clock.now();
  t.match((await admin(app, 'POST', '/api/v1/grids/import', SAMPLE_COUNTY)).json(), { version: 1, created: 10 });
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-g01', { location: POINT }) }));
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-far', { location: { lon: 101.2, lat: 38.8 } }) }));
  t.equal((await ok<{ gridId: string }>(call(app, 'GET', '/api/v1/devices/wl-g01'))).gridId, 'qingquan-riverside-g01');
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-v1-0001', deviceId: 'wl-g01', location: POINT })]);

  clock.advance(H);
  const v2At = clock.now();
  const res = await admin(app, 'POST', '/api/v1/grids/import', redrawnG01());
  t.same(res.json(), { version: 2, imported: 1, created: 0, updated: 1, unchanged: 0, devicesMoved: 1, workersMoved: 0 });
  t.equal((await ok<{ gridId: string; townId: string }>(call(app, 'GET', '/api/v1/devices/wl-g01'))).gridId, 'qingquan-riverside', 'the device moved to the village around it');
  t.equal((await ok<{ gridId: string }>(call(app, 'GET', '/api/v1/devices/wl-far'))).gridId, 'dongle-market-g01', 'the other stayed');

  clock.advance(H);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-v2-0001', deviceId: 'wl-other', location: POINT })]);
  const byDevice = new Map((await getJson<{ items: EventT[] }>(app, '/api/v1/events')).items.map((e) => [e.deviceId, e]));
  t.match(byDevice.get('wl-g01'), { gridId: 'qingquan-riverside-g01', gridName: 'Riverside Grid 1', gridVersion: 1 }, 'the past event keeps its grid as it was');
  t.same(byDevice.get('wl-g01')!.gridPath!.map((p) => p.id), ['demo-county', 'qingquan', 'qingquan-riverside', 'qingquan-riverside-g01']);
  t.match(byDevice.get('wl-other'), { gridId: 'qingquan-riverside', gridName: 'Riverside Community', gridVersion: 2 }, 'a new alarm is placed in the current version');

  // Reading the past.
  const now = await getJson<GridListT>(app, '/api/v1/grids');
  t.equal(now.version, 2);
  t.match(now.items.find((g) => g.id === 'qingquan-riverside-g01'), { name: 'Riverside Grid 1 (north)', version: 2 });
  t.match(now.items.find((g) => g.id === 'qingquan-riverside'), { version: 1 }, 'an unchanged grid keeps the version it dates from');
  for (const q of ['version=1', `asOf=${v1At}`, `asOf=${encodeURIComponent(new Date(v2At - 1).toISOString())}`]) {
    const past = await getJson<GridListT>(app, `/api/v1/grids?${q}`);
    t.equal(past.version, 1, q);
    t.match(past.items.find((g) => g.id === 'qingquan-riverside-g01'), { name: 'Riverside Grid 1', version: 1, bbox: [101, 38.75, 101.075, 38.9] }, q);
  }
  t.equal((await getJson<GridListT>(app, `/api/v1/grids?asOf=${v2At}`)).version, 2, 'asOf at the import itself: the new version');
  const old = await getJson<Grid & { geometry: { coordinates: number[][][] } }>(app, '/api/v1/grids/qingquan-riverside-g01?version=1');
  t.equal(old.geometry.coordinates[0]![0]![1], 38.75, 'the old boundary');
  t.same(old.path!.map((p) => p.name), ['Demo County', 'Qingquan Town', 'Riverside Community', 'Riverside Grid 1']);
  t.equal((await getJson<GridListT>(app, `/api/v1/grids/locate?lon=${POINT.lon}&lat=${POINT.lat}&version=1`)).items[0]!.id, 'qingquan-riverside-g01');
  t.equal((await getJson<GridListT>(app, `/api/v1/grids/locate?lon=${POINT.lon}&lat=${POINT.lat}`)).items[0]!.id, 'qingquan-riverside');

  const versions = await getJson<{ items: Array<{ version: number; actor: string; updated: number; devicesMoved: number }> }>(app, '/api/v1/grids/versions');
  t.match(versions.items, [{ version: 2, actor: 'admin', updated: 1, devicesMoved: 1 }, { version: 1, created: 10 }]);
});

t.test('bad version and asOf: 400 or 404 with a stable code', async (t) => {
  const { app, clock } = await testCloud(t);
  const before = clock.now() - 1;
  await admin(app, 'POST', '/api/v1/grids/import', SAMPLE_COUNTY);
  const cases: Array<[string, number, string]> = [
    ['/api/v1/grids?version=0', 400, 'GS_ERR_VALIDATION'],
    ['/api/v1/grids?version=x', 400, 'GS_ERR_VALIDATION'],
    ['/api/v1/grids?version=7', 404, 'GS_ERR_GRID_VERSION_NOT_FOUND'],
    [`/api/v1/grids?asOf=${before}`, 404, 'GS_ERR_GRID_VERSION_NOT_FOUND'],
    ['/api/v1/grids?asOf=last-tuesday', 400, 'GS_ERR_VALIDATION'],
    ['/api/v1/grids/qingquan?version=7', 404, 'GS_ERR_GRID_VERSION_NOT_FOUND'],
    ['/api/v1/grids/locate?lon=101&lat=38&version=7', 404, 'GS_ERR_GRID_VERSION_NOT_FOUND'],
    ['/api/v1/grids/nowhere?version=1', 404, 'GS_ERR_GRID_NOT_FOUND'],
  ];
  for (const [url, status, code] of cases) {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${ADMIN}` } });
    t.equal(res.statusCode, status, url);
    t.equal(res.json().code, code, url);
  }
  // A grid created in version 2 did not exist in version 1.
  const fc = clone(SAMPLE_COUNTY) as { features: Feature[] };
  const extra = clone(fc.features.find((f) => f.properties.id === 'qingquan-south')!);
  extra.properties.id = 'qingquan-south-g01';
  (extra.properties as { level?: string }).level = 'grid';
  extra.properties.parentId = 'qingquan-south';
  clock.advance(H);
  t.match((await admin(app, 'POST', '/api/v1/grids/import', { type: 'FeatureCollection', features: [extra] })).json(), { version: 2, created: 1 });
  t.equal((await app.inject({ url: '/api/v1/grids/qingquan-south-g01?version=1', headers: { authorization: `Bearer ${ADMIN}` } })).json().code, 'GS_ERR_GRID_NOT_FOUND');
  t.equal((await getJson<Grid>(app, '/api/v1/grids/qingquan-south-g01')).version, 2);
});

t.test('a village moved under another town moves its grid workers to that town', async (t) => {
  const { app, clock } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await seedRoster(app);
  const fc = clone(SAMPLE_COUNTY) as { features: Feature[] };
  const village = fc.features.find((f) => f.properties.id === 'qingquan-riverside')!;
  village.properties.parentId = 'dongle';
  clock.advance(H);
  t.match((await admin(app, 'POST', '/api/v1/grids/import', { type: 'FeatureCollection', features: [village] })).json(), { version: 2, updated: 1, workersMoved: 2 });
  const w = await getJson<{ townId: string }>(app, '/api/v1/grid-workers/w');
  t.equal(w.townId, 'dongle');
  t.same((await getJson<{ path: Array<{ id: string }> }>(app, '/api/v1/grids/qingquan-riverside-g01')).path.map((p) => p.id), ['demo-county', 'dongle', 'qingquan-riverside', 'qingquan-riverside-g01']);
  t.same((await getJson<{ path: Array<{ id: string }> }>(app, '/api/v1/grids/qingquan-riverside-g01?version=1')).path.map((p) => p.id), ['demo-county', 'qingquan', 'qingquan-riverside', 'qingquan-riverside-g01'], 'the path as it was');
});

t.test('another instance picks up a new grid version within a few seconds of its clock', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 8, 0, 0));
  const db = await testDatabase(t, { shared: true });
  const opts = { db, clock, adminToken: ADMIN, logger: false, supervisionMs: 0, feedPollMs: 0, webhookWorkerMs: 0 };
  const a = await buildCloud(opts);
  t.teardown(() => a.close());
  const b = await buildCloud(opts);
  t.teardown(() => b.close());
  const token = await createEdgeToken(a, 'town-a');
  t.equal((await admin(a, 'POST', '/api/v1/grids/import', SAMPLE_COUNTY)).statusCode, 200);
  clock.advance(5000);
  t.equal((await postAlarms(b, token, [envelope({ alarmId: 'alarm-b-0001', location: POINT })])).statusCode, 200);
  const [e] = (await getJson<{ items: EventT[] }>(b, '/api/v1/events')).items;
  t.match(e, { gridId: 'qingquan-riverside-g01', gridVersion: 1 }, 'instance B placed the alarm in the grids A imported');
  t.equal(b.grids.version, 1);
});

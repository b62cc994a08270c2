// Grid workers (网格员) and departments (职能部门) over HTTP: create, read, list, change, retire; every
// bad input a 4xx with its code; a town key confined to its town; every write audited.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { getJson, SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { apiKey, call, ok, type Method } from '../fleet/test-support.js';

type Worker = { id: string; name: string; phone: string; gridId: string; townId: string | null; createdAt: string; updatedAt: string; retiredAt: string | null };
type Department = { id: string; name: string; nameZh: string | null; scope: string; townId: string | null; categories: string[]; retiredAt: string | null };
type List<T> = { items: T[]; nextCursor: string | null };

const W = { id: 'li', name: '李网格', phone: '13912345678', gridId: 'qingquan-riverside-g01' };
const D_COUNTY = { id: 'fire-brigade', name: 'Fire Brigade', nameZh: '县消防救援大队', phone: '119', scope: 'county', categories: ['fire_safety'] };
const D_TOWN = { id: 'qq-water', name: 'Qingquan Water Station', scope: 'town', townId: 'qingquan', categories: ['flood_control', 'public_facilities'] };
const D_DONGLE = { id: 'dl-safety', name: 'Dongle Safety Office', scope: 'town', townId: 'dongle', categories: ['work_safety'] };

async function expectError(t: Test, app: FastifyInstance, method: Method, url: string, body: unknown, status: number, code: string, o: { as?: string; path?: string } = {}) {
  const res = await call(app, method, url, { ...(body === undefined ? {} : { body }), ...(o.as ? { as: o.as } : {}) });
  t.equal(res.statusCode, status, `${method} ${url} ${JSON.stringify(body)} → ${status}: ${res.body.slice(0, 200)}`);
  t.equal(res.json().code, code);
  if (o.path !== undefined) t.ok((res.json().details ?? []).some((d: { path: string }) => d.path === o.path), `detail at ${o.path}: ${res.body.slice(0, 300)}`);
}

t.test('grid workers: create, read, list, change, retire', async (t) => {
  const { app, clock } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const created = await ok<Worker>(call(app, 'POST', '/api/v1/grid-workers', { body: W }), 201);
  t.match(created, { ...W, townId: 'qingquan', retiredAt: null });
  const generated = await ok<Worker>(call(app, 'POST', '/api/v1/grid-workers', { body: { name: '赵网格', phone: '0936-1234567', gridId: 'dongle-market-g01' } }), 201);
  t.match(generated, { id: /^[0-9A-Z]{26}$/, townId: 'dongle' }, 'an id is made when none is given');
  t.same(await getJson<Worker>(app, '/api/v1/grid-workers/li'), created);

  clock.advance(60_000);
  const moved = await ok<Worker>(call(app, 'PATCH', '/api/v1/grid-workers/li', { body: { gridId: 'qingquan-south', phone: '+86 13912345679' } }));
  t.match(moved, { gridId: 'qingquan-south', townId: 'qingquan', phone: '+86 13912345679', name: '李网格' }, 'a village is fine too');
  t.not(moved.updatedAt, created.createdAt);

  t.same((await getJson<List<Worker>>(app, '/api/v1/grid-workers?townId=qingquan')).items.map((w) => w.id), ['li']);
  t.same((await getJson<List<Worker>>(app, '/api/v1/grid-workers?gridId=dongle-market-g01')).items.map((w) => w.id), [generated.id]);
  const page1 = await getJson<List<Worker>>(app, '/api/v1/grid-workers?limit=1');
  const page2 = await getJson<List<Worker>>(app, `/api/v1/grid-workers?limit=1&cursor=${encodeURIComponent(page1.nextCursor!)}`);
  t.same([...page1.items, ...page2.items].map((w) => w.id).sort(), [generated.id, 'li'].sort(), 'paged by id');
  t.equal(page2.nextCursor, null);

  const retired = await ok<Worker>(call(app, 'DELETE', '/api/v1/grid-workers/li'));
  t.not(retired.retiredAt, null);
  t.same(await ok<Worker>(call(app, 'DELETE', '/api/v1/grid-workers/li')), retired, 'retiring twice changes nothing');
  t.same((await getJson<List<Worker>>(app, '/api/v1/grid-workers')).items.map((w) => w.id), [generated.id], 'retired workers leave the list');
  t.equal((await getJson<List<Worker>>(app, '/api/v1/grid-workers?includeRetired=true')).items.length, 2);
  await expectError(t, app, 'PATCH', '/api/v1/grid-workers/li', { name: '李' }, 409, 'GS_ERR_CONFLICT');
});

t.test('grid workers: every bad input is a 4xx with its code', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await ok(call(app, 'POST', '/api/v1/grid-workers', { body: W }), 201);
  await expectError(t, app, 'POST', '/api/v1/grid-workers', W, 409, 'GS_ERR_WORKER_EXISTS', { path: '/id' });
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'x1', gridId: 'nowhere' }, 400, 'GS_ERR_VALIDATION', { path: '/gridId' });
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'x2', gridId: 'qingquan' }, 400, 'GS_ERR_VALIDATION', { path: '/gridId' });
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'x3', phone: '12345' }, 400, 'GS_ERR_VALIDATION', { path: '/phone' });
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'x4', name: '   ' }, 400, 'GS_ERR_VALIDATION', { path: '/name' });
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'bad id!' }, 400, 'GS_ERR_VALIDATION', { path: '/id' });
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'x5', shoeSize: 42 }, 400, 'GS_ERR_VALIDATION');
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { name: 'x' }, 400, 'GS_ERR_VALIDATION');
  await expectError(t, app, 'PATCH', '/api/v1/grid-workers/li', {}, 400, 'GS_ERR_VALIDATION');
  await expectError(t, app, 'PATCH', '/api/v1/grid-workers/li', { gridId: 'demo-county' }, 400, 'GS_ERR_VALIDATION', { path: '/gridId' });
  await expectError(t, app, 'PATCH', '/api/v1/grid-workers/nobody', { name: 'x' }, 404, 'GS_ERR_WORKER_NOT_FOUND');
  await expectError(t, app, 'GET', '/api/v1/grid-workers/nobody', undefined, 404, 'GS_ERR_WORKER_NOT_FOUND');
  await expectError(t, app, 'DELETE', '/api/v1/grid-workers/nobody', undefined, 404, 'GS_ERR_WORKER_NOT_FOUND');
  await expectError(t, app, 'GET', '/api/v1/grid-workers?cursor=garbage', undefined, 400, 'GS_ERR_VALIDATION', { path: '/cursor' });
  const anon = await call(app, 'POST', '/api/v1/grid-workers', { as: null, body: { ...W, id: 'x6' } });
  t.equal(anon.statusCode, 401);
  const integrator = await apiKey(app, 'integrator');
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'x7' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: integrator });
  t.equal((await call(app, 'GET', '/api/v1/grid-workers', { as: integrator })).statusCode, 200, 'grids:read reads the roster');
  t.same((await getJson<List<Worker>>(app, '/api/v1/grid-workers')).items.map((w) => w.id), ['li'], 'nothing else was written');
});

t.test('departments: county and town ones, categories, filters, change, retire; bad input', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  t.match(await ok<Department>(call(app, 'POST', '/api/v1/departments', { body: D_COUNTY }), 201), { ...D_COUNTY, townId: null, retiredAt: null });
  t.match(await ok<Department>(call(app, 'POST', '/api/v1/departments', { body: D_TOWN }), 201), { ...D_TOWN, nameZh: null, phone: null });
  await ok(call(app, 'POST', '/api/v1/departments', { body: D_DONGLE }), 201);

  const ids = async (q: string) => (await getJson<List<Department>>(app, `/api/v1/departments${q}`)).items.map((d) => d.id);
  t.same(await ids(''), ['dl-safety', 'fire-brigade', 'qq-water']);
  t.same(await ids('?townId=qingquan'), ['fire-brigade', 'qq-water'], "serving Qingquan: its own and the county's");
  t.same(await ids('?category=flood_control'), ['qq-water']);
  t.same(await ids('?scope=county'), ['fire-brigade']);

  const changed = await ok<Department>(call(app, 'PATCH', '/api/v1/departments/qq-water', { body: { categories: ['flood_control'], nameZh: '清泉镇水务站' } }));
  t.match(changed, { categories: ['flood_control'], nameZh: '清泉镇水务站', scope: 'town', townId: 'qingquan' });
  t.same(await ids('?category=public_facilities'), [], 'the category index follows');
  t.match(await ok<Department>(call(app, 'PATCH', '/api/v1/departments/dl-safety', { body: { scope: 'county' } })), { scope: 'county', townId: null }, 'to the county: the town goes');
  await ok(call(app, 'DELETE', '/api/v1/departments/dl-safety'));
  t.same(await ids(''), ['fire-brigade', 'qq-water']);

  await expectError(t, app, 'POST', '/api/v1/departments', D_COUNTY, 409, 'GS_ERR_DEPARTMENT_EXISTS');
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_TOWN, id: 'd1', townId: undefined }, 400, 'GS_ERR_VALIDATION', { path: '/townId' });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_COUNTY, id: 'd2', townId: 'qingquan' }, 400, 'GS_ERR_VALIDATION', { path: '/townId' });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_TOWN, id: 'd3', townId: 'qingquan-riverside' }, 400, 'GS_ERR_VALIDATION', { path: '/townId' });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_COUNTY, id: 'd4', categories: ['fire_safety', 'parking'] }, 400, 'GS_ERR_VALIDATION', { path: '/categories/1' });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_COUNTY, id: 'd5', categories: [] }, 400, 'GS_ERR_VALIDATION', { path: '/categories' });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_COUNTY, id: 'd6', categories: ['fire_safety', 'fire_safety'] }, 400, 'GS_ERR_VALIDATION');
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_COUNTY, id: 'd7', scope: 'province' }, 400, 'GS_ERR_VALIDATION', { path: '/scope' });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_COUNTY, id: 'd8', phone: 'call us' }, 400, 'GS_ERR_VALIDATION', { path: '/phone' });
  await expectError(t, app, 'PATCH', '/api/v1/departments/qq-water', { townId: null }, 400, 'GS_ERR_VALIDATION', { path: '/townId' });
  await expectError(t, app, 'PATCH', '/api/v1/departments/dl-safety', { name: 'x' }, 409, 'GS_ERR_CONFLICT');
  await expectError(t, app, 'GET', '/api/v1/departments/none', undefined, 404, 'GS_ERR_DEPARTMENT_NOT_FOUND');
});

t.test('a town key sees and changes only its town: workers, departments', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await ok(call(app, 'POST', '/api/v1/grid-workers', { body: W }), 201);
  await ok(call(app, 'POST', '/api/v1/grid-workers', { body: { id: 'zhao', name: '赵网格', phone: '13800000001', gridId: 'dongle-market-g01' } }), 201);
  for (const d of [D_COUNTY, D_TOWN, D_DONGLE]) await ok(call(app, 'POST', '/api/v1/departments', { body: d }), 201);
  const qq = await apiKey(app, 'admin', 'qingquan');
  const qqReader = await apiKey(app, 'dispatcher', 'qingquan');

  for (const key of [qq, qqReader]) {
    t.same((await getJson<List<Worker>>(app, '/api/v1/grid-workers', key)).items.map((w) => w.id), ['li'], 'its own workers only');
    t.same((await getJson<List<Department>>(app, '/api/v1/departments', key)).items.map((d) => d.id), ['fire-brigade', 'qq-water'], "its own and the county's departments");
  }
  await expectError(t, app, 'GET', '/api/v1/grid-workers?townId=dongle', undefined, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq, path: '/townId' });
  await expectError(t, app, 'GET', '/api/v1/departments?townId=dongle', undefined, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'GET', '/api/v1/grid-workers/zhao', undefined, 404, 'GS_ERR_WORKER_NOT_FOUND', { as: qq });
  await expectError(t, app, 'GET', '/api/v1/departments/dl-safety', undefined, 404, 'GS_ERR_DEPARTMENT_NOT_FOUND', { as: qq });
  t.equal((await call(app, 'GET', '/api/v1/departments/fire-brigade', { as: qq })).statusCode, 200, "the county's departments are visible");

  // Writes.
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { id: 'x', name: 'x', phone: '13800000002', gridId: 'dongle-market-g01' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'PATCH', '/api/v1/grid-workers/zhao', { name: 'x' }, 404, 'GS_ERR_WORKER_NOT_FOUND', { as: qq });
  await expectError(t, app, 'DELETE', '/api/v1/grid-workers/zhao', undefined, 404, 'GS_ERR_WORKER_NOT_FOUND', { as: qq });
  await expectError(t, app, 'PATCH', '/api/v1/grid-workers/li', { gridId: 'dongle-market-g01' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_COUNTY, id: 'x' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'POST', '/api/v1/departments', { ...D_DONGLE, id: 'x' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'PATCH', '/api/v1/departments/fire-brigade', { name: 'x' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'DELETE', '/api/v1/departments/fire-brigade', undefined, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'PATCH', '/api/v1/departments/dl-safety', { name: 'x' }, 404, 'GS_ERR_DEPARTMENT_NOT_FOUND', { as: qq });
  await expectError(t, app, 'PATCH', '/api/v1/departments/qq-water', { scope: 'county' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qq });
  await expectError(t, app, 'POST', '/api/v1/grid-workers', { ...W, id: 'y' }, 403, 'GS_ERR_AUTH_FORBIDDEN', { as: qqReader });

  // What it may do.
  t.match(await ok<Worker>(call(app, 'POST', '/api/v1/grid-workers', { as: qq, body: { id: 'qian', name: '钱网格', phone: '13800000003', gridId: 'qingquan-riverside-g02' } }), 201), { townId: 'qingquan' });
  await ok(call(app, 'PATCH', '/api/v1/grid-workers/li', { as: qq, body: { name: '李明' } }));
  await ok(call(app, 'POST', '/api/v1/departments', { as: qq, body: { ...D_TOWN, id: 'qq-security', categories: ['public_security'] } }), 201);
  await ok(call(app, 'DELETE', '/api/v1/departments/qq-security', { as: qq }));
  t.equal((await getJson<Worker>(app, '/api/v1/grid-workers/zhao')).name, '赵网格', "the other town's worker is untouched");
  t.equal((await getJson<Department>(app, '/api/v1/departments/fire-brigade')).name, 'Fire Brigade');
});

t.test('every write is in the audit log with who made it', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const qq = await apiKey(app, 'admin', 'qingquan');
  await ok(call(app, 'POST', '/api/v1/grid-workers', { as: qq, body: W }), 201);
  await ok(call(app, 'PATCH', '/api/v1/grid-workers/li', { as: qq, body: { name: '李明' } }));
  await ok(call(app, 'POST', '/api/v1/departments', { body: D_COUNTY }), 201);
  await ok(call(app, 'DELETE', '/api/v1/departments/fire-brigade'));
  await call(app, 'POST', '/api/v1/grid-workers', { as: qq, body: { ...W, id: 'z', gridId: 'dongle-market-g01' } });
  const audit = await getJson<{ items: Array<{ method: string; route: string; targetId: string | null; status: number; actorName: string }> }>(app, '/api/v1/audit?limit=20');
  const rows = audit.items.filter((a) => /grid-workers|departments/.test(a.route)).map((a) => [a.method, a.route, a.targetId, a.status, a.actorName]);
  t.same(rows, [
    ['POST', '/api/v1/grid-workers', null, 403, 'admin-qingquan'],
    ['DELETE', '/api/v1/departments/:id', 'fire-brigade', 200, 'admin'],
    ['POST', '/api/v1/departments', null, 201, 'admin'],
    ['PATCH', '/api/v1/grid-workers/:id', 'li', 200, 'admin-qingquan'],
    ['POST', '/api/v1/grid-workers', null, 201, 'admin-qingquan'],
  ]);
});

// Bad input of every kind gets a clear GS_ERR code and a 4xx — never a 500 — and the server keeps
// answering. Admin routes refuse without the admin token. The OpenAPI document covers every route.
import t, { type Test } from 'tap';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildCloud } from './app.js';
import { testCloud, testDatabase, envelope, ADMIN } from './test-support.js';

async function stillHealthy(t: Test, app: FastifyInstance) {
  const h = await app.inject({ url: '/healthz' });
  t.equal(h.statusCode, 200, 'still answers /healthz');
  t.same(h.json(), { status: 'ok', db: 'ok' });
}

t.test('bad requests: code, status, details; the server carries on', async (t) => {
  const { app, token } = await testCloud(t, { bodyLimit: 4096 });
  const auth = { authorization: `Bearer ${token}` };
  const cases: Array<{ name: string; req: InjectOptions; status: number; code: string; detail?: string }> = [
    { name: 'malformed JSON', req: { method: 'POST', url: '/api/v1/alarms', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"alarms": [' }, status: 400, code: 'GS_ERR_JSON_MALFORMED' },
    { name: 'empty JSON body', req: { method: 'POST', url: '/api/v1/alarms', headers: { ...auth, 'content-type': 'application/json' }, payload: '' }, status: 400, code: 'GS_ERR_JSON_MALFORMED' },
    {
      name: 'schema-invalid alarm',
      req: { method: 'POST', url: '/api/v1/alarms', headers: auth, payload: { alarms: [{ ...envelope(), severity: 'apocalyptic', colour: 'red' }] } },
      status: 400,
      code: 'GS_ERR_VALIDATION',
      detail: '/alarms/0/severity',
    },
    { name: 'empty batch', req: { method: 'POST', url: '/api/v1/alarms', headers: auth, payload: { alarms: [] } }, status: 400, code: 'GS_ERR_VALIDATION', detail: '/alarms' },
    { name: 'missing token', req: { method: 'POST', url: '/api/v1/alarms', payload: { alarms: [envelope()] } }, status: 401, code: 'GS_ERR_AUTH_MISSING' },
    { name: 'not a bearer', req: { method: 'POST', url: '/api/v1/alarms', headers: { authorization: 'Basic Zm9vOmJhcg==' }, payload: { alarms: [envelope()] } }, status: 401, code: 'GS_ERR_AUTH_MISSING' },
    { name: 'unknown token', req: { method: 'POST', url: '/api/v1/alarms', headers: { authorization: 'Bearer gse_nope' }, payload: { alarms: [envelope()] } }, status: 401, code: 'GS_ERR_EDGE_UNKNOWN' },
    { name: 'admin token is not an edge token', req: { method: 'POST', url: '/api/v1/alarms', headers: { authorization: `Bearer ${ADMIN}` }, payload: { alarms: [envelope()] } }, status: 401, code: 'GS_ERR_EDGE_UNKNOWN' },
    {
      name: 'oversized body',
      req: { method: 'POST', url: '/api/v1/alarms', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ alarms: Array.from({ length: 40 }, (_, i) => envelope({ alarmId: `alarm-big-${i}` })) }) },
      status: 413,
      code: 'GS_ERR_BODY_TOO_LARGE',
    },
    { name: 'text/plain', req: { method: 'POST', url: '/api/v1/alarms', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'water is high' }, status: 415, code: 'GS_ERR_MEDIA_TYPE' },
    { name: 'form data', req: { method: 'POST', url: '/api/v1/alarms', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' }, status: 415, code: 'GS_ERR_MEDIA_TYPE' },
    { name: 'unknown route', req: { method: 'GET', url: '/api/v1/nothing-here?x=1' }, status: 404, code: 'GS_ERR_ROUTE_NOT_FOUND' },
    { name: 'wrong method', req: { method: 'DELETE', url: '/api/v1/events' }, status: 404, code: 'GS_ERR_ROUTE_NOT_FOUND' },
    { name: 'unknown grid', req: { method: 'GET', url: '/api/v1/grids/nowhere', headers: { authorization: `Bearer ${ADMIN}` } }, status: 404, code: 'GS_ERR_GRID_NOT_FOUND' },
    { name: 'locate without lat', req: { method: 'GET', url: '/api/v1/grids/locate?lon=101', headers: { authorization: `Bearer ${ADMIN}` } }, status: 400, code: 'GS_ERR_VALIDATION' },
    { name: 'locate out of range', req: { method: 'GET', url: '/api/v1/grids/locate?lon=200&lat=38', headers: { authorization: `Bearer ${ADMIN}` } }, status: 400, code: 'GS_ERR_VALIDATION', detail: '/lon' },
  ];
  for (const c of cases) {
    const res = await app.inject(c.req);
    t.equal(res.statusCode, c.status, `${c.name}: ${c.status}`);
    const body = res.json<{ code: string; message: string; details?: Array<{ path: string; message: string }> }>();
    t.equal(body.code, c.code, `${c.name}: ${c.code}`);
    t.type(body.message, 'string');
    if (c.detail) t.ok(body.details?.some((d) => d.path === c.detail), `${c.name}: detail at ${c.detail} (${JSON.stringify(body.details)})`);
  }
  const unknownField = await app.inject({ method: 'POST', url: '/api/v1/alarms', headers: auth, payload: { alarms: [{ ...envelope(), colour: 'red' }] } });
  t.match(unknownField.json().details, [{ path: '/alarms/0/colour', message: 'is not a known field' }], 'unknown fields are refused, not stripped');
  await stillHealthy(t, app);
});

t.test('a revoked edge is refused', async (t) => {
  const { app, token } = await testCloud(t);
  await app.db.updateTable('edges').set({ revoked_at: 1 }).where('id', '=', 'town-a').execute();
  const res = await app.inject({ method: 'POST', url: '/api/v1/alarms', headers: { authorization: `Bearer ${token}` }, payload: { alarms: [envelope()] } });
  t.equal(res.statusCode, 401);
  t.equal(res.json().code, 'GS_ERR_EDGE_UNKNOWN');
});

t.test('admin routes refuse without the admin token', async (t) => {
  const { app, token } = await testCloud(t);
  const routes = [
    { method: 'POST' as const, url: '/api/v1/edges', payload: { id: 'x1', name: 'X' } },
    { method: 'GET' as const, url: '/api/v1/edges' },
    { method: 'POST' as const, url: '/api/v1/grids/import', payload: { type: 'FeatureCollection', features: [] } },
  ];
  for (const r of routes) {
    const none = await app.inject(r);
    t.match([none.statusCode, none.json().code], [401, 'GS_ERR_AUTH_MISSING'], `${r.method} ${r.url} without a token`);
    const wrong = await app.inject({ ...r, headers: { authorization: 'Bearer not-the-admin-token' } });
    t.match([wrong.statusCode, wrong.json().code], [401, 'GS_ERR_AUTH_INVALID'], `${r.method} ${r.url} with a wrong token`);
    const edge = await app.inject({ ...r, headers: { authorization: `Bearer ${token}` } });
    t.equal(edge.statusCode, 401, `${r.method} ${r.url} with an edge token`);
  }
});

t.test('no admin token configured: admin routes are 403', async (t) => {
  const saved = process.env.GRIDSENSE_ADMIN_TOKEN;
  delete process.env.GRIDSENSE_ADMIN_TOKEN;
  t.teardown(() => {
    if (saved !== undefined) process.env.GRIDSENSE_ADMIN_TOKEN = saved;
  });
  const app = await buildCloud({ db: await testDatabase(t) });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'POST', url: '/api/v1/edges', headers: { authorization: 'Bearer anything' }, payload: { id: 'x1', name: 'X' } });
  t.equal(res.statusCode, 403);
  t.equal(res.json().code, 'GS_ERR_AUTH_FORBIDDEN');
});

t.test('healthz reports a dead database as 503, not a crash', async (t) => {
  const { app } = await testCloud(t);
  await app.db.destroy(); // the database goes away under a running app
  const res = await app.inject({ url: '/healthz' });
  t.equal(res.statusCode, 503);
  t.same(res.json(), { status: 'degraded', db: 'error' });
  const list = await app.inject({ url: '/api/v1/events', headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(list.statusCode, 500, 'reads fail as our fault…');
  t.same(list.json(), { code: 'GS_ERR_INTERNAL', message: 'internal error' }, '…without leaking internals');
});

t.test('OpenAPI: every route documented with tags, summary and error responses', async (t) => {
  const { app } = await testCloud(t);
  const res = await app.inject({ url: '/docs/json' });
  t.equal(res.statusCode, 200);
  const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } }>();
  t.match(doc.openapi, /^3\./);
  t.ok(doc.components.schemas.ErrorBody, 'shared ErrorBody schema');
  const expected = [
    'GET /healthz',
    'POST /api/v1/edges',
    'GET /api/v1/edges',
    'POST /api/v1/alarms',
    'GET /api/v1/alarms',
    'GET /api/v1/alarms/{id}',
    'POST /api/v1/grids/import',
    'GET /api/v1/grids',
    'GET /api/v1/grids/locate',
    'GET /api/v1/grids/{id}',
    'GET /api/v1/events',
    'GET /api/v1/events/{id}',
    'GET /api/v1/events/stream',
  ];
  for (const route of expected) {
    const [method, path] = route.split(' ') as [string, string];
    const op = doc.paths[path]?.[method.toLowerCase()];
    if (!op) {
      t.fail(`${route} is missing`);
      continue;
    }
    t.ok(op.tags?.length && op.summary, `${route}: tags and summary`);
    t.ok(op.responses['200'] ?? op.responses['201'], `${route}: success response`);
  }
  t.match(JSON.stringify(doc.paths['/api/v1/alarms']!.post!.responses['401']), /ErrorBody/, 'errors reference ErrorBody');
  const ui = await app.inject({ url: '/docs' });
  t.equal(ui.statusCode, 200);
  t.match(ui.headers['content-type'], /text\/html/);
});

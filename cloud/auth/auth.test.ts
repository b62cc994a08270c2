// API keys, roles and town scope over HTTP, and the audit log of writes.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { admin, envelope, getJson, postAlarms, SAMPLE_COUNTY, testCloud } from '../test-support.js';

const QINGQUAN = { lon: 101.04, lat: 38.8 };
const DONGLE = { lon: 101.2, lat: 38.8 };

async function key(app: FastifyInstance, body: Record<string, unknown>): Promise<string> {
  const res = await admin(app, 'POST', '/api/v1/api-keys', body);
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json<{ key: string }>().key;
}

const as = (app: FastifyInstance, k: string | undefined, method: 'GET' | 'POST', url: string, payload?: object) =>
  app.inject({ method, url, ...(k ? { headers: { authorization: `Bearer ${k}` } } : {}), ...(payload ? { payload } : {}) });

async function county(t: Parameters<typeof testCloud>[0]) {
  const c = await testCloud(t, { grids: SAMPLE_COUNTY });
  await postAlarms(c.app, c.token, [envelope({ alarmId: 'alarm-auth-0001', deviceId: 'q1', location: QINGQUAN })]);
  await postAlarms(c.app, c.token, [envelope({ alarmId: 'alarm-auth-0002', deviceId: 'd1', location: DONGLE })]);
  const { items } = await getJson<{ items: Array<{ id: string; deviceId: string }> }>(c.app, '/api/v1/events');
  return { ...c, q1: items.find((e) => e.deviceId === 'q1')!.id, d1: items.find((e) => e.deviceId === 'd1')!.id };
}

t.test('every read needs a credential; a revoked key stops at once', async (t) => {
  const { app } = await county(t);
  t.equal((await as(app, undefined, 'GET', '/api/v1/events')).statusCode, 401);
  t.match((await as(app, 'gsk_nope', 'GET', '/api/v1/events')).json(), { code: 'GS_ERR_AUTH_INVALID' });
  const k = await key(app, { name: 'platform', role: 'integrator' });
  t.equal((await as(app, k, 'GET', '/api/v1/events')).statusCode, 200);
  const id = (await admin(app, 'GET', '/api/v1/api-keys')).json<{ items: Array<{ id: string; name: string }> }>().items.find((x) => x.name === 'platform')!.id;
  t.notOk((await admin(app, 'GET', '/api/v1/api-keys')).body.includes(k), 'the key is never listed');
  t.equal((await admin(app, 'DELETE', `/api/v1/api-keys/${id}`)).statusCode, 204);
  t.equal((await as(app, k, 'GET', '/api/v1/events')).statusCode, 401, 'revoked');
});

t.test('roles: a dispatcher moves events, a technician and an integrator cannot, only an auditor (or admin) reads the audit log', async (t) => {
  const { app, q1 } = await county(t);
  const dispatcher = await key(app, { name: 'dispatcher-li', role: 'dispatcher' });
  const technician = await key(app, { name: 'tech-wang', role: 'technician' });
  const auditor = await key(app, { name: 'audit-zhao', role: 'auditor' });
  const res = await as(app, dispatcher, 'POST', `/api/v1/events/${q1}/transitions`, { action: 'accept', actor: 'someone-else' });
  t.equal(res.statusCode, 200);
  t.match(res.json<{ timeline: Array<{ kind: string; actor: string }> }>().timeline.at(-1), { kind: 'accept', actor: 'dispatcher-li' }, 'a key acts under its own name');
  t.match((await as(app, technician, 'POST', `/api/v1/events/${q1}/transitions`, { action: 'dispatch', assignee: { kind: 'worker', id: 'w' } })).json(), { code: 'GS_ERR_AUTH_FORBIDDEN', message: /events:write/ });
  t.equal((await as(app, technician, 'POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/x', types: ['event.opened'] })).statusCode, 403);
  t.equal((await as(app, dispatcher, 'GET', '/api/v1/audit')).statusCode, 403);
  t.equal((await as(app, dispatcher, 'POST', '/api/v1/api-keys', { name: 'x', role: 'admin' })).statusCode, 403, 'only admins issue keys');
  const narrowed = await key(app, { name: 'read-only-dispatcher', role: 'dispatcher', scopes: ['events:read'] });
  t.equal((await as(app, narrowed, 'POST', `/api/v1/events/${q1}/transitions`, { action: 'dispatch', assignee: { kind: 'worker', id: 'w' } })).statusCode, 403, 'scopes narrow the role');
  t.equal((await admin(app, 'POST', '/api/v1/api-keys', { name: 'x', role: 'technician', scopes: ['admin'] })).statusCode, 400, 'a key cannot get more than its role');

  const audit = (await as(app, auditor, 'GET', '/api/v1/audit')).json<{ items: Array<{ actorName: string; method: string; route: string; targetId: string | null; status: number; body: Record<string, unknown> | null }> }>();
  const step = audit.items.find((a) => a.route === '/api/v1/events/:id/transitions' && a.status === 200);
  t.match(step, { actorName: 'dispatcher-li', method: 'POST', targetId: q1, body: { action: 'accept' } });
  t.ok(audit.items.some((a) => a.route === '/api/v1/events/:id/transitions' && a.status === 403), 'refused writes are on record too');
  t.ok(audit.items.some((a) => a.route === '/api/v1/api-keys' && a.actorName === 'admin'), 'key issuing is on record');
});

t.test("a town's key sees and changes only its town", async (t) => {
  const { app, q1, d1 } = await county(t);
  const qq = await key(app, { name: 'qingquan-desk', role: 'dispatcher', townId: 'qingquan' });
  const list = (await as(app, qq, 'GET', '/api/v1/events')).json<{ items: Array<{ deviceId: string }> }>();
  t.same(list.items.map((e) => e.deviceId), ['q1']);
  t.equal((await as(app, qq, 'GET', '/api/v1/events?townId=dongle')).statusCode, 403);
  t.equal((await as(app, qq, 'GET', `/api/v1/events/${d1}`)).statusCode, 404, "another town's event does not exist for it");
  t.equal((await as(app, qq, 'POST', `/api/v1/events/${d1}/transitions`, { action: 'accept' })).statusCode, 404);
  t.equal((await as(app, qq, 'POST', `/api/v1/events/${q1}/transitions`, { action: 'accept' })).statusCode, 200);
  const stats = (await as(app, qq, 'GET', '/api/v1/stats/events')).json<{ items: Array<{ key: string }> }>();
  t.same(stats.items.map((r) => r.key), ['qingquan']);
  const alarms = (await as(app, qq, 'GET', '/api/v1/alarms')).json<{ items: Array<{ deviceId: string }> }>();
  t.same(alarms.items.map((a) => a.deviceId), ['q1']);
  t.equal((await admin(app, 'POST', '/api/v1/api-keys', { name: 'x', role: 'dispatcher', townId: 'atlantis' })).statusCode, 400, 'the town must exist');
});

t.test('hostile filters are values, never SQL', async (t) => {
  const { app } = await county(t);
  const res = await admin(app, 'GET', `/api/v1/events?deviceId=${encodeURIComponent("q1' OR '1'='1")}`);
  t.equal(res.statusCode, 200);
  t.same(res.json<{ items: unknown[] }>().items, []);
  const drop = await admin(app, 'GET', `/api/v1/events?category=${encodeURIComponent('x; DROP TABLE events; --')}`);
  t.equal(drop.statusCode, 200);
  t.equal((await getJson<{ items: unknown[] }>(app, '/api/v1/events')).items.length, 2, 'still there');
  t.equal((await admin(app, 'GET', `/api/v1/events?deviceId=${'x'.repeat(500)}`)).statusCode, 400, 'oversized filter refused');
});

// Remote configuration: the desired configuration with its version as ETag, long-polls that answer the
// moment a change commits (or 304 when none came), the edge's reports, and several instances.
import t from 'tap';
import { buildCloud } from '../app.js';
import { ADMIN, testCloud, testDatabase } from '../test-support.js';
import { call, modbusDevice, ok } from '../fleet/test-support.js';
import { parseEtagVersion } from './config-routes.js';

const getConfig = (app: Parameters<typeof call>[0], token: string, etag?: string, wait?: number) =>
  call(app, 'GET', `/api/v1/edges/config${wait !== undefined ? `?wait=${wait}` : ''}`, { as: token, ...(etag ? { headers: { 'if-none-match': etag } } : {}) });

t.test('ETag is the version; If-None-Match with it is 304, at once or after the wait', async (t) => {
  const { app, token } = await testCloud(t);
  const first = await getConfig(app, token);
  t.equal(first.statusCode, 200);
  t.equal(first.headers.etag, '"1"');
  t.same(first.json(), { version: 1, rules: [], devices: [] });

  const now = await getConfig(app, token, '"1"');
  t.equal(now.statusCode, 304);
  t.equal(now.body, '', 'no body');
  t.equal(now.headers.etag, '"1"');

  const started = Date.now();
  const waited = await getConfig(app, token, 'W/"1"', 1);
  const took = Date.now() - started;
  t.equal(waited.statusCode, 304, 'nothing changed');
  t.ok(took >= 950 && took < 3000, `waited the second asked (${took} ms)`);
  t.equal(app.fleet.watch.waiting, 0, 'no waiter left behind');

  t.equal((await getConfig(app, token, '"0"', 5)).statusCode, 200, 'an old version gets the current one at once');
  t.equal((await getConfig(app, token, '"1"', 31)).statusCode, 400, 'wait is capped at 30 s');
  t.equal((await call(app, 'GET', '/api/v1/edges/config')).statusCode, 401, 'an edge token is required');
});

t.test('a device change bumps the edge\'s version and wakes its long-poll at once', async (t) => {
  const { app, token } = await testCloud(t);
  const polling = getConfig(app, token, '"1"', 20);
  for (let i = 0; i < 200 && app.fleet.watch.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.equal(app.fleet.watch.waiting, 1, 'the edge is waiting');
  const started = Date.now();
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-1') }));
  const res = await polling;
  t.ok(Date.now() - started < 1000, 'answered as soon as the change committed');
  t.equal(res.statusCode, 200);
  t.equal(res.headers.etag, '"2"');
  t.match(res.json(), { version: 2, devices: [{ id: 'wl-1' }] });

  // A change to another edge does not wake this one.
  const other = await ok<{ token: string }>(call(app, 'POST', '/api/v1/edges', { body: { id: 'town-b', name: 'B' } }));
  const quiet = getConfig(app, token, '"2"', 1);
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-b', { edge: 'town-b' }) }));
  t.equal((await quiet).statusCode, 304);
  t.equal((await ok<{ version: number }>(getConfig(app, other.token))).version, 2);

  // An override changed through the API is a new version carrying the new threshold.
  const poll2 = getConfig(app, token, '"2"', 20);
  for (let i = 0; i < 200 && app.fleet.watch.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
  await ok(call(app, 'PATCH', '/api/v1/devices/wl-1', { body: { overrides: { 'water-level-warning': { above: 2.5, clearBelow: 2.3 } } } }));
  t.match((await poll2).json(), { version: 3, devices: [{ id: 'wl-1', overrides: { 'water-level-warning': { above: 2.5 } } }] });
});

t.test('the edge reports what it applied; a rejection is kept with its reasons', async (t) => {
  const { app, token } = await testCloud(t);
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-1') }));
  t.equal((await call(app, 'POST', '/api/v1/edges/config/status', { as: token, body: { version: 2, applied: true } })).statusCode, 204);
  t.match(await ok(call(app, 'GET', '/api/v1/edges/town-a')), { config: { desiredVersion: 2, appliedVersion: 2, inSync: true, lastReport: { version: 2, applied: true, at: '2026-07-01T08:00:00.000Z' } } });

  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-2') }));
  const error = { code: 'GS_ERR_CONFIG_INVALID', message: 'edge.yaml is not valid: 1 problem(s)', details: [{ path: '/devices/1/connection/host', message: 'cannot be resolved' }] };
  await ok(call(app, 'POST', '/api/v1/edges/config/status', { as: token, body: { version: 3, applied: false, error } }));
  const e = await ok(call(app, 'GET', '/api/v1/edges/town-a'));
  t.match(e, { config: { desiredVersion: 3, appliedVersion: 2, inSync: false, lastReport: { version: 3, applied: false, error } } }, 'the last good version stays the applied one');
  t.equal((await call(app, 'POST', '/api/v1/edges/config/status', { as: token, body: { version: 0, applied: true } })).statusCode, 400);
  t.match(await ok(call(app, 'GET', '/api/v1/edges/town-a/config')), { version: 3, devices: [{ id: 'wl-1' }, { id: 'wl-2' }] }, 'technicians can read what the edge is given');
});

t.test('a change made through another instance wakes a long-poll here (shared database, short poll)', async (t) => {
  const prior = process.env.GRIDSENSE_CONFIG_POLL_MS;
  process.env.GRIDSENSE_CONFIG_POLL_MS = '100';
  t.teardown(() => {
    if (prior === undefined) delete process.env.GRIDSENSE_CONFIG_POLL_MS;
    else process.env.GRIDSENSE_CONFIG_POLL_MS = prior;
  });
  const db = await testDatabase(t, { shared: true });
  const { app: a, token } = await testCloud(t, { db });
  const b = await buildCloud({ db, adminToken: ADMIN, logger: false, supervisionMs: 0, feedPollMs: 0, webhookWorkerMs: 0 });
  t.teardown(() => b.close());
  const polling = getConfig(b, token, '"1"', 20);
  for (let i = 0; i < 200 && b.fleet.watch.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  await ok(call(a, 'POST', '/api/v1/devices', { body: modbusDevice('wl-1') }));
  const res = await polling;
  t.equal(res.statusCode, 200);
  t.equal(res.json<{ version: number }>().version, 2);
  t.ok(Date.now() - started < 3000, `heard within the poll interval (${Date.now() - started} ms)`);
});

t.test('closing the app answers waiting long-polls', async (t) => {
  const { app, token } = await testCloud(t);
  const polling = getConfig(app, token, '"1"', 30);
  for (let i = 0; i < 200 && app.fleet.watch.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  await app.close();
  t.equal((await polling).statusCode, 304);
  t.ok(Date.now() - started < 5000);
});

t.test('If-None-Match parsing', async (t) => {
  t.equal(parseEtagVersion('"12"'), 12);
  t.equal(parseEtagVersion('W/"12"'), 12);
  t.equal(parseEtagVersion('12'), 12);
  t.equal(parseEtagVersion('"12", "13"'), 12);
  t.equal(parseEtagVersion('*'), undefined);
  t.equal(parseEtagVersion('"abc"'), undefined);
  t.equal(parseEtagVersion(undefined), undefined);
});

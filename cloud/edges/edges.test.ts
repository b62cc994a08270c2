import t from 'tap';
import { createHash } from 'node:crypto';
import { ManualClock } from '../../contracts/clock.js';
import { isGsError } from '../../contracts/errors.js';
import { testCloud, admin, postAlarms, envelope, getJson } from '../test-support.js';
import { createEdge } from './service.js';

t.test('POST /edges: a token shown once, stored only as its sha256', async (t) => {
  const { app } = await testCloud(t);
  const res = await admin(app, 'POST', '/api/v1/edges', { id: 'town-qingquan', name: 'Qingquan Town edge (清泉镇)' });
  t.equal(res.statusCode, 201);
  const body = res.json<{ id: string; name: string; token: string; createdAt: string }>();
  t.match(body, { id: 'town-qingquan', name: 'Qingquan Town edge (清泉镇)', createdAt: '2026-07-01T08:00:00.000Z' });
  t.match(body.token, /^gse_[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  const row = await app.db.selectFrom('edges').selectAll().where('id', '=', 'town-qingquan').executeTakeFirstOrThrow();
  t.equal(row.token_hash, createHash('sha256').update(body.token).digest('hex'));
  t.notMatch(JSON.stringify(row), body.token, 'the token itself is nowhere in the row');

  const list = await admin(app, 'GET', '/api/v1/edges');
  t.same(
    list.json<{ items: Array<{ id: string }> }>().items.map((e) => e.id),
    ['town-a', 'town-qingquan'],
  );
  t.notMatch(list.body, /token/i, 'listing never shows tokens or hashes');
});

t.test('a duplicate id is GS_ERR_EDGE_EXISTS (409); a bad id is a validation error', async (t) => {
  const { app } = await testCloud(t);
  const dup = await admin(app, 'POST', '/api/v1/edges', { id: 'town-a', name: 'again' });
  t.equal(dup.statusCode, 409);
  t.equal(dup.json().code, 'GS_ERR_EDGE_EXISTS');
  try {
    await createEdge(app.db, { id: 'town-a', name: 'again' }, new ManualClock());
    t.fail('should throw');
  } catch (err) {
    t.ok(isGsError(err) && err.code === 'GS_ERR_EDGE_EXISTS' && err.status === 409);
  }
  const bad = await admin(app, 'POST', '/api/v1/edges', { id: 'has spaces', name: 'x' });
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { code: 'GS_ERR_VALIDATION', details: [{ path: '/id' }] });
});

t.test('two edges get different tokens, each accepted for its own edge only', async (t) => {
  const { app } = await testCloud(t);
  const a = await createEdge(app.db, { id: 'e1', name: 'E1' }, new ManualClock());
  const b = await createEdge(app.db, { id: 'e2', name: 'E2' }, new ManualClock());
  t.not(a.token, b.token);
  await postAlarms(app, a.token, [envelope({ alarmId: 'alarm-from-e1', deviceId: 'd1' })]);
  await postAlarms(app, b.token, [envelope({ alarmId: 'alarm-from-e2', deviceId: 'd2' })]);
  const alarms = await getJson<{ items: Array<{ alarmId: string; edgeId: string }> }>(app, '/api/v1/alarms');
  t.same(alarms.items.map((x) => [x.alarmId, x.edgeId]).sort(), [['alarm-from-e1', 'e1'], ['alarm-from-e2', 'e2']]);
});

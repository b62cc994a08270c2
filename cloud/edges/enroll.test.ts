// Edge enrollment: a one-time token traded once for the edge's own token; revocation cuts it off.
import t from 'tap';
import { createHash } from 'node:crypto';
import { SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { apiKey, call, ok } from '../fleet/test-support.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

t.test('an enrollment token is shown once, hashed at rest, and traded once for the edge token', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const issued = await call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'town-qingquan', name: '清泉镇 edge', townId: 'qingquan' } });
  t.equal(issued.statusCode, 201);
  const body = issued.json<{ edgeId: string; token: string; expiresAt: string; created: boolean; command: string }>();
  t.match(body, { edgeId: 'town-qingquan', created: true, expiresAt: '2026-07-02T08:00:00.000Z' }, 'expires in 24 h by default');
  t.match(body.token, /^gsn_[A-Za-z0-9_-]{32}$/);
  t.match(body.command, /^gridsense edge enroll http:\/\/\S+ gsn_/);
  const row = await app.db.selectFrom('edge_enrollments').selectAll().executeTakeFirstOrThrow();
  t.equal(row.token_hash, sha256(body.token));
  t.notMatch(JSON.stringify(row), body.token, 'the token itself is not stored');

  const edge = await ok<{ status: string; townId: string; enrolledAt: string | null }>(call(app, 'GET', '/api/v1/edges/town-qingquan'));
  t.match(edge, { status: 'never', townId: 'qingquan', enrolledAt: null }, 'registered, not yet enrolled');

  const first = await call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: body.token } });
  t.equal(first.statusCode, 200);
  const e = first.json<{ edgeId: string; edgeToken: string; cloudUrl: string; remoteConfig: boolean }>();
  t.match(e, { edgeId: 'town-qingquan', remoteConfig: true, cloudUrl: /^http:\/\// });
  t.match(e.edgeToken, /^gse_/);
  t.equal((await app.db.selectFrom('edges').select('token_hash').where('id', '=', 'town-qingquan').executeTakeFirstOrThrow()).token_hash, sha256(e.edgeToken));
  t.equal((await call(app, 'GET', '/api/v1/edges/config', { as: e.edgeToken })).statusCode, 200, 'the edge token works');

  const again = await call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: body.token } });
  t.equal(again.statusCode, 410);
  t.equal(again.json().code, 'GS_ERR_ENROLL_TOKEN_USED', 'a token used twice is refused with a stable code');
  const unknown = await call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: 'gsn_not-a-real-token-at-all' } });
  t.equal(unknown.statusCode, 401);
  t.equal(unknown.json().code, 'GS_ERR_ENROLL_TOKEN_INVALID');
  t.match(await ok(call(app, 'GET', '/api/v1/edges/town-qingquan')), { enrolledAt: '2026-07-01T08:00:00.000Z' });

  const audit = await app.db.selectFrom('audit_log').select(['route', 'body']).where('route', '=', '/api/v1/edges/enroll').execute();
  t.ok(audit.length > 0 && audit.every((a) => !a.body?.includes('gsn_')), 'the audit log keeps no enrollment token');
});

t.test('an expired token is refused; enrolling again (a replaced box) rotates the edge token', async (t) => {
  const { app, clock } = await testCloud(t);
  const short = await ok<{ token: string }>(call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'e1', ttlHours: 1 } }));
  clock.advance(3_600_000);
  const late = await call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: short.token } });
  t.equal(late.statusCode, 410);
  t.equal(late.json().code, 'GS_ERR_ENROLL_TOKEN_EXPIRED');

  const a = await ok<{ token: string; created: boolean }>(call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'e1' } }));
  t.equal(a.created, false, 'the edge exists already');
  const boxA = await ok<{ edgeToken: string }>(call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: a.token } }));
  const b = await ok<{ token: string }>(call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'e1' } }));
  const boxB = await ok<{ edgeToken: string }>(call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: b.token } }));
  t.not(boxA.edgeToken, boxB.edgeToken);
  t.equal((await call(app, 'GET', '/api/v1/edges/config', { as: boxA.edgeToken })).statusCode, 401, 'the old box is cut off');
  t.equal((await call(app, 'GET', '/api/v1/edges/config', { as: boxB.edgeToken })).statusCode, 200);
});

t.test('a revoked edge is refused at once on every route; it cannot enroll again', async (t) => {
  const { app, token } = await testCloud(t);
  const pending = await ok<{ token: string }>(call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'town-a' } }));
  t.equal((await call(app, 'GET', '/api/v1/edges/config', { as: token })).statusCode, 200);

  // A long-poll waiting when the edge is revoked ends with 401, not after its wait.
  const polling = call(app, 'GET', '/api/v1/edges/config?wait=20', { as: token, headers: { 'if-none-match': '"1"' } });
  for (let i = 0; i < 100 && app.fleet.watch.waiting === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const started = Date.now();
  t.equal((await call(app, 'DELETE', '/api/v1/edges/town-a')).statusCode, 204);
  const ended = await polling;
  t.equal(ended.statusCode, 401);
  t.ok(Date.now() - started < 5000, 'woken by the revocation');

  for (const [method, url, body] of [
    ['GET', '/api/v1/edges/config', undefined],
    ['POST', '/api/v1/edges/config/status', { version: 1, applied: true }],
    ['POST', '/api/v1/edges/heartbeat', { version: '1', startedAt: 0, sentAt: 0, outboxDepth: 0, deadLetters: 0, devices: [], buses: [] }],
    ['POST', '/api/v1/alarms', { alarms: [] }],
  ] as const) {
    const res = await call(app, method, url, { as: token, ...(body ? { body } : {}) });
    t.equal(res.statusCode, 401, `${method} ${url}`);
    t.equal(res.json().code, 'GS_ERR_EDGE_UNKNOWN');
  }
  t.match(await ok(call(app, 'GET', '/api/v1/edges/town-a')), { status: 'revoked', revokedAt: '2026-07-01T08:00:00.000Z' });
  const enroll = await call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: pending.token } });
  t.equal(enroll.statusCode, 409);
  t.equal(enroll.json().code, 'GS_ERR_EDGE_REVOKED', 'a token issued before the revocation is dead too');
  t.equal((await call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'town-a' } })).json().code, 'GS_ERR_EDGE_REVOKED');
  t.equal((await call(app, 'POST', '/api/v1/edges/town-a/revoke')).statusCode, 409, 'already revoked');
  t.equal((await call(app, 'POST', '/api/v1/edges/nowhere/revoke')).json().code, 'GS_ERR_EDGE_NOT_FOUND');
});

t.test('only admins enroll and revoke; a town must exist; a technician reads edges of its town', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const tech = await apiKey(app, 'technician');
  t.equal((await call(app, 'POST', '/api/v1/edges/enrollment-tokens', { as: tech, body: { edgeId: 'x' } })).statusCode, 403);
  t.equal((await call(app, 'DELETE', '/api/v1/edges/town-a', { as: tech })).statusCode, 403);
  t.equal((await call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: {} })).statusCode, 400);
  const bad = await call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'x', townId: 'atlantis' } });
  t.match(bad.json(), { code: 'GS_ERR_VALIDATION', details: [{ path: '/townId' }] });
  await ok(call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId: 'town-dongle', townId: 'dongle' } }));
  await ok(call(app, 'PATCH', '/api/v1/edges/town-a', { body: { townId: 'qingquan' } }));
  const qq = await apiKey(app, 'technician', 'qingquan');
  t.same((await ok<{ items: Array<{ id: string }> }>(call(app, 'GET', '/api/v1/edges', { as: qq }))).items.map((e) => e.id), ['town-a']);
  t.equal((await call(app, 'GET', '/api/v1/edges/town-dongle', { as: qq })).statusCode, 404, "another town's edge does not exist for it");
  t.same((await ok<{ items: Array<{ id: string }> }>(call(app, 'GET', '/api/v1/edges', { as: tech }))).items.map((e) => e.id), ['town-a', 'town-dongle']);
});

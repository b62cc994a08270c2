// Evidence in the cloud: an edge uploads a JPEG content-addressed (idempotent; garbage, a wrong hash,
// a wrong type and an oversize body refused with their codes), links it to its alarm — before or
// after the alarm arrives, or in the envelope itself — and the event lists it; the picture is served
// to credentials that see the event, a town's key only for its town. Runs on SQLite and PostgreSQL.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { EVIDENCE_MAX_BYTES } from '../../contracts/alarm.js';
import { sha256Hex } from '../../contracts/jpeg.js';
import { admin, createEdgeToken, envelope, getJson, postAlarms, SAMPLE_COUNTY, testCloud } from '../test-support.js';

const QINGQUAN = { lon: 101.04, lat: 38.8 };
const DONGLE = { lon: 101.2, lat: 38.8 };

/** A small but complete JPEG: SOI, an APP0 segment, EOI (enough for the magic checks; bytes vary by `n`). */
function jpeg(n: number): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from(`JFIF\0evidence-${n}`), Buffer.alloc(200, n), Buffer.from([0xff, 0xd9])]);
}

const put = (app: FastifyInstance, token: string, sha: string, body: Buffer | string, type = 'image/jpeg') =>
  app.inject({ method: 'PUT', url: `/api/v1/evidence/${sha}`, headers: { authorization: `Bearer ${token}`, 'content-type': type }, payload: body });

const link = (app: FastifyInstance, token: string, alarmId: string, evidence: unknown[]) =>
  app.inject({ method: 'POST', url: `/api/v1/alarms/${alarmId}/evidence`, headers: { authorization: `Bearer ${token}` }, payload: { evidence } });

const meta = (bytes: Buffer, cameraId = 'cam-1') => ({ kind: 'snapshot', cameraId, takenAt: Date.UTC(2026, 6, 1, 7, 59, 1), contentType: 'image/jpeg', sha256: sha256Hex(bytes), size: bytes.length });

async function key(app: FastifyInstance, body: Record<string, unknown>): Promise<string> {
  const res = await admin(app, 'POST', '/api/v1/api-keys', body);
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json<{ key: string }>().key;
}

interface Detail {
  id: string;
  deviceId: string;
  evidence?: Array<{ id: string; alarmId: string; cameraId: string; sha256: string; size: number; available: boolean; url: string; takenAt: string }>;
}

t.test('upload: content-addressed and idempotent; garbage refused with a code', async (t) => {
  const { app, token } = await testCloud(t);
  const pic = jpeg(1);
  const sha = sha256Hex(pic);
  const first = await put(app, token, sha, pic);
  t.equal(first.statusCode, 201, 'stored');
  t.same(first.json(), { sha256: sha, size: pic.length, created: true });
  const again = await put(app, token, sha, pic);
  t.equal(again.statusCode, 200, 'the same bytes again: nothing new');
  t.same(again.json(), { sha256: sha, size: pic.length, created: false });

  const html = Buffer.from('<html><body>502 Bad Gateway</body></html>');
  t.match((await put(app, token, sha256Hex(html), html)).json(), { code: 'GS_ERR_EVIDENCE_INVALID' }, 'an HTML page is not a JPEG');
  t.equal((await put(app, token, sha256Hex(html), html)).statusCode, 400);
  const cut = pic.subarray(0, 100);
  t.match((await put(app, token, sha256Hex(cut), cut)).json(), { code: 'GS_ERR_EVIDENCE_INVALID' }, 'a JPEG cut off before its end marker is refused');
  const other = jpeg(2);
  t.match((await put(app, token, sha, other)).json(), { code: 'GS_ERR_EVIDENCE_CHECKSUM', details: [{ path: '/sha256' }] }, 'bytes that do not match the address');
  t.match((await put(app, token, 'NOT-A-HASH', pic)).json(), { code: 'GS_ERR_VALIDATION' }, 'the address must be a hex SHA-256');
  t.equal((await put(app, token, sha, pic, 'text/plain')).statusCode, 415, 'only image/jpeg');
  t.equal((await put(app, token, sha, pic, 'application/json')).statusCode, 400, 'JSON is not a picture either');
  const huge = Buffer.concat([pic.subarray(0, 6), Buffer.alloc(EVIDENCE_MAX_BYTES), Buffer.from([0xff, 0xd9])]);
  const big = await put(app, token, sha256Hex(huge), huge);
  t.equal(big.statusCode, 413, 'larger than the limit');
  t.match(big.json(), { code: 'GS_ERR_BODY_TOO_LARGE' });
  t.equal((await put(app, 'not-a-token', sha, pic)).statusCode, 401, 'an edge token is required');
  t.equal((await link(app, token, 'bad id!', [meta(pic)])).statusCode, 400, 'a malformed alarm id');
  t.match((await link(app, token, 'alarm-ev-0001', [{ ...meta(pic), sha256: 'x' }])).json(), { code: 'GS_ERR_VALIDATION' }, 'a malformed link');
  t.equal((await app.inject({ url: '/healthz' })).statusCode, 200, 'still serving');
});

t.test('linked to its alarm before or after it arrives, listed with the event, served within town scope', async (t) => {
  const { app, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const q = jpeg(3);
  const d = jpeg(4);
  const late = jpeg(5);
  t.equal((await put(app, token, sha256Hex(q), q)).statusCode, 201);
  t.equal((await put(app, token, sha256Hex(d), d)).statusCode, 201);

  // Qingquan: the link comes first (the picture was quicker than the alarm's upload), then the alarm.
  t.same((await link(app, token, 'alarm-ev-qing', [meta(q, 'cam-q')])).json(), { linked: 1, duplicates: 0 });
  t.same((await link(app, token, 'alarm-ev-qing', [meta(q, 'cam-q')])).json(), { linked: 0, duplicates: 1 }, 'a retried link changes nothing');
  t.equal((await postAlarms(app, token, [envelope({ alarmId: 'alarm-ev-qing', deviceId: 'smoke-q', type: 'smoke_alarm', location: QINGQUAN })])).statusCode, 200);
  // Dongle: the envelope carries its evidence itself; a later picture follows by link (bytes not yet uploaded).
  t.equal((await postAlarms(app, token, [envelope({ alarmId: 'alarm-ev-dong', deviceId: 'smoke-d', type: 'smoke_alarm', location: DONGLE, evidence: [meta(d, 'cam-d')] as never })])).statusCode, 200);
  t.same((await link(app, token, 'alarm-ev-dong', [meta(late, 'cam-d2')])).json(), { linked: 1, duplicates: 0 });

  const { items } = await getJson<{ items: Array<{ id: string; deviceId: string }> }>(app, '/api/v1/events');
  const qEvent = await getJson<Detail>(app, `/api/v1/events/${items.find((e) => e.deviceId === 'smoke-q')!.id}`);
  const dEvent = await getJson<Detail>(app, `/api/v1/events/${items.find((e) => e.deviceId === 'smoke-d')!.id}`);
  t.match(qEvent.evidence, [{ cameraId: 'cam-q', sha256: sha256Hex(q), size: q.length, available: true, takenAt: '2026-07-01T07:59:01.000Z' }], 'the Qingquan event lists its picture');
  t.match(dEvent.evidence, [{ cameraId: 'cam-d', available: true }, { cameraId: 'cam-d2', available: false }], 'the Dongle event: one picture uploaded, one still on its way');
  const qEv = qEvent.evidence![0]!;
  t.equal(qEv.url, `/api/v1/evidence/${qEv.id}`);

  const res = await app.inject({ url: qEv.url, headers: { authorization: 'Bearer gsa_test-admin-token' } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['content-type'], 'image/jpeg');
  t.same(res.rawPayload, q, 'the bytes uploaded');
  t.equal(res.headers.etag, `"${sha256Hex(q)}"`);
  t.match((await app.inject({ url: dEvent.evidence![1]!.url, headers: { authorization: 'Bearer gsa_test-admin-token' } })).json(), { code: 'GS_ERR_EVIDENCE_NOT_FOUND', message: /not been uploaded yet/ });

  const qingquan = await key(app, { name: 'qingquan-desk', role: 'dispatcher', townId: 'qingquan' });
  const dongle = await key(app, { name: 'dongle-desk', role: 'dispatcher', townId: 'dongle' });
  const county = await key(app, { name: 'platform', role: 'integrator' });
  const as = (k: string, url: string) => app.inject({ url, headers: { authorization: `Bearer ${k}` } });
  t.equal((await as(qingquan, qEv.url)).statusCode, 200, "Qingquan's key sees Qingquan's picture");
  const refused = await as(dongle, qEv.url);
  t.equal(refused.statusCode, 404, "Dongle's key does not: as if it did not exist");
  t.match(refused.json(), { code: 'GS_ERR_EVIDENCE_NOT_FOUND' });
  t.equal((await as(county, qEv.url)).statusCode, 200, 'a county-wide key sees every town');
  t.equal((await as(qingquan, dEvent.evidence![0]!.url)).statusCode, 404, "and Qingquan's key not Dongle's");
  t.equal((await as(qingquan, '/api/v1/evidence/01NOPE')).statusCode, 404, 'an unknown id');
  t.equal((await app.inject({ url: qEv.url })).statusCode, 401, 'a credential is required');
  const noScope = await key(app, { name: 'grids-only', role: 'integrator', scopes: ['grids:read'] });
  t.equal((await as(noScope, qEv.url)).statusCode, 403, 'and it must read events');
});

t.test("an edge links only to its own alarms: another edge's alarm with the same id is another alarm", async (t) => {
  const { app, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const other = await createEdgeToken(app, 'town-b');
  const pic = jpeg(6);
  await put(app, token, sha256Hex(pic), pic);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-shared-id', deviceId: 'smoke-a', location: QINGQUAN })]);
  // town-b links the same bytes (it knows the hash) to an alarm id that town-a used.
  t.same((await link(app, other, 'alarm-shared-id', [meta(pic)])).json(), { linked: 1, duplicates: 0 });
  const { items } = await getJson<{ items: Array<{ id: string }> }>(app, '/api/v1/events');
  const detail = await getJson<Detail>(app, `/api/v1/events/${items[0]!.id}`);
  t.same(detail.evidence, [], "town-a's alarm has no evidence from town-b");
});

// Signing keys and artifacts: upload with checksum and Ed25519 checks (good, damaged, unsigned,
// wrong key, revoked key, tampered manifest, duplicate), stored in chunks, downloaded by an edge with
// Range (resume across chunk boundaries, suffix, 416), only by an edge that has a job for it.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { signManifest, sha256Hex } from '../../contracts/firmware.js';
import { testCloud } from '../test-support.js';
import { apiKey, call, enrolledEdge, ok } from '../fleet/test-support.js';
import { addKey, campaign, gauges, image, keyPair, PROFILE, upload, uploaded } from './test-support.js';
import { CHUNK_SIZE } from './artifacts.js';
import { parseRange } from './range.js';

t.test('signing keys: admin registers Ed25519 public keys; private, RSA and garbage keys are refused; revocable', async (t) => {
  const { app } = await testCloud(t);
  const k = keyPair();
  const added = await ok<{ keyId: string; revokedAt: string | null }>(call(app, 'POST', '/api/v1/firmware/keys', { body: { name: 'county 2026', publicKey: k.pub } }), 201);
  t.equal(added.keyId, k.keyId);
  t.equal(added.revokedAt, null);
  t.match((await call(app, 'POST', '/api/v1/firmware/keys', { body: { name: 'again', publicKey: k.pub } })).json(), { code: 'GS_ERR_FIRMWARE_KEY_EXISTS' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  for (const [what, pem] of [['private', k.priv], ['rsa', rsa], ['garbage', '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n']] as const) {
    const res = await call(app, 'POST', '/api/v1/firmware/keys', { body: { name: what, publicKey: pem } });
    t.equal(res.statusCode, 400, what);
    t.equal(res.json<{ code: string }>().code, 'GS_ERR_FIRMWARE_KEY_INVALID', what);
  }
  const tech = await apiKey(app, 'technician');
  t.equal((await call(app, 'POST', '/api/v1/firmware/keys', { as: tech, body: { name: 'mine', publicKey: keyPair().pub } })).statusCode, 403, 'only an admin adds keys');
  t.equal((await ok<{ items: unknown[] }>(call(app, 'GET', '/api/v1/firmware/keys', { as: tech }))).items.length, 1, 'a technician reads them');
  const revoked = await ok<{ revokedAt: string | null }>(call(app, 'DELETE', `/api/v1/firmware/keys/${k.keyId}`));
  t.ok(revoked.revokedAt);
  t.equal((await call(app, 'DELETE', '/api/v1/firmware/keys/0123456789abcdef')).statusCode, 404);
});

t.test('upload: good, damaged, unsigned, wrong key, revoked key, tampered, duplicate, wrong media type, roles', async (t) => {
  const { app } = await testCloud(t);
  const k = keyPair();
  await addKey(app, k);
  const img = image(CHUNK_SIZE * 2 + 1000);

  const good = await upload(app, k, img);
  t.equal(good.statusCode, 201, good.body);
  const a = good.json<{ id: string; sha256: string; size: number; keyId: string; profiles: string[]; downloadPath: string }>();
  t.match(a, { sha256: sha256Hex(img), size: img.length, keyId: k.keyId, profiles: [PROFILE], version: '2.0.0' });
  t.equal(a.downloadPath, `/api/v1/edges/firmware/artifacts/${a.id}`);
  t.same(await ok(call(app, 'GET', `/api/v1/firmware/artifacts/${a.id}`)), a);

  const code = (res: { json: <T>() => T }) => res.json<{ code: string }>().code;
  const damaged = await upload(app, k, img, { version: '2.0.1', sha256: sha256Hex(Buffer.from('another file')) });
  t.equal(damaged.statusCode, 400);
  t.equal(code(damaged), 'GS_ERR_FIRMWARE_CHECKSUM');
  const unsigned = await upload(app, k, img, { version: '2.0.2', signature: null });
  t.equal(unsigned.statusCode, 400);
  t.equal(code(unsigned), 'GS_ERR_FIRMWARE_SIGNATURE');
  const stranger = keyPair();
  t.equal(code(await upload(app, stranger, img, { version: '2.0.3' })), 'GS_ERR_FIRMWARE_SIGNATURE', 'signed by a key nobody registered');
  t.equal(code(await upload(app, stranger, img, { version: '2.0.3', keyId: null })), 'GS_ERR_FIRMWARE_SIGNATURE', 'no key id: no trusted key verifies either');
  const replay = signManifest({ version: '2.0.0', sha256: sha256Hex(img), size: img.length, profiles: [PROFILE] }, k.priv);
  t.equal(code(await upload(app, k, img, { version: '9.9.9', signature: replay })), 'GS_ERR_FIRMWARE_SIGNATURE', "2.0.0's signature does not make it 9.9.9");
  t.equal(code(await upload(app, k, img, { version: '2.0.4', signature: 'bm90IGEgc2lnbmF0dXJl' })), 'GS_ERR_FIRMWARE_SIGNATURE', 'garbage signature');

  const dup = await upload(app, k, img);
  t.equal(dup.statusCode, 409);
  t.equal(code(dup), 'GS_ERR_FIRMWARE_ARTIFACT_EXISTS');
  t.equal((await upload(app, k, img, { profiles: ['generic/nb-smoke-detector'] })).statusCode, 201, 'the same version of another model is another artifact');
  t.equal((await upload(app, k, img, { version: '2.1.0', keyId: null })).statusCode, 201, 'without keyId the trusted keys are tried');

  const json = await upload(app, k, img, { version: '2.2.0', contentType: 'application/json' });
  t.equal(json.statusCode, 400, 'JSON parser sees bytes: malformed');
  const text = await app.inject({ method: 'POST', url: '/api/v1/firmware/artifacts?version=1&profiles=a&sha256=' + 'a'.repeat(64), headers: { authorization: 'Bearer gsa_test-admin-token', 'content-type': 'application/x-foo' }, payload: 'x' });
  t.equal(text.statusCode, 415);
  t.equal((await upload(app, k, img, { version: '2.2.0', profiles: ['a b'], signature: 'AAAA' })).statusCode, 400, 'a profile id with a space');

  const auditor = await apiKey(app, 'auditor');
  t.equal((await upload(app, k, img, { version: '2.3.0', as: auditor })).statusCode, 403, 'an auditor cannot upload');
  const tech = await apiKey(app, 'technician');
  t.equal((await upload(app, k, img, { version: '2.3.0', as: tech })).statusCode, 201, 'a technician can');

  await ok(call(app, 'DELETE', `/api/v1/firmware/keys/${k.keyId}`));
  t.equal(code(await upload(app, k, img, { version: '2.4.0' })), 'GS_ERR_FIRMWARE_SIGNATURE', 'a revoked key signs nothing any more');

  const audit = await ok<{ items: Array<{ route: string; status: number; body: unknown }> }>(call(app, 'GET', '/api/v1/audit?limit=200'));
  const uploads = audit.items.filter((i) => i.route === '/api/v1/firmware/artifacts');
  t.ok(uploads.length >= 10, 'every upload is audited, refused ones too');
  t.same(uploads.find((i) => i.status === 201)?.body, { bytes: img.length }, 'the audit log holds the size…');
  t.same(uploads.filter((i) => JSON.stringify(i.body ?? null).length > 100), [], '…never the bytes');
});

t.test('download: only for an edge with a job; whole, ranges, resume across chunks, suffix, 416', async (t) => {
  const { app, token } = await testCloud(t);
  const k = keyPair();
  await addKey(app, k);
  const img = image(CHUNK_SIZE * 2 + 1000, 11);
  const id = await uploaded(app, k, img);
  const path = `/api/v1/edges/firmware/artifacts/${id}`;
  await gauges(app, 'town-a', 'wl', 1);
  const other = await enrolledEdge(app, 'town-b');

  t.equal((await call(app, 'GET', path, { as: token })).statusCode, 404, 'no job yet: nothing to download');
  await campaign(app, { artifactId: id, waves: [{ share: 1 }], start: true });
  t.equal((await call(app, 'GET', path, { as: other })).statusCode, 404, 'an edge without a job for it');
  t.equal((await call(app, 'GET', path, { as: 'gse_nope' })).statusCode, 401);

  const whole = await call(app, 'GET', path, { as: token });
  t.equal(whole.statusCode, 200);
  t.equal(whole.headers['accept-ranges'], 'bytes');
  t.equal(whole.headers.etag, `"${sha256Hex(img)}"`);
  t.equal(Number(whole.headers['content-length']), img.length);
  t.ok(whole.rawPayload.equals(img), 'byte for byte');

  const get = (range: string) => call(app, 'GET', path, { as: token, headers: { range } });
  const head = await get('bytes=0-99');
  t.equal(head.statusCode, 206);
  t.equal(head.headers['content-range'], `bytes 0-99/${img.length}`);
  t.ok(head.rawPayload.equals(img.subarray(0, 100)));

  // A download broken off inside the first chunk resumes from where it stopped, across two boundaries.
  const from = CHUNK_SIZE - 17;
  const rest = await get(`bytes=${from}-`);
  t.equal(rest.statusCode, 206);
  t.equal(rest.headers['content-range'], `bytes ${from}-${img.length - 1}/${img.length}`);
  t.ok(Buffer.concat([img.subarray(0, from), rest.rawPayload]).equals(img), 'the two parts make the image');
  const middle = await get(`bytes=${CHUNK_SIZE - 1}-${CHUNK_SIZE}`);
  t.ok(middle.rawPayload.equals(img.subarray(CHUNK_SIZE - 1, CHUNK_SIZE + 1)), 'two bytes either side of a boundary');
  t.ok((await get('bytes=-10')).rawPayload.equals(img.subarray(-10)), 'the last 10 bytes');
  t.equal((await get(`bytes=0-${img.length + 500}`)).rawPayload.length, img.length, 'an end past the image is cut to it');
  t.equal((await get('bytes=0-1,5-6')).statusCode, 200, 'several ranges: the whole image');

  for (const bad of [`bytes=${img.length}-`, 'bytes=abc', 'bytes=10-5', 'items=0-1', 'bytes=-0']) {
    const res = await get(bad);
    t.equal(res.statusCode, 416, bad);
    t.equal(res.headers['content-range'], `bytes */${img.length}`, bad);
    t.equal(res.json<{ code: string }>().code, 'GS_ERR_FIRMWARE_RANGE', bad);
  }
});

t.test('parseRange by itself', async (t) => {
  t.same(parseRange(undefined, 10), { kind: 'full' });
  t.same(parseRange('bytes=2-', 10), { kind: 'partial', start: 2, end: 9 });
  t.same(parseRange('bytes=-3', 10), { kind: 'partial', start: 7, end: 9 });
  t.same(parseRange('bytes=-30', 10), { kind: 'partial', start: 0, end: 9 });
  t.same(parseRange('bytes=9-9', 10), { kind: 'partial', start: 9, end: 9 });
  t.same(parseRange('bytes=10-10', 10), { kind: 'unsatisfiable' });
  t.same(parseRange('bytes=-', 10), { kind: 'unsatisfiable' });
});

t.test('OpenAPI documents every firmware route with tags, summary and its answers', async (t) => {
  const { app } = await testCloud(t);
  const doc = (await app.inject({ url: '/docs/json' })).json<{ paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>> }>();
  const routes = [
    'POST /api/v1/firmware/keys',
    'GET /api/v1/firmware/keys',
    'DELETE /api/v1/firmware/keys/{id}',
    'POST /api/v1/firmware/artifacts',
    'GET /api/v1/firmware/artifacts',
    'GET /api/v1/firmware/artifacts/{id}',
    'POST /api/v1/firmware/campaigns',
    'GET /api/v1/firmware/campaigns',
    'GET /api/v1/firmware/campaigns/{id}',
    'GET /api/v1/firmware/campaigns/{id}/jobs',
    'POST /api/v1/firmware/campaigns/{id}/start',
    'POST /api/v1/firmware/campaigns/{id}/pause',
    'POST /api/v1/firmware/campaigns/{id}/resume',
    'POST /api/v1/firmware/campaigns/{id}/abort',
    'GET /api/v1/edges/firmware/jobs',
    'GET /api/v1/edges/firmware/artifacts/{artifactId}',
    'POST /api/v1/edges/firmware/jobs/{jobId}/report',
  ];
  for (const route of routes) {
    const [method, path] = route.split(' ') as [string, string];
    const op = doc.paths[path]?.[method.toLowerCase()];
    t.ok(op?.tags?.includes('firmware') && op.summary, `${route}: documented`);
    t.ok(op?.responses['200'] ?? op?.responses['201'], `${route}: success response`);
  }
  t.match(JSON.stringify(doc.paths['/api/v1/edges/firmware/jobs/{jobId}/report']!.post!.responses['409']), /ErrorBody/);
});

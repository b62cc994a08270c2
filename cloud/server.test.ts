import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud } from './server.js';
import { resolveOptions, DEFAULT_BODY_LIMIT } from './config.js';
import { ADMIN, TEST_PG, testDatabase } from './test-support.js';

t.test('startCloud on port 0 with a database file (or PostgreSQL): real URL, data survives a restart, close is idempotent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-cloud-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = TEST_PG ? await testDatabase(t, { shared: true }) : join(dir, 'nested', 'cloud.db');
  const first = await startCloud({ port: 0, db, adminToken: ADMIN });
  t.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(first.url, 'http://127.0.0.1:0');
  const created = await fetch(`${first.url}/api/v1/edges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({ id: 'town-a', name: 'A' }),
  });
  t.equal(created.status, 201);
  if (!TEST_PG) t.ok(existsSync(`${db}-wal`), 'WAL mode');
  await Promise.all([first.close(), first.close()]);
  await first.close();

  const second = await startCloud({ port: 0, db, adminToken: ADMIN });
  t.teardown(() => second.close());
  const list = await fetch(`${second.url}/api/v1/edges`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.same(((await list.json()) as { items: Array<{ id: string }> }).items.map((e) => e.id), ['town-a'], 'migrations ran once; data kept');
  t.equal((await fetch(`${second.url}/healthz`)).status, 200);
});

t.test('a port in use is an error, and nothing is left open', async (t) => {
  const db = await testDatabase(t);
  const a = await startCloud({ port: 0, db });
  t.teardown(() => a.close());
  await t.rejects(startCloud({ port: Number(new URL(a.url).port), db }), { code: 'EADDRINUSE' });
});

t.test('options: given > environment > defaults', async (t) => {
  const env = { GRIDSENSE_DB: '/tmp/x.db', GRIDSENSE_ADMIN_TOKEN: 'env-admin', GRIDSENSE_BODY_LIMIT: '2048' };
  t.match(resolveOptions({}, env), { db: '/tmp/x.db', adminToken: 'env-admin', bodyLimit: 2048 });
  t.match(resolveOptions({ db: ':memory:', adminToken: 'given', bodyLimit: 4096 }, env), { db: ':memory:', adminToken: 'given', bodyLimit: 4096 });
  t.match(resolveOptions({}, {}), { db: './data/cloud.db', adminToken: undefined, bodyLimit: DEFAULT_BODY_LIMIT, logger: false });
  t.throws(() => resolveOptions({ bodyLimit: 10 }, {}), { code: 'GS_ERR_CONFIG_INVALID' });
  t.throws(() => resolveOptions({}, { GRIDSENSE_BODY_LIMIT: 'lots' }), { code: 'GS_ERR_CONFIG_INVALID' });
});

t.test('a PostgreSQL URL that is not valid or not reachable fails the start, and nothing is left open', async (t) => {
  await t.rejects(startCloud({ port: 0, db: 'postgres://[::1/gridsense' }), { code: 'GS_ERR_CONFIG_INVALID' });
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  await t.rejects(startCloud({ port: 0, db: 'postgresql://gridsense:secret@127.0.0.1:1/gridsense' }), { code: 'ECONNREFUSED' });
});

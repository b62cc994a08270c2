// Which database a URL opens, what the logs may say about it, and (on PostgreSQL, GRIDSENSE_TEST_PG)
// that values come back as the code expects them: BIGINT, COUNT and AVG as numbers.
import t from 'tap';
import { sql } from 'kysely';
import { describePostgres, openDatabase } from './open.js';
import { migrateToLatest } from './migrate.js';
import { TEST_PG, testDatabase, withSearchPath } from './test-database.js';

t.test('SQLite: a path, a sqlite: URL, :memory:; an empty path is a config error', async (t) => {
  const mem = openDatabase(':memory:');
  t.teardown(() => mem.db.destroy());
  t.equal(mem.kind, 'sqlite');
  t.equal(mem.describe, 'sqlite::memory:');
  t.equal(mem.listen, undefined, 'nothing to listen to');
  t.throws(() => openDatabase('sqlite:'), { code: 'GS_ERR_CONFIG_INVALID' });
});

t.test('PostgreSQL URLs open the PostgreSQL dialect; the description never carries a password', async (t) => {
  for (const url of ['postgres://gs:s3cret@db.example:5433/gridsense', 'postgresql://gs:s3cret@db.example:5433/gridsense?password=s3cret&sslmode=require&options=-c%20search_path%3Dcounty']) {
    const o = openDatabase(url);
    t.equal(o.kind, 'postgres');
    t.notMatch(o.describe, /s3cret/, 'no password in the description');
    t.match(o.describe, /^postgres:\/\/gs@db\.example:5433\/gridsense/);
    t.type(o.listen, 'function');
    await o.db.destroy(); // never connected: nothing to close
  }
  t.equal(describePostgres('postgresql://gs:pw@h/db?options=-c%20search_path%3Dx&sslpassword=pw'), 'postgres://gs@h/db?options=-c+search_path%3Dx');
  t.throws(() => openDatabase('postgres://[::1/x'), { code: 'GS_ERR_CONFIG_INVALID' });
});

t.test('PostgreSQL: BIGINT, COUNT, SUM and AVG come back as numbers; migrations are idempotent', { skip: TEST_PG ? false : 'PostgreSQL only (GRIDSENSE_TEST_PG)' }, async (t) => {
  const url = await testDatabase(t);
  const { db } = openDatabase(url);
  t.teardown(() => db.destroy());
  t.ok((await migrateToLatest(db)).length >= 6, 'every migration applied');
  t.same(await migrateToLatest(db), [], 'nothing left to apply the second time');
  const ts = Date.UTC(2026, 6, 1);
  await db.insertInto('edges').values({ id: 'e1', name: 'E', token_hash: 'h', created_at: ts, revoked_at: null }).execute();
  const row = await db.selectFrom('edges').select('created_at').executeTakeFirstOrThrow();
  t.equal(row.created_at, ts, 'BIGINT → number');
  const agg = await sql<{ n: unknown; s: unknown; a: unknown }>`select count(*) as n, sum(created_at) as s, avg(created_at) as a from edges`.execute(db);
  t.same(agg.rows[0], { n: 1, s: ts, a: ts }, 'COUNT (int8), SUM (numeric), AVG (numeric) → numbers');

  // Introspection (the Migrator's) sees this schema only, so other schemas coming and going in the
  // same database cannot disturb a start.
  const tables = await db.introspection.getTables();
  const names = tables.map((x) => x.name);
  t.ok(['alarms', 'events', 'event_feed', 'edges'].every((n) => names.includes(n)), 'the cloud tables');
  t.equal(new Set(names).size, names.length, 'each once, though other test schemas have the same tables');
  t.ok(tables.every((x) => x.schema === new URL(url).searchParams.get('options')!.match(/search_path=(\w+)/)![1]), 'all in this schema');
  t.notOk(names.includes('kysely_migration'), 'Kysely tables only when asked for');
  t.match(tables.find((x) => x.name === 'event_feed')!.columns.find((c) => c.name === 'seq'), { dataType: 'bigint', isAutoIncrementing: true, isNullable: false });
  t.ok((await db.introspection.getTables({ withInternalKyselyTables: true })).some((x) => x.name === 'kysely_migration'));
});

t.test('PostgreSQL: a search_path naming no existing schema is a clear config error', { skip: TEST_PG ? false : 'PostgreSQL only (GRIDSENSE_TEST_PG)' }, async (t) => {
  const { db } = openDatabase(withSearchPath(TEST_PG!, 'gs_test_does_not_exist'));
  t.teardown(() => db.destroy());
  await t.rejects(migrateToLatest(db), { code: 'GS_ERR_CONFIG_INVALID' });
});

t.test('PostgreSQL: listen hears NOTIFY on its channel, and stops when unlistened', { skip: TEST_PG ? false : 'PostgreSQL only (GRIDSENSE_TEST_PG)' }, async (t) => {
  const o = openDatabase(await testDatabase(t));
  t.teardown(() => o.db.destroy());
  let heard = 0;
  const errors: unknown[] = [];
  const unlisten = await o.listen!('gs_test_channel', () => heard++, (err) => errors.push(err));
  await sql`select pg_notify('gs_test_channel', 'x')`.execute(o.db);
  await sql`select pg_notify('gs_other_channel', 'x')`.execute(o.db);
  for (let i = 0; i < 100 && heard === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(heard, 1, 'heard its channel only');
  await unlisten();
  await sql`select pg_notify('gs_test_channel', 'x')`.execute(o.db);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(heard, 1, 'nothing after unlisten');
  t.same(errors, []);
});

t.test('PostgreSQL: a listening connection that is cut reconnects and listens again', { skip: TEST_PG ? false : 'PostgreSQL only (GRIDSENSE_TEST_PG)' }, async (t) => {
  const o = openDatabase(await testDatabase(t));
  t.teardown(() => o.db.destroy());
  const channel = `gs_test_${Date.now().toString(36)}`;
  let heard = 0;
  const errors: unknown[] = [];
  const unlisten = await o.listen!(channel, () => heard++, (err) => errors.push(err));
  t.teardown(unlisten);
  const until = async (ok: () => boolean) => {
    for (let i = 0; i < 300 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  const cut = await sql<{ n: number }>`select count(pg_terminate_backend(pid)) as n from pg_stat_activity where query = ${`LISTEN "${channel}"`}`.execute(o.db);
  t.equal(cut.rows[0]!.n, 1, 'the listening connection was terminated');
  await until(() => errors.length > 0 && heard > 0);
  t.ok(errors.length > 0, 'the loss was reported');
  t.equal(heard, 1, 'after reconnecting it looks once (notifications sent meanwhile were lost)');
  await sql`select pg_notify(${channel}, '')`.execute(o.db);
  await until(() => heard > 1);
  t.equal(heard, 2, 'and hears notifications again');
});

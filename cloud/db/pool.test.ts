// The PostgreSQL pool size: from the option, else GRIDSENSE_DB_POOL, else 10; a bad value is a
// config error; on PostgreSQL (GRIDSENSE_TEST_PG) the pool really opens no more connections than that.
import t from 'tap';
import { sql } from 'kysely';
import { DEFAULT_POOL_SIZE, openDatabase, poolSizeOf } from './open.js';
import { TEST_PG, testDatabase } from './test-database.js';

t.test('option, then GRIDSENSE_DB_POOL, then the default', async (t) => {
  t.equal(poolSizeOf(undefined, {}), DEFAULT_POOL_SIZE);
  t.equal(poolSizeOf(undefined, { GRIDSENSE_DB_POOL: ' 25 ' }), 25);
  t.equal(poolSizeOf(4, { GRIDSENSE_DB_POOL: '25' }), 4, 'the option wins');
  t.equal(poolSizeOf(undefined, { GRIDSENSE_DB_POOL: '' }), DEFAULT_POOL_SIZE, 'empty = unset');
});

t.test('a pool size that is not a whole number from 1 to 1000 is GS_ERR_CONFIG_INVALID', async (t) => {
  for (const bad of ['0', '-3', '2.5', 'ten', '1001']) {
    t.throws(() => poolSizeOf(undefined, { GRIDSENSE_DB_POOL: bad }), { code: 'GS_ERR_CONFIG_INVALID', details: [{ path: 'GRIDSENSE_DB_POOL' }] }, bad);
  }
  t.throws(() => poolSizeOf(0, {}), { code: 'GS_ERR_CONFIG_INVALID', details: [{ path: 'poolSize' }] });
  t.throws(() => openDatabase('postgres://gs@db.example/x', { poolSize: 0 }), { code: 'GS_ERR_CONFIG_INVALID' });
  t.equal(openDatabase(':memory:', { poolSize: 0 }).poolSize, undefined, 'SQLite has no pool: the option does not apply');
});

t.test('PostgreSQL: a pool of 2 serves 6 parallel queries over at most 2 connections', { skip: TEST_PG ? false : 'PostgreSQL only (GRIDSENSE_TEST_PG)' }, async (t) => {
  const o = openDatabase(await testDatabase(t), { poolSize: 2 });
  t.teardown(() => o.db.destroy());
  t.equal(o.poolSize, 2);
  const pids = await Promise.all(
    Array.from({ length: 6 }, async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(o.db)).rows[0]!.pid),
  );
  t.equal(pids.length, 6, 'every query answered');
  t.ok(new Set(pids).size <= 2, `${new Set(pids).size} connection(s) used`);
});

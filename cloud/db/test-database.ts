// Databases for tests (not a test file itself). Without GRIDSENSE_TEST_PG the cloud's tests run on
// SQLite; with it (e.g. postgres://postgres@127.0.0.1:5432/postgres) every test database is a fresh
// PostgreSQL schema of its own in that database, reached through the URL's search_path, and dropped
// when the test ends: tests never see each other's rows and may run in parallel.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

interface Tap {
  teardown(fn: () => unknown): void;
}

/** The PostgreSQL the tests run on, or undefined for SQLite. */
export const TEST_PG: string | undefined = process.env.GRIDSENSE_TEST_PG || undefined;

/** Every schema a test makes starts so; nothing else is ever dropped. */
export const TEST_SCHEMA_PREFIX = 'gs_test_';

let adminPool: pg.Pool | undefined;

/** One small pool per test process for CREATE/DROP SCHEMA; it lets the process exit when idle. */
function admin(url: string): pg.Pool {
  if (!adminPool) {
    adminPool = new pg.Pool({ connectionString: url, max: 2, allowExitOnIdle: true, application_name: 'gridsense-tests' });
    adminPool.on('error', () => undefined);
  }
  return adminPool;
}

/**
 * `url` with `options=-c search_path=<schema>` (replacing any options it had). `synchronousCommit:
 * false` adds `-c synchronous_commit=off`: commits stop waiting for the disk (only a server crash
 * could lose the last of them), which tests do not care about and which makes them much faster.
 */
export function withSearchPath(url: string, schema: string, o: { synchronousCommit?: boolean } = {}): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}${o.synchronousCommit === false ? ' -c synchronous_commit=off' : ''}`);
  return u.toString();
}

/**
 * A database URL for one test, empty and its own. `shared`: one that two cloud instances (or a
 * restart) can open — a SQLite file in a temp dir rather than `:memory:`. Registers its clean-up as
 * a teardown, so register it before the teardowns of the apps using it (tap runs them last first).
 */
export async function testDatabase(t: Tap, opts: { shared?: boolean } = {}): Promise<string> {
  if (TEST_PG) {
    const { url, drop } = await createTestSchema(TEST_PG);
    // Not awaited: the test is over; the pool keeps the process alive until the drop is done.
    t.teardown(() => void drop());
    return url;
  }
  if (!opts.shared) return ':memory:';
  const dir = mkdtempSync(join(tmpdir(), 'gs-test-db-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'cloud.db');
}

/** A new empty schema in the database of `serverUrl`: the URL that uses it, and how to drop it (never throws). */
export async function createTestSchema(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  // The time in the name lets a later run sweep schemas a killed run left behind (sweepTestSchemas).
  const schema = `${TEST_SCHEMA_PREFIX}${Date.now().toString(36)}_${randomBytes(5).toString('hex')}`;
  const pool = admin(serverUrl);
  await pool.query(`CREATE SCHEMA ${schema}`);
  return {
    url: withSearchPath(serverUrl, schema, { synchronousCommit: false }),
    drop: () => pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined, () => undefined),
  };
}

/** Drops test schemas older than `olderThanMs` (left by killed runs). Only `gs_test_*` schemas are touched. */
export async function sweepTestSchemas(url: string, olderThanMs: number, now = Date.now()): Promise<string[]> {
  const pool = admin(url);
  const { rows } = await pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gs\\_test\\_%'`);
  const dropped: string[] = [];
  for (const { nspname } of rows) {
    const m = /^gs_test_([0-9a-z]+)_[0-9a-f]{10}$/.exec(nspname);
    if (!m || now - parseInt(m[1]!, 36) < olderThanMs) continue;
    await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(nspname)} CASCADE`);
    dropped.push(nspname);
  }
  return dropped;
}

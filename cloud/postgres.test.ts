// The cloud's tests a second time, on PostgreSQL: `npm test` runs every test on SQLite, and this file
// runs the cloud's test files again with GRIDSENSE_TEST_PG set, so every cloud app a test builds gets
// a fresh PostgreSQL schema of its own (cloud/db/test-database.ts). Without a reachable PostgreSQL it
// prints "SKIP: needs PostgreSQL …" (a failure under REQUIRE_SERVICES=1, as in CI).
// The server: postgres://postgres@127.0.0.1:5432/postgres, or GRIDSENSE_TEST_PG_URL.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { needs } from '../test/helpers/services.js';
import { describePostgres } from './db/open.js';
import { sweepTestSchemas } from './db/test-database.js';

const URL_TO_USE = process.env.GRIDSENSE_TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLOUD = join(ROOT, 'cloud');
const SELF = fileURLToPath(import.meta.url);
/** Schemas of killed runs older than this are dropped first (a run takes minutes). */
const STALE_MS = 6 * 3_600_000;

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The environment of a tap run of our own: tap's variables for this child removed, the database set. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TAP|_TAPJS)/.test(k)) env[k] = v;
  const nodeOptions = (env.NODE_OPTIONS ?? '').split(/\s+/).filter((o) => o && !o.includes('@tapjs'));
  if (nodeOptions.length > 0) env.NODE_OPTIONS = nodeOptions.join(' ');
  else delete env.NODE_OPTIONS;
  env.GRIDSENSE_TEST_PG = URL_TO_USE;
  return env;
}

// The whole pass runs inside this one test file: give it the time the pass needs (the root test's
// timeout is the one the tap runner enforces on this file).
t.setTimeout(30 * 60_000);

/** Each `not ok` of the TAP output with the lines that explain it (at most 40 each). */
function failures(tap: string): string {
  const lines = tap.split('\n');
  const picked: string[] = [];
  lines.forEach((line, i) => {
    if (/^\s*not ok /.test(line)) picked.push(...lines.slice(i, i + 40), '');
  });
  return picked.slice(0, 800).join('\n');
}

t.test('the cloud test suite on PostgreSQL', async (t) => {
  if (process.env.GRIDSENSE_TEST_PG) {
    t.pass('this run already uses PostgreSQL (GRIDSENSE_TEST_PG is set): nothing to run twice', { skip: 'already on PostgreSQL' });
    return;
  }
  if (!(await needs(t, `PostgreSQL at ${describePostgres(URL_TO_USE)} (another: GRIDSENSE_TEST_PG_URL)`, () => reachable(URL_TO_USE)))) return;
  const swept = await sweepTestSchemas(URL_TO_USE, STALE_MS);
  if (swept.length > 0) t.comment(`dropped ${swept.length} test schema(s) left by killed runs`);

  const files = (readdirSync(CLOUD, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(CLOUD, f))
    .filter((f) => f !== SELF)
    .map((f) => relative(ROOT, f))
    .sort();
  t.ok(files.length > 10, `${files.length} test files`);

  const started = Date.now();
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tap'), ['--reporter=tap', '--disable-coverage', '--jobs=2', ...files], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  // If this file is stopped (a timeout, Ctrl-C), the run it started stops with it.
  const stop = () => child.kill('SIGTERM');
  process.once('exit', stop);
  t.teardown(() => process.off('exit', stop));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  const summary = /\{ total: .*\}/.exec(out)?.[0] ?? '(no summary)';
  t.comment(`PostgreSQL pass: ${summary} in ${seconds} s`);
  if (code !== 0) {
    const log = join(tmpdir(), `gridsense-postgres-pass-${process.pid}.tap`);
    writeFileSync(log, out);
    process.stderr.write(`\n--- the cloud tests on PostgreSQL: what failed (all of it: ${log}) ---\n${failures(out)}\n---\n`);
  }
  t.equal(code, 0, `every cloud test passes on PostgreSQL too: ${summary}`);
});

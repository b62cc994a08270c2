// Alarm → grid event → live client: alarms per second through POST /api/v1/alarms, and the latency
// from the POST leaving the client to the event.opened message reaching an SSE client, on SQLite and
// (when a PostgreSQL is reachable) on PostgreSQL. Beside them, in the same run: a bare Fastify route
// (HTTP + JSON only) and a bare insert of the same alarms into the same database engine, the floor
// any durable ingest stands on.
//
//   npx tsx bench/event-latency.ts     (BENCH_SECONDS=5, BENCH_CONCURRENCY=8; BENCH_PG=postgres://…)
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { startCloud, type RunningCloud } from '../cloud/server.js';
import { subscribeSse } from '../demo/sse-client.js';
import { CONCURRENCY, SECONDS, fmt, freshAlarms, hammer, quantiles, table } from './_lib.js';

const ADMIN = 'gsa_bench-admin-token';
/** Small batches: an edge uploads what one poll raised, and latency is the point here. */
const BATCH = 10;
const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dir = mkdtempSync(join(tmpdir(), 'gridsense-bench-'));
const rows: string[][] = [];

async function pipeline(name: string, cloud: RunningCloud): Promise<void> {
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };
  await fetch(`${cloud.url}/api/v1/grids/import`, { method: 'POST', headers: admin, body: readFileSync(new URL('../demo/sample-county.geojson', import.meta.url), 'utf8') });
  const { token } = (await (await fetch(`${cloud.url}/api/v1/edges`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'bench-edge', name: 'bench' }) })).json()) as { token: string };
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  const sse = subscribeSse(`${cloud.url}/api/v1/events/stream`, (m) => {
    if (m.event !== 'event.opened') return;
    const at = performance.now();
    const t0 = sent.get((JSON.parse(m.data) as { deviceId: string }).deviceId);
    if (t0 !== undefined) latencies.push(at - t0);
  }, { authorization: `Bearer ${ADMIN}` });
  await sse.ready;
  // Every alarm from a new device, so every one opens an event and reaches the stream.
  const body = () => {
    const alarms = freshAlarms(BATCH, 1e9);
    const now = performance.now();
    for (const a of alarms) sent.set(a.deviceId, now);
    return JSON.stringify({ alarms });
  };
  const run = await hammer(name, `${cloud.url}/api/v1/alarms`, { authorization: `Bearer ${token}` }, body, BATCH);
  const deadline = performance.now() + 15_000;
  while (latencies.length < sent.size && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  sse.close();
  const q = quantiles(latencies.sort((a, b) => a - b));
  rows.push([name, fmt(run.alarmsPerSecond), `${q(0.5).toFixed(1)} / ${q(0.99).toFixed(1)}`, `${latencies.length}/${sent.size}`]);
}

async function sqliteInsertFloor(): Promise<void> {
  const db = new Database(join(dir, 'floor.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (alarm_id TEXT PRIMARY KEY, envelope TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
  const batch = db.transaction((alarms: Array<{ alarmId: string }>) => {
    for (const a of alarms) insert.run(a.alarmId, JSON.stringify(a));
  });
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  let n = 0;
  while (performance.now() < end) {
    batch(freshAlarms(BATCH, 1e9));
    n += BATCH;
  }
  db.close();
  rows.push(['floor: bare SQLite insert (same batches, WAL, synchronous=FULL, one writer)', fmt(n / ((performance.now() - start) / 1000)), '—', '—']);
}

async function postgres(): Promise<void> {
  let pg: typeof import('pg');
  try {
    pg = await import('pg');
  } catch {
    rows.push(['PostgreSQL: skipped (the pg package is not installed)', '—', '—', '—']);
    return;
  }
  const Client = pg.default?.Client ?? pg.Client;
  const adminClient = new Client({ connectionString: PG_URL });
  try {
    await adminClient.connect();
  } catch (err) {
    rows.push([`PostgreSQL: skipped (${PG_URL} not reachable: ${(err as Error).message})`, '—', '—', '—']);
    return;
  }
  const name = `gs_bench_${process.pid}_${Date.now().toString(36)}`;
  await adminClient.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  try {
    let cloud: RunningCloud | undefined;
    try {
      cloud = await startCloud({ port: 0, host: '127.0.0.1', db: url.toString(), adminToken: ADMIN, logger: false });
    } catch (err) {
      rows.push([`PostgreSQL: skipped (the cloud refused it: ${(err as Error).message})`, '—', '—', '—']);
    }
    if (cloud) {
      try {
        await pipeline('cloud on PostgreSQL: alarm → event → SSE client', cloud);
      } finally {
        await cloud.close();
      }
    }
    const c = new Client({ connectionString: url.toString() });
    await c.connect();
    await c.query('CREATE TABLE t (alarm_id TEXT PRIMARY KEY, envelope TEXT NOT NULL)');
    const end = performance.now() + SECONDS * 1000;
    const start = performance.now();
    let n = 0;
    while (performance.now() < end) {
      const alarms = freshAlarms(BATCH, 1e9);
      const values = alarms.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
      await c.query(`INSERT INTO t VALUES ${values}`, alarms.flatMap((a) => [a.alarmId, JSON.stringify(a)]));
      n += BATCH;
    }
    await c.end();
    rows.push(['floor: bare PostgreSQL insert (same batches, one connection, one statement each)', fmt(n / ((performance.now() - start) / 1000)), '—', '—']);
  } finally {
    await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await adminClient.end();
  }
}

const anchor = Fastify({ logger: false });
anchor.post('/api/v1/alarms', async (req) => ({ accepted: (req.body as { alarms: unknown[] }).alarms.length, duplicates: 0 }));
const anchorUrl = await anchor.listen({ port: 0, host: '127.0.0.1' });
try {
  const a = await hammer('anchor: bare Fastify route (JSON parse, answer)', `${anchorUrl}/api/v1/alarms`, {}, () => JSON.stringify({ alarms: freshAlarms(BATCH, 1e9) }), BATCH);
  rows.push([a.name, fmt(a.alarmsPerSecond), `${a.p50.toFixed(1)} / ${a.p99.toFixed(1)} (HTTP only)`, '—']);
  const cloud = await startCloud({ port: 0, host: '127.0.0.1', db: join(dir, 'cloud.db'), adminToken: ADMIN, logger: false });
  try {
    await pipeline('cloud on SQLite: alarm → event → SSE client', cloud);
  } finally {
    await cloud.close();
  }
  await sqliteInsertFloor();
  await postgres();
  process.stdout.write(
    [
      `alarm → event → SSE: ${CONCURRENCY} connections, batches of ${BATCH} (every alarm opens an event), ${SECONDS} s each, node ${process.version}`,
      table(['name', 'alarms/s', 'ms POST → SSE p50 / p99', 'events seen'], rows),
      '',
    ].join('\n'),
  );
} finally {
  await anchor.close();
  rmSync(dir, { recursive: true, force: true });
}

// Alarm ingest throughput: the real cloud (SQLite file, WAL, synchronous=FULL, sample county grids)
// taking batches of 100 alarms over HTTP from 8 concurrent connections, against an anchor — a bare
// Fastify route that parses the same JSON and answers 200 — hit the same way in the same run. The
// ratio says what validation, idempotent storage, grid lookup and event correlation cost on top of
// HTTP + JSON. Client and servers share this process, as they share the machine anyway.
//
//   npx tsx bench/alarm-ingest.ts            (BENCH_SECONDS=5, BENCH_CONCURRENCY=8, BENCH_BATCH=100)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { startCloud } from '../cloud/server.js';
import { BATCH, CONCURRENCY, DEVICES, SECONDS, fmt, freshBatch, hammer, table, type Run } from './_lib.js';

const ADMIN = 'gsa_bench-admin-token';

const dir = mkdtempSync(join(tmpdir(), 'gridsense-bench-'));
const cloud = await startCloud({ port: 0, host: '127.0.0.1', db: join(dir, 'cloud.db'), adminToken: ADMIN, logger: false });
const anchor = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
anchor.post('/api/v1/alarms', async (req) => ({ accepted: (req.body as { alarms: unknown[] }).alarms.length, duplicates: 0 }));
const anchorUrl = await anchor.listen({ port: 0, host: '127.0.0.1' });
try {
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };
  const county = readFileSync(new URL('../demo/sample-county.geojson', import.meta.url), 'utf8');
  await fetch(`${cloud.url}/api/v1/grids/import`, { method: 'POST', headers: admin, body: county });
  const edge = (await (await fetch(`${cloud.url}/api/v1/edges`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'bench-edge', name: 'bench' }) })).json()) as { token: string };
  const edgeAuth = { authorization: `Bearer ${edge.token}` };

  const runs: Run[] = [];
  runs.push(await hammer('anchor: bare Fastify route, JSON parse only', `${anchorUrl}/api/v1/alarms`, {}, freshBatch));
  runs.push(await hammer('cloud: POST /api/v1/alarms, fresh raises', `${cloud.url}/api/v1/alarms`, edgeAuth, freshBatch));
  // A retry storm after an uplink outage: every transition already stored.
  const replay = freshBatch();
  await fetch(`${cloud.url}/api/v1/alarms`, { method: 'POST', headers: { 'content-type': 'application/json', ...edgeAuth }, body: replay });
  runs.push(await hammer('cloud: POST /api/v1/alarms, all duplicates (retries)', `${cloud.url}/api/v1/alarms`, edgeAuth, () => replay));

  const events = (await (await fetch(`${cloud.url}/api/v1/events?limit=1`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { items: unknown[] };
  const base = runs[0]!.alarmsPerSecond;
  const rows = runs.map((r) => [r.name, fmt(r.alarmsPerSecond), `${(r.alarmsPerSecond / base).toFixed(3)}×`, `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`]);
  process.stdout.write(
    [
      `alarm ingest: ${CONCURRENCY} connections, batches of ${BATCH}, ${SECONDS} s each, node ${process.version}, SQLite WAL synchronous=FULL`,
      table(['name', 'alarms/s', 'vs anchor', 'batch ms p50 / p99'], rows),
      `(${events.items.length > 0 ? 'events were opened' : 'no events?'}; ${DEVICES} devices, so most raises repeat an open event)`,
      '',
    ].join('\n'),
  );
} finally {
  await cloud.close();
  await anchor.close();
  rmSync(dir, { recursive: true, force: true });
}

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
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import { startCloud } from '../cloud/server.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const DEVICES = 2000;
const ADMIN = 'gsa_bench-admin-token';

let serial = 0;
/** A batch of fresh raises from many gauges spread over the sample county (a flood burst). */
function freshBatch(): string {
  const alarms = [];
  for (let i = 0; i < BATCH; i++) {
    const n = serial++;
    const device = n % DEVICES;
    alarms.push({
      alarmId: `bench-${n.toString(36).padStart(8, '0')}`,
      seq: 0,
      action: 'raise',
      type: 'water_level_warning',
      severity: 'major',
      deviceId: `wl-${device}`,
      profile: 'generic/radar-water-level-gauge',
      value: 3.5 + (n % 100) / 100,
      unit: 'm',
      threshold: 3.5,
      location: { lon: 101.0 + ((device * 7919) % 3000) / 10000, lat: 38.6 + ((device * 104729) % 3000) / 10000 },
      ts: 1_780_000_000_000 + n,
    });
  }
  return JSON.stringify({ alarms });
}

interface Run {
  name: string;
  alarmsPerSecond: number;
  batches: number;
  p50: number;
  p99: number;
}

async function hammer(name: string, url: string, headers: Record<string, string>, body: () => string): Promise<Run> {
  const post = async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body() });
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  // Warm up (JIT, connection pool, SQLite page cache) before measuring.
  const warmEnd = performance.now() + 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < warmEnd) await post();
  }));
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await post();
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { name, alarmsPerSecond: (latencies.length * BATCH) / elapsed, batches: latencies.length, p50: q(0.5), p99: q(0.99) };
}

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

  const events = (await (await fetch(`${cloud.url}/api/v1/events?limit=1`)).json()) as { items: unknown[] };
  const base = runs[0]!.alarmsPerSecond;
  const rows = runs.map((r) => [r.name, Math.round(r.alarmsPerSecond).toLocaleString('en-US'), `${(r.alarmsPerSecond / base).toFixed(3)}×`, `${r.p50.toFixed(1)} / ${r.p99.toFixed(1)}`]);
  const head = ['name', 'alarms/s', 'vs anchor', 'batch ms p50 / p99'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  process.stdout.write(
    [
      `alarm ingest: ${CONCURRENCY} connections, batches of ${BATCH}, ${SECONDS} s each, node ${process.version}, SQLite WAL synchronous=FULL`,
      line(head),
      `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
      ...rows.map(line),
      `(${events.items.length > 0 ? 'events were opened' : 'no events?'}; ${DEVICES} devices, so most raises repeat an open event)`,
      '',
    ].join('\n'),
  );
} finally {
  await cloud.close();
  await anchor.close();
  rmSync(dir, { recursive: true, force: true });
}

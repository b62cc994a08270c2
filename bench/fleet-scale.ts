// Fleet scale: 100,000 devices across 1,000 edges in one cloud. Import time through
// POST /api/v1/devices/import (CSV, 20,000 lines per file, all-or-nothing checks), the p99 of
// GET /api/v1/devices with filters, and the time to build one edge's desired configuration
// (GET /api/v1/edges/config, 500 devices). Beside them, in the same run and on the same database
// engine: a bare prepared insert of the same rows in one transaction and the same selects straight
// on that table — the floor any registry stands on.
//
//   npx tsx bench/fleet-scale.ts      (FLEET_DEVICES=100000 FLEET_EDGES=1000 to scale down/up)
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCloud } from '../cloud/server.js';
import { IMPORT_MAX_ROWS } from '../cloud/devices/routes.js';
import { fmt, quantiles, table } from './_lib.js';

const ADMIN = 'gsa_bench-admin-token';
const DEVICES = Number(process.env.FLEET_DEVICES ?? 100_000);
const EDGES = Number(process.env.FLEET_EDGES ?? 1000);
/** The edge whose configuration is built: it gets this many devices, the others share the rest. */
const BIG_EDGE_DEVICES = 500;
const LIST_REQUESTS = 300;
const CONFIG_BUILDS = 30;
const PROFILES = ['generic/radar-water-level-gauge', 'generic/photoelectric-smoke-detector', 'generic/temperature-humidity-sensor', 'generic/combustible-gas-detector'];
const SITES = ['riverside', 'school', 'nursing_home', 'market', 'street'];

const dir = mkdtempSync(join(tmpdir(), 'gridsense-fleet-bench-'));
const edgeId = (e: number) => `edge-${String(e).padStart(4, '0')}`;

interface Row {
  id: string;
  profile: string;
  edge: string;
  host: string;
  unitId: number;
  lon: number;
  lat: number;
  site: string;
  tags: string;
}

/** Deterministic fleet: edge 0 gets BIG_EDGE_DEVICES, the others the rest round-robin; spread over the sample county. */
function fleet(): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const edge = i < BIG_EDGE_DEVICES ? 0 : 1 + ((i - BIG_EDGE_DEVICES) % (EDGES - 1));
    rows.push({
      id: `dev-${String(i).padStart(6, '0')}`,
      profile: PROFILES[i % PROFILES.length]!,
      edge: edgeId(edge),
      host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      unitId: 1 + (i % 200),
      lon: 101.0 + ((i * 7919) % 2990) / 10000 + 0.0005,
      lat: 38.6 + ((i * 104729) % 2990) / 10000 + 0.0005,
      site: SITES[i % SITES.length]!,
      tags: i % 10 === 0 ? 'school;flood-watch' : 'street',
    });
  }
  return rows;
}

const csv = (rows: Row[]) =>
  ['id,profile,edge,protocol,host,port,unitId,lon,lat,site,tags', ...rows.map((r) => `${r.id},${r.profile},${r.edge},modbus-tcp,${r.host},502,${r.unitId},${r.lon},${r.lat},${r.site},${r.tags}`)].join('\n');

async function timeRequests(n: number, run: (i: number) => Promise<void>): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(i);
    ms.push(performance.now() - t0);
  }
  const q = quantiles(ms.sort((a, b) => a - b));
  return { p50: q(0.5), p99: q(0.99) };
}

function bare(rows: Row[]): { insertS: number; list: { p50: number; p99: number }; config: { p50: number; p99: number } } {
  const db = new Database(join(dir, 'bare.sqlite'));
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE devices (id TEXT PRIMARY KEY, profile TEXT NOT NULL, edge_id TEXT NOT NULL, connection TEXT NOT NULL, lon REAL, lat REAL, site TEXT, tags TEXT);
           CREATE INDEX devices_edge ON devices (edge_id, id); CREATE INDEX devices_profile ON devices (profile, id);`);
  const insert = db.prepare('INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const t0 = performance.now();
  for (let k = 0; k < rows.length; k += IMPORT_MAX_ROWS) {
    db.transaction((chunk: Row[]) => {
      for (const r of chunk) insert.run(r.id, r.profile, r.edge, JSON.stringify({ protocol: 'modbus-tcp', host: r.host, port: 502, unitId: r.unitId }), r.lon, r.lat, r.site, r.tags);
    })(rows.slice(k, k + IMPORT_MAX_ROWS));
  }
  const insertS = (performance.now() - t0) / 1000;
  const byEdge = db.prepare('SELECT * FROM devices WHERE edge_id = ? ORDER BY id LIMIT 101');
  const byProfile = db.prepare('SELECT * FROM devices WHERE profile = ? ORDER BY id LIMIT 101');
  const sync = (n: number, f: (i: number) => void) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      f(i);
      ms.push(performance.now() - s);
    }
    const q = quantiles(ms.sort((a, b) => a - b));
    return { p50: q(0.5), p99: q(0.99) };
  };
  const list = sync(LIST_REQUESTS, (i) => (i % 2 === 0 ? byEdge.all(edgeId(1 + (i % (EDGES - 1)))) : byProfile.all(PROFILES[i % PROFILES.length])));
  const all = db.prepare('SELECT * FROM devices WHERE edge_id = ? ORDER BY id');
  const config = sync(CONFIG_BUILDS, () => JSON.stringify(all.all(edgeId(0)).map((r) => ({ ...(r as object), connection: JSON.parse((r as { connection: string }).connection) as unknown }))));
  db.close();
  return { insertS, list, config };
}

async function main(): Promise<void> {
  const rows = fleet();
  const cloud = await startCloud({ port: 0, db: join(dir, 'cloud.sqlite'), adminToken: ADMIN, logger: false });
  try {
    const admin = { authorization: `Bearer ${ADMIN}` };
    const post = async (path: string, body: string, type = 'application/json') => {
      const res = await fetch(`${cloud.url}${path}`, { method: 'POST', headers: { ...admin, 'content-type': type }, body });
      if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await post('/api/v1/grids/import', readFileSync(new URL('../demo/sample-county.geojson', import.meta.url), 'utf8'));
    let bigEdgeToken = '';
    for (let e = 0; e < EDGES; e++) {
      const created = await post('/api/v1/edges', JSON.stringify({ id: edgeId(e), name: `Town edge ${e}` }));
      if (e === 0) bigEdgeToken = created.token as string;
    }

    const t0 = performance.now();
    for (let k = 0; k < rows.length; k += IMPORT_MAX_ROWS) {
      const out = await post('/api/v1/devices/import', csv(rows.slice(k, k + IMPORT_MAX_ROWS)), 'text/csv');
      if (out.imported !== Math.min(IMPORT_MAX_ROWS, rows.length - k)) throw new Error(`import: ${JSON.stringify(out).slice(0, 500)}`);
    }
    const importS = (performance.now() - t0) / 1000;

    const filters = [
      (i: number) => `edge=${edgeId(1 + (i % (EDGES - 1)))}`,
      (i: number) => `profile=${encodeURIComponent(PROFILES[i % PROFILES.length]!)}&town=qingquan`,
      () => 'tag=school&health=unknown',
    ];
    const get = async (path: string, headers: Record<string, string>) => {
      const res = await fetch(`${cloud.url}${path}`, { headers });
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
      return res.json() as Promise<{ items?: unknown[]; devices?: unknown[] }>;
    };
    const list = await timeRequests(LIST_REQUESTS, async (i) => {
      const page = await get(`/api/v1/devices?limit=100&${filters[i % filters.length]!(i)}`, admin);
      if (!page.items || page.items.length === 0) throw new Error('device list came back empty');
    });
    const config = await timeRequests(CONFIG_BUILDS, async () => {
      const c = await get('/api/v1/edges/config', { authorization: `Bearer ${bigEdgeToken}` });
      if (c.devices?.length !== BIG_EDGE_DEVICES) throw new Error(`config has ${c.devices?.length} devices, expected ${BIG_EDGE_DEVICES}`);
    });

    const anchor = bare(rows);
    const out = [
      ['import (rows/s)', fmt(rows.length / importS), fmt(rows.length / anchor.insertS), (importS / anchor.insertS).toFixed(1) + '× slower'],
      ['import total (s)', importS.toFixed(1), anchor.insertS.toFixed(2), ''],
      ['GET /devices filtered p50 (ms)', list.p50.toFixed(2), anchor.list.p50.toFixed(3), (list.p50 / anchor.list.p50).toFixed(0) + '×'],
      ['GET /devices filtered p99 (ms)', list.p99.toFixed(2), anchor.list.p99.toFixed(3), (list.p99 / anchor.list.p99).toFixed(0) + '×'],
      [`edge config, ${BIG_EDGE_DEVICES} devices p50 (ms)`, config.p50.toFixed(1), anchor.config.p50.toFixed(2), (config.p50 / anchor.config.p50).toFixed(0) + '×'],
      [`edge config, ${BIG_EDGE_DEVICES} devices p99 (ms)`, config.p99.toFixed(1), anchor.config.p99.toFixed(2), (config.p99 / anchor.config.p99).toFixed(0) + '×'],
    ];
    process.stdout.write(`fleet: ${fmt(rows.length)} devices across ${fmt(EDGES)} edges, SQLite; anchor: bare better-sqlite3 insert/select on the same rows\n\n`);
    process.stdout.write(table(['measure', 'gridsense', 'bare SQLite', 'ratio'], out) + '\n');
  } finally {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

// Shared set-up of the end-to-end tests: a real cloud (SQLite in a temp dir, or PostgreSQL under
// GRIDSENSE_TEST_PG) with the sample county's grids and one registered edge, and an edge.yaml for a
// gauge played by pymodbus.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { stringify as toYaml } from 'yaml';
import type { Clock } from '../../contracts/clock.js';
import { startCloud } from '../../cloud/server.js';
import { createTestSchema, TEST_PG } from '../../cloud/db/test-database.js';

export const ADMIN_TOKEN = 'gsa_e2e-admin-token-000000000000';
const GRIDS = new URL('../../demo/sample-county.geojson', import.meta.url);

export interface County {
  dir: string;
  url: string;
  edgeToken: string;
  /** The cloud's app, for what a test drives directly (e.g. app.firmware.sweep()). */
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The county's database by its dir: a SQLite file there, or (GRIDSENSE_TEST_PG) a PostgreSQL schema of its own. */
const databases = new Map<string, string>();

async function countyDatabase(dir: string): Promise<string> {
  if (!TEST_PG) return join(dir, 'cloud.db');
  const { url, drop } = await createTestSchema(TEST_PG);
  // Kept across a cloud restart (restartCloud); dropped when the test process is done.
  process.once('beforeExit', () => void drop());
  return url;
}

/** `clock`: the cloud's injected clock (default the system's), for tests that move time on. */
export async function startCounty(opts: { dir?: string; port?: number; edgeId?: string; clock?: Clock } = {}): Promise<County> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'gridsense-e2e-'));
  const db = databases.get(dir) ?? (await countyDatabase(dir));
  databases.set(dir, db);
  const cloud = await startCloud({ port: opts.port ?? 0, host: '127.0.0.1', db, adminToken: ADMIN_TOKEN, logger: false, ...(opts.clock ? { clock: opts.clock } : {}) });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` };
  const grids = await fetch(`${cloud.url}/api/v1/grids/import`, { method: 'POST', headers, body: readFileSync(GRIDS, 'utf8') });
  if (!grids.ok) throw new Error(`grid import: ${grids.status} ${await grids.text()}`);
  const edge = await fetch(`${cloud.url}/api/v1/edges`, { method: 'POST', headers, body: JSON.stringify({ id: opts.edgeId ?? 'town-qingquan', name: 'Qingquan' }) });
  if (!edge.ok) throw new Error(`edge create: ${edge.status} ${await edge.text()}`);
  const { token } = (await edge.json()) as { token: string };
  return { dir, url: cloud.url, edgeToken: token, app: cloud.app, close: () => cloud.close() };
}

/**
 * Closes the county's cloud without waiting on its clients' connections: for a teardown, once the test's
 * edges have stopped. undici may open a connection for a request that was aborted while it queued and
 * then never send it; Node's server.close() waits for such a connection until its headers timeout (a
 * minute), so a plain close() could hold a test that long.
 */
export async function closeCountyNow(county: County): Promise<void> {
  const closing = county.close();
  // Until the server stops listening, such a connection may still come in: cut them as they come.
  const cut = setInterval(() => county.app.server.closeAllConnections(), 50);
  county.app.server.closeAllConnections();
  try {
    await closing;
  } finally {
    clearInterval(cut);
  }
}

/** Restarts a cloud on an existing db file (no grid import, no edge creation: they are in the db). */
export async function restartCloud(dir: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  return startCloud({ port, host: '127.0.0.1', db: databases.get(dir) ?? join(dir, 'cloud.db'), adminToken: ADMIN_TOKEN, logger: false });
}

/** An edge.yaml for one radar gauge at `modbusPort`, in the riverside grid, with a short hold. */
export function writeEdgeConfig(dir: string, o: { cloudUrl: string; token: string; modbusPort: number; hold?: string }): string {
  const file = join(dir, 'edge.yaml');
  writeFileSync(
    file,
    toYaml({
      edge: { id: 'town-qingquan', dataDir: './edge-data' },
      cloud: { url: o.cloudUrl, token: o.token },
      rules: ['water-level.yaml'],
      devices: [
        {
          id: 'wl-qingquan-001',
          profile: 'generic/radar-water-level-gauge',
          connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: o.modbusPort, unitId: 1, timeout: '1s' },
          location: { lon: 101.04, lat: 38.8 },
          pollInterval: '200ms',
          overrides: { 'water-level-warning': { hold: o.hold ?? '1s', clearHold: '0s' } },
        },
      ],
    }),
  );
  return file;
}

/** GET with a credential (the county's admin token unless another key is given): every read needs one. */
export async function getJson<T>(url: string, token: string = ADMIN_TOKEN): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface EventJson {
  id: string;
  category: string;
  categoryLabel: string;
  status: string;
  gridId: string | null;
  deviceId: string;
  alarmType: string;
  occurrenceCount: number;
  clearedAt: string | null;
  alarms?: Array<{ alarmId: string; state: string }>;
  timeline?: Array<{ kind: string }>;
}

// Helpers for the cloud's tests (not a test file itself): an app on a fresh database of its own
// (in-memory SQLite, or a PostgreSQL schema when GRIDSENSE_TEST_PG is set) with a manual clock, an
// edge and its token, alarm envelopes with sensible defaults.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../contracts/clock.js';
import type { AlarmAction, AlarmEnvelope, Severity } from '../contracts/alarm.js';
import { buildCloud, type CloudOptions } from './app.js';
import { testDatabase } from './db/test-database.js';

export { testDatabase, TEST_PG } from './db/test-database.js';

export const ADMIN = 'gsa_test-admin-token';
export const SAMPLE_COUNTY = JSON.parse(readFileSync(new URL('../demo/sample-county.geojson', import.meta.url), 'utf8')) as unknown;

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface TestCloud {
  app: FastifyInstance;
  clock: ManualClock;
  /** Token of edge `town-a`. */
  token: string;
}

export async function testCloud(t: Tap, opts: CloudOptions & { grids?: unknown } = {}): Promise<TestCloud> {
  const clock = (opts.clock as ManualClock | undefined) ?? new ManualClock(Date.UTC(2026, 6, 1, 8, 0, 0));
  const db = opts.db ?? (await testDatabase(t));
  const app = await buildCloud({ adminToken: ADMIN, logger: false, supervisionMs: 0, feedPollMs: 0, webhookWorkerMs: 0, ...opts, db, clock });
  t.teardown(() => app.close());
  const token = await createEdgeToken(app, 'town-a');
  if (opts.grids !== undefined) await expectOk(await admin(app, 'POST', '/api/v1/grids/import', opts.grids));
  return { app, clock, token };
}

export async function createEdgeToken(app: FastifyInstance, id: string): Promise<string> {
  const res = await admin(app, 'POST', '/api/v1/edges', { id, name: `Edge ${id}` });
  return (await expectOk(res)).json<{ token: string }>().token;
}

export function admin(app: FastifyInstance, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
}

async function expectOk(res: LightMyRequestResponse): Promise<LightMyRequestResponse> {
  if (res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}: ${res.body}`);
  return res;
}

export function postAlarms(app: FastifyInstance, token: string, alarms: unknown[]): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/v1/alarms', headers: { authorization: `Bearer ${token}` }, payload: { alarms } });
}

/** GET as the admin token (every read needs a credential); `as` reads with another key. */
export async function getJson<T>(app: FastifyInstance, url: string, as: string = ADMIN): Promise<T> {
  const res = await app.inject({ url, headers: { authorization: `Bearer ${as}` } });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: HTTP ${res.statusCode}: ${res.body}`);
  return res.json<T>();
}

/** Riverside grid 1 of the sample county. */
export const IN_RIVERSIDE_G01 = { lon: 101.04, lat: 38.8 };

export type AlarmOverrides = Partial<Omit<AlarmEnvelope, 'severity' | 'action'>> & { severity?: Severity; action?: AlarmAction };

export function envelope(o: AlarmOverrides = {}): AlarmOverrides {
  return {
    alarmId: 'alarm-00000001',
    seq: 0,
    action: 'raise',
    type: 'water_level_warning',
    severity: 'major',
    deviceId: 'wl-qingquan-001',
    profile: 'generic/radar-water-level-gauge',
    value: 3.8,
    unit: 'm',
    threshold: 3.5,
    location: IN_RIVERSIDE_G01,
    ts: Date.UTC(2026, 6, 1, 7, 59, 0),
    ...o,
  };
}

/** The transitions of one alarm's life: raise (seq 0) and clear (seq 1). */
export function raiseAndClear(alarmId: string, o: AlarmOverrides = {}): [AlarmOverrides, AlarmOverrides] {
  return [envelope({ ...o, alarmId, seq: 0, action: 'raise' }), envelope({ ...o, alarmId, seq: 1, action: 'clear', value: 3.2 })];
}

export interface EventJsonT {
  id: string;
  status: string;
  statusLabel: string;
  category: string;
  categoryLabel: string;
  priority: number;
  priorityLabel: string;
  gridId: string | null;
  gridName: string | null;
  deviceId: string;
  alarmType: string;
  occurrenceCount: number;
  activeAlarms: number;
  openedAt: string;
  deadlineAt: string;
  clearedAt: string | null;
  alarms?: Array<{ id: string; alarmId: string; state: string; eventId: string | null }>;
  timeline?: Array<{ kind: string; actor: string; note: string | null; at: string }>;
}

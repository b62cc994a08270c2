// Telemetry summaries and gap records from an edge: stored once (a retry is a duplicate), read back per
// device and time range with a scoped credential, bad input answered 4xx; and the uplink health a
// heartbeat carries (interval, oldest undelivered alarm, over quota) shown in the fleet status.
// Runs on SQLite and, through cloud/postgres.test.ts, on PostgreSQL.
import t from 'tap';
import type { TelemetryGap, TelemetrySummary } from '../../contracts/telemetry-summary.js';
import { SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { apiKey, beat, call, enrolledEdge, modbusDevice, ok, postBeat } from '../fleet/test-support.js';

const T0 = Date.UTC(2026, 6, 1, 7, 0, 0);
const P = 300_000;
const QINGQUAN = { lon: 101.04, lat: 38.8 };

const summary = (i: number, o: Partial<TelemetrySummary> = {}): TelemetrySummary => ({
  deviceId: 'wl-1', point: 'water_level', from: T0 + i * P, to: T0 + (i + 1) * P, count: 30, min: 3 + i / 10, max: 3.5 + i / 10, mean: 3.2 + i / 10, last: 3.4 + i / 10, lastTs: T0 + (i + 1) * P - 10_000, unit: 'm', ...o,
});
const gap: TelemetryGap = { id: 'gap-1782889200000-17', dropped: 12, from: T0 - 12 * P, to: T0, at: T0 + 1000, maxBytes: 1_048_576 };

interface Summaries {
  items: Array<{ point: string; from: string; to: string; count: number; min: number; max: number; mean: number; last: number; lastAt: string; unit: string | null; edgeId: string }>;
}

t.test('summaries and gaps: stored once, read back by device, time range and point', async (t) => {
  const { app, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await ok(call(app, 'PATCH', '/api/v1/edges/town-a', { body: { townId: 'qingquan' } }));
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-1', { location: QINGQUAN }) }));
  const body = { summaries: [summary(0), summary(1), summary(2), summary(0, { point: 'supply_voltage', unit: 'V', min: 11.9, max: 12.2, mean: 12, last: 12.1 })], gaps: [gap] };
  t.same(await ok(call(app, 'POST', '/api/v1/telemetry/summaries', { as: token, body })), { accepted: 5, duplicates: 0 });
  t.same(await ok(call(app, 'POST', '/api/v1/telemetry/summaries', { as: token, body })), { accepted: 0, duplicates: 5 }, 'a retried upload changes nothing');
  t.same(await ok(call(app, 'POST', '/api/v1/telemetry/summaries', { as: token, body: { summaries: [summary(2), summary(3)] } })), { accepted: 1, duplicates: 1 });

  const all = await ok<Summaries>(call(app, 'GET', `/api/v1/devices/wl-1/summaries?from=${T0}&to=${T0 + 10 * P}`));
  t.same(all.items.map((s) => [s.point, s.from]), [
    ['supply_voltage', new Date(T0).toISOString()],
    ['water_level', new Date(T0).toISOString()],
    ['water_level', new Date(T0 + P).toISOString()],
    ['water_level', new Date(T0 + 2 * P).toISOString()],
    ['water_level', new Date(T0 + 3 * P).toISOString()],
  ], 'oldest first, every point');
  t.same(all.items[1], { point: 'water_level', from: new Date(T0).toISOString(), to: new Date(T0 + P).toISOString(), count: 30, min: 3, max: 3.5, mean: 3.2, last: 3.4, lastAt: new Date(T0 + P - 10_000).toISOString(), unit: 'm', edgeId: 'town-a' });
  const window = await ok<Summaries>(call(app, 'GET', `/api/v1/devices/wl-1/summaries?from=${new Date(T0 + P).toISOString()}&to=${new Date(T0 + 2 * P).toISOString()}&point=water_level`));
  t.same(window.items.map((s) => s.from), [T0 + P, T0 + 2 * P].map((x) => new Date(x).toISOString()), 'periods starting within [from, to], inclusive, one point');

  const tech = await apiKey(app, 'technician', 'qingquan');
  t.equal((await ok<Summaries>(call(app, 'GET', `/api/v1/devices/wl-1/summaries?from=${T0}&to=${T0 + 10 * P}`, { as: tech }))).items.length, 5, "the town's technician reads its device");
  const gaps = await ok<{ items: Array<Record<string, unknown>> }>(call(app, 'GET', '/api/v1/telemetry/gaps', { as: tech }));
  t.same(gaps.items, [{ edgeId: 'town-a', id: gap.id, dropped: 12, from: new Date(gap.from).toISOString(), to: new Date(gap.to).toISOString(), droppedAt: new Date(gap.at).toISOString(), maxBytes: gap.maxBytes, receivedAt: gaps.items[0]!.receivedAt }], 'the gap is visible in the fleet, once');
  const other = await apiKey(app, 'technician', 'dongle');
  t.same((await ok<{ items: unknown[] }>(call(app, 'GET', '/api/v1/telemetry/gaps', { as: other }))).items, [], "another town's key does not see it");
});

t.test('bad input: 4xx with a stable code, never stored', async (t) => {
  const { app, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await ok(call(app, 'PATCH', '/api/v1/edges/town-a', { body: { townId: 'qingquan' } }));
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-1', { location: QINGQUAN }) }));
  const post = (body: unknown, as: string | null = token) => call(app, 'POST', '/api/v1/telemetry/summaries', { as, body });
  const cases: Array<[string, Promise<{ statusCode: number; json: () => { code: string } }>, number, string]> = [
    ['no token', post({ summaries: [summary(0)] }, null), 401, 'GS_ERR_AUTH_MISSING'],
    ['an API key is not an edge token', post({ summaries: [summary(0)] }, await apiKey(app, 'technician')), 401, 'GS_ERR_EDGE_UNKNOWN'],
    ['unknown field', post({ summaries: [{ ...summary(0), extra: 1 }] }), 400, 'GS_ERR_VALIDATION'],
    ['count 0', post({ summaries: [summary(0, { count: 0 })] }), 400, 'GS_ERR_VALIDATION'],
    ['period ends before it starts', post({ summaries: [summary(0, { to: T0 - 1 })] }), 400, 'GS_ERR_VALIDATION'],
    ['min above max', post({ summaries: [summary(0, { min: 9 })] }), 400, 'GS_ERR_VALIDATION'],
    ['a gap ending before it starts', post({ summaries: [], gaps: [{ ...gap, to: gap.from - 1 }] }), 400, 'GS_ERR_VALIDATION'],
    ['from is not a time', call(app, 'GET', '/api/v1/devices/wl-1/summaries?from=yesterday'), 400, 'GS_ERR_VALIDATION'],
    ['from after to', call(app, 'GET', `/api/v1/devices/wl-1/summaries?from=${T0 + 1}&to=${T0}`), 400, 'GS_ERR_VALIDATION'],
    ['unknown device', call(app, 'GET', '/api/v1/devices/nobody/summaries'), 404, 'GS_ERR_DEVICE_UNKNOWN'],
    ["another town's device", call(app, 'GET', '/api/v1/devices/wl-1/summaries', { as: await apiKey(app, 'technician', 'dongle') }), 404, 'GS_ERR_DEVICE_UNKNOWN'],
    ['a credential without devices:read', call(app, 'GET', '/api/v1/devices/wl-1/summaries', { as: await apiKey(app, 'integrator') }), 403, 'GS_ERR_AUTH_FORBIDDEN'],
    ['gaps without a credential', call(app, 'GET', '/api/v1/telemetry/gaps', { as: null }), 401, 'GS_ERR_AUTH_MISSING'],
  ];
  for (const [what, res, status, code] of cases) {
    const r = await res;
    t.equal(r.statusCode, status, `${what}: HTTP ${status}`);
    t.equal(r.json().code, code, `${what}: ${code}`);
  }
  t.same((await ok<Summaries>(call(app, 'GET', `/api/v1/devices/wl-1/summaries?from=0&to=${T0 + 10 * P}`))).items, [], 'nothing was stored');
});

t.test('a heartbeat reports the uplink: interval, the oldest undelivered alarm, over quota — shown in the fleet status', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await ok(call(app, 'PATCH', '/api/v1/edges/town-a', { body: { townId: 'qingquan' } }));
  const b = await enrolledEdge(app, 'town-b', 'dongle');
  const now = clock.now();
  await ok(postBeat(app, token, beat({ outboxDepth: 40, oldestAlarmAgeMs: 90_000, heartbeatIntervalMs: 30_000, outboxOverQuota: true }, now)));
  await ok(postBeat(app, b, beat({ heartbeatIntervalMs: 120_000 }, now)));
  type Edge = { id: string; status: string; heartbeatIntervalSeconds: number; oldestUndeliveredAlarmAgeSeconds: number | null; oldestUndeliveredAlarmSince: string | null; outboxOverQuota: boolean; outboxDepth: number };
  const edges = async () => (await ok<{ towns: Array<{ edges: Edge[] }> }>(call(app, 'GET', '/api/v1/fleet/status'))).towns.flatMap((x) => x.edges);
  const a0 = (await edges()).find((e) => e.id === 'town-a')!;
  t.match(a0, { heartbeatIntervalSeconds: 30, oldestUndeliveredAlarmAgeSeconds: 90, oldestUndeliveredAlarmSince: new Date(now - 90_000).toISOString(), outboxOverQuota: true, outboxDepth: 40 });
  t.match((await edges()).find((e) => e.id === 'town-b'), { heartbeatIntervalSeconds: 120, oldestUndeliveredAlarmAgeSeconds: null, outboxOverQuota: false });

  clock.advance(60_000);
  t.match((await edges()).find((e) => e.id === 'town-a'), { status: 'online', oldestUndeliveredAlarmAgeSeconds: 150 }, 'the wait grows while the edge is alive');
  clock.advance(60_000); // 2 min silent: 4 of its 30 s intervals → offline on its own stated interval
  t.match((await edges()).find((e) => e.id === 'town-a'), { status: 'offline', oldestUndeliveredAlarmAgeSeconds: 90 }, 'offline after 3 stated intervals; the age as last reported');
  t.match((await edges()).find((e) => e.id === 'town-b'), { status: 'online' }, 'the 2-minute edge is still within its 3 intervals');

  await ok(postBeat(app, token, beat({ outboxDepth: 0, heartbeatIntervalMs: 30_000 }, clock.now())));
  t.match((await edges()).find((e) => e.id === 'town-a'), { status: 'online', oldestUndeliveredAlarmAgeSeconds: null, outboxOverQuota: false }, 'delivered: nothing waiting');
  t.equal((await postBeat(app, token, beat({ heartbeatIntervalMs: 10 }, clock.now()))).statusCode, 400, 'an interval below 1 s is refused');
});

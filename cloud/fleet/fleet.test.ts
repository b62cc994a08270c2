// Health: heartbeats → device and edge state, the health history, fleet status with availability
// computed by hand, the offline list, silent edges, town scope.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { ManualClock } from '../../contracts/clock.js';
import type { Heartbeat } from '../../contracts/heartbeat.js';
import { SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { availabilityPercent, stateTotals } from './availability.js';
import { apiKey, call, enrolledEdge, modbusDevice, ok, postBeat } from './test-support.js';

const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);
const MIN = 60_000;
const QINGQUAN = { lon: 101.04, lat: 38.8 };
const DONGLE = { lon: 101.2, lat: 38.8 };

type Dev = Heartbeat['devices'][number];
const hb = (clock: ManualClock, devices: Dev[], o: Partial<Heartbeat> = {}): Heartbeat => ({
  version: '0.1.0',
  startedAt: T0 - 60 * MIN,
  sentAt: clock.now(),
  outboxDepth: 0,
  deadLetters: 0,
  devices,
  buses: [],
  ...o,
});

interface Counts {
  total: number;
  online: number;
  offline: number;
  unknown: number;
  disabled: number;
}
interface Status {
  totals: { devices: Counts; availability: { percent: number | null }; edges: Record<string, number> };
  towns: Array<{
    townId: string | null;
    name: string | null;
    devices: Counts;
    availability: { percent: number | null; onlineSeconds: number; offlineSeconds: number; unknownSeconds: number };
    byKind: Array<{ kind: string; availabilityPercent: number | null }>;
    edges: Array<{ id: string; status: string; uptimeSeconds: number | null; outboxDepth: number | null; version: string | null; lastHeartbeatAt: string | null }>;
    lowBattery: Array<{ deviceId: string; batteryPercent: number }>;
  }>;
}

/**
 * Qingquan (edge town-a): wl-1 online all hour; wl-2 online until 08:30 then offline; wl-3 offline
 * with 15 % battery; wl-4 disabled. Dongle (edge town-b): wl-5 online at 08:00, then the edge falls
 * silent. Beats every minute from 08:00 to 08:59; the clock ends at 09:00.
 */
async function morning(t: Test): Promise<{ app: FastifyInstance; clock: ManualClock; a: string; b: string }> {
  const { app, clock, token: a } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await ok(call(app, 'PATCH', '/api/v1/edges/town-a', { body: { townId: 'qingquan' } }));
  const b = await enrolledEdge(app, 'town-b', 'dongle');
  for (const id of ['wl-1', 'wl-2', 'wl-3']) await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice(id, { location: QINGQUAN }) }));
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-4', { location: QINGQUAN, disabled: true }) }));
  await ok(call(app, 'POST', '/api/v1/devices', { body: modbusDevice('wl-5', { edge: 'town-b', location: DONGLE }) }));
  await ok(postBeat(app, b, hb(clock, [{ id: 'wl-5', profile: 'generic/radar-water-level-gauge', health: 'online', lastSeenAt: clock.now() }])));
  for (let m = 0; m < 60; m++) {
    const now = clock.now();
    const devices: Dev[] = [
      { id: 'wl-1', profile: 'generic/radar-water-level-gauge', health: 'online', lastSeenAt: now },
      m < 30
        ? { id: 'wl-2', profile: 'generic/radar-water-level-gauge', health: 'online', lastSeenAt: now }
        : { id: 'wl-2', profile: 'generic/radar-water-level-gauge', health: 'offline', lastSeenAt: T0 + 29 * MIN, lastError: 'timeout' },
      { id: 'wl-3', profile: 'generic/radar-water-level-gauge', health: 'offline', lastError: 'connection_refused', batteryPercent: 15 },
      { id: 'stray-9', profile: 'generic/radar-water-level-gauge', health: 'online' },
    ];
    const res = await postBeat(app, a, hb(clock, devices, { outboxDepth: m === 59 ? 7 : 0, configVersion: 4 }));
    if (m === 0) t.match(res.json(), { desiredVersion: 4, unregistered: ['stray-9'] }, 'the edge learns of devices the registry does not give it');
    clock.advance(MIN);
  }
  return { app, clock, a, b };
}

t.test('fleet status: counts now, availability over the hour, edges, low batteries — by hand', async (t) => {
  const { app } = await morning(t);
  const s = await ok<Status>(call(app, 'GET', `/api/v1/fleet/status?from=${new Date(T0).toISOString()}`));
  t.same(s.towns.map((x) => x.townId), ['dongle', 'qingquan'], 'towns in id order');
  const qq = s.towns.find((x) => x.townId === 'qingquan');
  const dongle = s.towns.find((x) => x.townId === 'dongle');
  t.equal(qq!.name, '清泉镇 Qingquan Town');
  t.same(qq!.devices, { total: 3, online: 1, offline: 2, unknown: 0, disabled: 1 });
  // wl-1 3600 s online; wl-2 1800 online + 1800 offline; wl-3 3600 offline → 5400 / 10800.
  t.same(qq!.availability, { percent: 50, onlineSeconds: 5400, offlineSeconds: 5400, unknownSeconds: 0 });
  t.same(qq!.lowBattery.map((x) => [x.deviceId, x.batteryPercent]), [['wl-3', 15]]);
  t.match(qq!.edges, [{ id: 'town-a', status: 'online', uptimeSeconds: 2 * 3600, outboxDepth: 7, version: '0.1.0', lastHeartbeatAt: '2026-07-01T08:59:00.000Z' }]);
  // town-b beat once at 08:00; silent for 3 minutes it is offline from 08:03, wl-5 unknown since.
  t.same(dongle!.devices, { total: 1, online: 0, offline: 0, unknown: 1, disabled: 0 });
  t.same(dongle!.availability, { percent: 5, onlineSeconds: 180, offlineSeconds: 0, unknownSeconds: 3420 });
  t.match(dongle!.edges, [{ id: 'town-b', status: 'offline' }]);
  t.same(s.totals.devices, { total: 4, online: 1, offline: 2, unknown: 1, disabled: 1 });
  t.equal(s.totals.availability.percent, 38.75, '(5400 + 180) / 14400');
  t.same(s.totals.edges, { total: 2, online: 1, offline: 1, never: 0, revoked: 0 });
  t.same(qq!.byKind, [{ kind: 'water_level', devices: { total: 3, online: 1, offline: 2, unknown: 0, disabled: 1 }, availabilityPercent: 50 }]);

  const half = await ok<Status>(call(app, 'GET', `/api/v1/fleet/status?from=${T0 + 30 * MIN}&to=${T0 + 60 * MIN}`));
  t.equal(half.towns.find((x) => x.townId === 'qingquan')!.availability.percent, 33.33, 'the second half hour: wl-1 only, 1800 of 5400');
  t.match(await ok(call(app, 'GET', '/api/v1/edges/town-a')), { status: 'online', heartbeatIntervalSeconds: 60, outboxDepth: 7, config: { appliedVersion: 4, desiredVersion: 4, inSync: true } });
});

t.test('the offline list says when each device was last seen and why; a silent edge makes its devices unknown', async (t) => {
  const { app } = await morning(t);
  const list = async (q: string, as?: string) => (await ok<{ items: Array<{ id: string; status: string; lastSeenAt: string | null; lastError: string | null; since: string | null; edgeOnline: boolean; batteryPercent: number | null }> }>(call(app, 'GET', `/api/v1/fleet/devices${q}`, as ? { as } : {}))).items;
  const offline = await list('?status=offline');
  t.same(offline.map((d) => [d.id, d.lastSeenAt, d.lastError, d.since]), [
    ['wl-2', '2026-07-01T08:29:00.000Z', 'timeout', '2026-07-01T08:30:00.000Z'],
    ['wl-3', null, 'connection_refused', '2026-07-01T08:00:00.000Z'],
  ]);
  t.equal(offline[1]!.batteryPercent, 15);
  t.same((await list('?status=online')).map((d) => d.id), ['wl-1']);
  t.same((await list('?status=unknown')).map((d) => [d.id, d.edgeOnline]), [['wl-5', false]]);
  t.match(await ok(call(app, 'GET', '/api/v1/devices/wl-5')), { health: { status: 'unknown', reported: 'online', edgeOnline: false } });
  t.match(await ok(call(app, 'GET', '/api/v1/devices/wl-2')), { health: { status: 'offline', lastError: 'timeout', lastSeenAt: '2026-07-01T08:29:00.000Z' } });

  const qq = await apiKey(app, 'technician', 'qingquan');
  t.same((await list('', qq)).map((d) => d.id), ['wl-1', 'wl-2', 'wl-3'], "a town's key sees its town only");
  t.equal((await call(app, 'GET', '/api/v1/fleet/devices?town=dongle', { as: qq })).statusCode, 403);
  const s = await ok<Status>(call(app, 'GET', '/api/v1/fleet/status', { as: qq }));
  t.same(s.towns.map((x) => x.townId), ['qingquan']);
  t.same(s.totals.devices, { total: 3, online: 1, offline: 2, unknown: 0, disabled: 1 });
  t.same(s.towns[0]!.edges.map((e) => e.id), ['town-a']);
  t.equal((await call(app, 'GET', '/api/v1/fleet/status', { as: await apiKey(app, 'integrator') })).statusCode, 403);
});

t.test('an edge heard again: its silence is in the history as unknown; the interval is not stretched by it', async (t) => {
  const { app, clock, b } = await morning(t);
  for (let m = 0; m < 30; m++) {
    await ok(postBeat(app, b, hb(clock, [{ id: 'wl-5', profile: 'generic/radar-water-level-gauge', health: 'online', lastSeenAt: clock.now() }])));
    clock.advance(MIN);
  }
  // 08:00-08:03 online, 08:03-09:00 unknown (written when it came back), 09:00-09:30 online.
  const log = await app.db.selectFrom('device_health_log').select(['state', 'at']).where('device_id', '=', 'wl-5').orderBy('at').orderBy('id').execute();
  t.same(log.map((r) => [r.state, (Number(r.at) - T0) / MIN]), [['unknown', 0], ['online', 0], ['unknown', 3], ['online', 60]]);
  const s = await ok<Status>(call(app, 'GET', `/api/v1/fleet/status?from=${T0}&to=${T0 + 90 * MIN}`));
  t.same(s.towns.find((x) => x.townId === 'dongle')!.availability, { percent: 36.67, onlineSeconds: 1980, offlineSeconds: 0, unknownSeconds: 3420 });
  t.match(await ok(call(app, 'GET', '/api/v1/edges/town-b')), { status: 'online', heartbeatIntervalSeconds: 60 });
  // A restart: uptime starts again.
  await ok(postBeat(app, b, hb(clock, [], { startedAt: clock.now() - 5_000 })));
  t.match(await ok(call(app, 'GET', '/api/v1/edges/town-b')), { uptimeSeconds: 5, heartbeatIntervalSeconds: 60 });
  t.match(await ok(call(app, 'GET', '/api/v1/devices/wl-5')), { health: { status: 'unknown', reported: 'unknown' } }, 'a device the edge no longer reports is unknown');
});

t.test('availability arithmetic', async (t) => {
  const s = [
    { at: 0, state: 'unknown' },
    { at: 10, state: 'online' },
    { at: 40, state: 'offline' },
    { at: 60, state: 'disabled' },
    { at: 80, state: 'online' },
  ];
  t.same(stateTotals(s, 0, 100), { online: 50, offline: 20, unknown: 10 });
  t.same(stateTotals(s, 20, 50), { online: 20, offline: 10, unknown: 0 }, 'clipped to the period');
  t.same(stateTotals(s, 0, 100, 30), { online: 20, offline: 0, unknown: 10 + 10 + 20 + 20 }, 'silent from 30 on');
  t.same(stateTotals([{ at: 50, state: 'online' }], 0, 100), { online: 50, offline: 0, unknown: 0 }, 'nothing counts before the first row');
  t.equal(availabilityPercent({ online: 1, offline: 2, unknown: 0 }), 33.33);
  t.equal(availabilityPercent({ online: 0, offline: 0, unknown: 0 }), null);
});

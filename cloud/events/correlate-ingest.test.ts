// Correlation end to end, through ingest and a real database (SQLite, and PostgreSQL in the
// PostgreSQL pass), on a manual clock: alarms of one category in one grid within the category's
// window join one event; outside it, in another grid or category, or after the event closed, they
// do not; dedup by device + type still holds for every device of a joined event; and alarms of
// different devices arriving in parallel — on two cloud instances on PostgreSQL — make ONE event.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildCloud } from '../app.js';
import { ManualClock } from '../../contracts/clock.js';
import { admin, ADMIN, createEdgeToken, envelope, getJson, postAlarms, SAMPLE_COUNTY, TEST_PG, testCloud, testDatabase, type AlarmOverrides } from '../test-support.js';
import { seedRoster } from '../grids/roster-fixture.js';

const MIN = 60_000;
const G01 = { lon: 101.04, lat: 38.8 };
const G02 = { lon: 101.1, lat: 38.8 };

interface EventT {
  id: string;
  status: string;
  category: string;
  gridId: string | null;
  deviceId: string;
  occurrenceCount: number;
  activeAlarms: number;
  clearedAt: string | null;
  devices?: string[];
  alarms?: Array<{ deviceId: string; type: string; eventId: string | null }>;
  timeline?: Array<{ kind: string; note: string | null }>;
}
type ListT = { items: EventT[] };

/** A fire alarm at the clock's time (the window is measured on alarm time). */
function fire(clock: ManualClock, alarmId: string, deviceId: string, o: AlarmOverrides = {}): AlarmOverrides {
  return envelope({ alarmId, deviceId, type: 'smoke_detected', severity: 'major', profile: undefined, value: 1, unit: undefined, threshold: undefined, location: G01, ts: clock.now(), ...o });
}

async function post(t: Test, app: FastifyInstance, token: string, alarms: AlarmOverrides[]): Promise<void> {
  const res = await postAlarms(app, token, alarms);
  t.equal(res.statusCode, 200, res.body.slice(0, 200));
}

const events = async (app: FastifyInstance, q = '') => (await getJson<ListT>(app, `/api/v1/events?limit=100${q}`)).items;

t.test('smoke, heat and gas of one building within 10 min are one fire event listing every device', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await post(t, app, token, [fire(clock, 'alarm-j-0001', 'smoke-1')]);
  clock.advance(4 * MIN);
  await post(t, app, token, [fire(clock, 'alarm-j-0002', 'heat-1', { type: 'temperature_high', value: 68, unit: '°C' })]);
  clock.advance(5 * MIN);
  await post(t, app, token, [fire(clock, 'alarm-j-0003', 'gas-1', { type: 'gas_leak', severity: 'critical' })]);

  const all = await events(app);
  t.equal(all.length, 1, 'one event');
  const e = await getJson<EventT>(app, `/api/v1/events/${all[0]!.id}`);
  t.match(e, { category: 'fire_safety', gridId: 'qingquan-riverside-g01', deviceId: 'smoke-1', occurrenceCount: 3, activeAlarms: 3, priority: 1 });
  t.same(e.devices, ['smoke-1', 'heat-1', 'gas-1'], 'every device of the event');
  t.same(e.alarms!.map((a) => a.type), ['smoke_detected', 'temperature_high', 'gas_leak']);
  t.ok(e.alarms!.every((a) => a.eventId === e.id));
  t.same(e.timeline!.map((x) => x.kind), ['opened', 'alarm_joined', 'alarm_joined']);
  t.equal((await events(app, '&deviceId=gas-1')).length, 1, 'a joined device finds the event by deviceId');
});

t.test('outside the window, in another grid or category: separate events; a joined device repeats into its event', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await post(t, app, token, [fire(clock, 'alarm-k-0001', 'smoke-1')]);
  clock.advance(1 * MIN);
  await post(t, app, token, [fire(clock, 'alarm-k-0002', 'smoke-2', { location: G02 })]);
  await post(t, app, token, [fire(clock, 'alarm-k-0003', 'door-1', { type: 'door_forced' })]);
  await post(t, app, token, [fire(clock, 'alarm-k-0004', 'wl-1', { type: 'water_level_warning' }), fire(clock, 'alarm-k-0005', 'wl-2', { type: 'water_level_warning' })]);
  clock.advance(2 * MIN);
  await post(t, app, token, [fire(clock, 'alarm-k-0006', 'heat-1', { type: 'temperature_high' })]);
  clock.advance(10 * MIN); // 13 min after the first smoke
  await post(t, app, token, [fire(clock, 'alarm-k-0007', 'gas-1', { type: 'gas_leak' })]);

  const byDevice = new Map((await events(app)).map((e) => [e.deviceId, e]));
  t.same([...byDevice.keys()].sort(), ['door-1', 'gas-1', 'smoke-1', 'smoke-2', 'wl-1', 'wl-2'], 'six events: heat-1 joined smoke-1, nothing else joined');
  t.equal(byDevice.get('smoke-1')!.occurrenceCount, 2);
  t.equal(byDevice.get('smoke-2')!.gridId, 'qingquan-riverside-g02');

  // heat-1 raises again 20 min later, past the window: dedup by device + type keeps it in its event.
  clock.advance(7 * MIN);
  await post(t, app, token, [fire(clock, 'alarm-k-0008', 'heat-1', { type: 'temperature_high' })]);
  const first = await getJson<EventT>(app, `/api/v1/events/${byDevice.get('smoke-1')!.id}`);
  t.equal(first.occurrenceCount, 3, 'the repeat counted in the joined event');
  t.same(first.timeline!.map((x) => x.kind), ['opened', 'alarm_joined', 'alarm_repeated']);
  t.equal((await events(app)).length, 6, 'no new event');

  // Clears of a joined alarm count down the event it joined.
  for (const [alarmId, deviceId, type] of [['alarm-k-0001', 'smoke-1', 'smoke_detected'], ['alarm-k-0006', 'heat-1', 'temperature_high'], ['alarm-k-0008', 'heat-1', 'temperature_high']] as const) {
    await post(t, app, token, [fire(clock, alarmId, deviceId, { type, seq: 1, action: 'clear' })]);
  }
  const cleared = await getJson<EventT>(app, `/api/v1/events/${first.id}`);
  t.equal(cleared.activeAlarms, 0);
  t.not(cleared.clearedAt, null, 'every alarm of the joined event cleared');
});

t.test('a closed event absorbs nothing: the next fire alarm in the window opens a new event', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await seedRoster(app);
  await app.inject({ method: 'POST', url: '/api/v1/departments', headers: { authorization: `Bearer ${ADMIN}` }, payload: { id: 'fire-brigade', name: 'Fire Brigade', scope: 'county', categories: ['fire_safety'] } });
  await post(t, app, token, [fire(clock, 'alarm-c-0001', 'smoke-1')]);
  const [e] = await events(app);
  for (const body of [{ action: 'accept' }, { action: 'dispatch', assignee: { kind: 'department', id: 'fire-brigade' } }, { action: 'start' }, { action: 'resolve', note: 'false alarm: cooking smoke' }, { action: 'verify' }, { action: 'close' }]) {
    const res = await admin(app, 'POST', `/api/v1/events/${e!.id}/transitions`, body);
    t.equal(res.statusCode, 200, `${body.action}: ${res.body.slice(0, 200)}`);
  }
  clock.advance(2 * MIN);
  await post(t, app, token, [fire(clock, 'alarm-c-0002', 'heat-1', { type: 'temperature_high' })]);
  const all = await events(app);
  t.equal(all.length, 2, 'a new event');
  t.same(all.map((x) => x.status), ['reported', 'closed']);
});

t.test('different devices, one category and grid, in parallel: ONE event (two instances on PostgreSQL)', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 8, 0, 0));
  const db = await testDatabase(t, { shared: true });
  const opts = { db, clock, adminToken: ADMIN, logger: false, supervisionMs: 0, feedPollMs: 0, webhookWorkerMs: 0 };
  // SQLite runs one writer at a time (two instances on one file would only wait on each other), so
  // there one instance takes the parallel requests; PostgreSQL gets two instances, two pools.
  const a = await buildCloud(opts);
  t.teardown(() => a.close());
  const b = TEST_PG ? await buildCloud(opts) : a;
  if (b !== a) t.teardown(() => b.close());
  t.equal((await admin(a, 'POST', '/api/v1/grids/import', SAMPLE_COUNTY)).statusCode, 200);
  await b.grids.reload();
  const token = await createEdgeToken(a, 'town-a');

  const rounds = 3;
  const N = 12;
  for (let r = 0; r < rounds; r++) {
    clock.advance(60 * MIN); // each round is its own incident, far outside the last one's window
    const types = ['smoke_detected', 'temperature_high', 'gas_leak'];
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => postAlarms(i % 2 === 0 ? a : b, token, [fire(clock, `alarm-p${r}-${String(i).padStart(3, '0')}`, `dev-${r}-${i}`, { type: types[i % 3]! })])),
    );
    t.same(responses.map((x) => x.statusCode), Array<number>(N).fill(200), `round ${r}: every batch stored`);
  }
  const all = await events(a);
  t.equal(all.length, rounds, `${rounds} events, one per round`);
  for (const e of all) {
    const d = await getJson<EventT>(b, `/api/v1/events/${e.id}`);
    t.equal(d.occurrenceCount, N, 'every alarm counted (no lost update)');
    t.equal(d.activeAlarms, N);
    t.equal(d.devices!.length, N, 'every device listed');
    t.equal(d.timeline!.filter((x) => x.kind === 'opened').length, 1, 'opened once');
    t.equal(d.timeline!.filter((x) => x.kind === 'alarm_joined').length, N - 1);
  }
});

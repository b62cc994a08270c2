// Real concurrency, on PostgreSQL: two cloud instances on one database (two connection pools), alarm
// batches of one device arriving in parallel through both. SQLite runs one write transaction at a
// time, so these races only exist — and are only tested — on PostgreSQL (GRIDSENSE_TEST_PG).
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildCloud } from '../app.js';
import type { BusMessage } from '../events/bus.js';
import { appendToFeed } from '../events/feed.js';
import { admin, ADMIN, createEdgeToken, envelope, getJson, postAlarms, SAMPLE_COUNTY, TEST_PG, testDatabase, type EventJsonT } from '../test-support.js';

const pgOnly = { skip: TEST_PG ? false : 'PostgreSQL only: runs in the PostgreSQL pass (GRIDSENSE_TEST_PG)' };

type EventListT = { items: EventJsonT[] };
type AlarmListT = { items: Array<{ alarmId: string; state: string; lastSeq: number; eventId: string | null }> };

/** Two instances on one fresh database, started at the same time (their migrations race too). */
async function twoInstances(t: Test): Promise<{ a: FastifyInstance; b: FastifyInstance; token: string }> {
  const db = await testDatabase(t, { shared: true });
  const opts = { db, adminToken: ADMIN, logger: false, supervisionMs: 0, feedPollMs: 0, webhookWorkerMs: 0 };
  const started = await Promise.allSettled([buildCloud(opts), buildCloud(opts)]);
  for (const s of started) if (s.status === 'fulfilled') t.teardown(() => s.value.close());
  const [a, b] = started.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  }) as [FastifyInstance, FastifyInstance];
  const grids = await admin(a, 'POST', '/api/v1/grids/import', SAMPLE_COUNTY);
  t.equal(grids.statusCode, 200, 'grids imported');
  return { a, b, token: await createEdgeToken(a, 'town-a') };
}

t.test('alarms of one device arriving in parallel through two instances make ONE event', pgOnly, async (t) => {
  const { a, b, token } = await twoInstances(t);
  const N = 16;
  for (const device of ['wl-par-1', 'wl-par-2', 'wl-par-3']) {
    const responses = await Promise.all(
      Array.from({ length: N }, (_, i) => postAlarms(i % 2 === 0 ? a : b, token, [envelope({ alarmId: `alarm-${device}-${String(i).padStart(3, '0')}`, deviceId: device })])),
    );
    t.same(
      responses.map((r) => r.statusCode),
      Array<number>(N).fill(200),
      `${device}: every batch stored`,
    );
    t.ok(responses.every((r) => r.json<{ accepted: number }>().accepted === 1));
    const { items } = await getJson<EventListT>(b, `/api/v1/events?deviceId=${device}`);
    t.equal(items.length, 1, `${device}: one event`);
    const e = await getJson<EventJsonT>(a, `/api/v1/events/${items[0]!.id}`);
    t.equal(e.occurrenceCount, N, 'every occurrence counted (no lost update)');
    t.equal(e.activeAlarms, N);
    t.equal(e.alarms!.length, N, 'every alarm linked');
    t.ok(e.alarms!.every((x) => x.eventId === e.id));
    t.same(
      e.timeline!.map((x) => x.kind),
      ['opened', ...Array<string>(N - 1).fill('alarm_repeated')],
      'one opened, the rest repeats',
    );
  }
});

t.test('the raise and the clear of one alarm in parallel on two instances: always ends cleared', pgOnly, async (t) => {
  const { a, b, token } = await twoInstances(t);
  const M = 12;
  const ids = Array.from({ length: M }, (_, i) => `alarm-rc-${String(i).padStart(4, '0')}`);
  const responses = await Promise.all(
    ids.flatMap((alarmId, i) => [
      postAlarms(a, token, [envelope({ alarmId, deviceId: `wl-rc-${i}`, seq: 0, action: 'raise' })]),
      postAlarms(b, token, [envelope({ alarmId, deviceId: `wl-rc-${i}`, seq: 1, action: 'clear', value: 3.2 })]),
    ]),
  );
  t.ok(
    responses.every((r) => r.statusCode === 200),
    'all stored',
  );
  const alarms = (await getJson<AlarmListT>(a, '/api/v1/alarms?limit=100')).items;
  t.equal(alarms.length, M);
  t.same(
    alarms.filter((x) => x.state !== 'cleared' || x.lastSeq !== 1).map((x) => x.alarmId),
    [],
    'no clear lost between the two instances',
  );
  const events = (await getJson<EventListT>(b, '/api/v1/events?limit=100')).items;
  t.equal(events.length, M);
  t.same(
    events.filter((e) => e.clearedAt === null || e.activeAlarms !== 0).map((e) => e.deviceId),
    [],
    'every event cleared',
  );
});

t.test('two dispatchers on two instances take the same step at once: one wins, the other gets 409', pgOnly, async (t) => {
  const { a, b, token } = await twoInstances(t);
  await postAlarms(a, token, [envelope({ alarmId: 'alarm-race-0001' })]);
  const id = (await getJson<EventListT>(a, '/api/v1/events')).items[0]!.id;
  const both = await Promise.all([a, b].map((app) => admin(app, 'POST', `/api/v1/events/${id}/transitions`, { action: 'accept' })));
  t.same(both.map((r) => r.statusCode).sort(), [200, 409]);
  const e = await getJson<EventJsonT>(b, `/api/v1/events/${id}`);
  t.equal(e.timeline!.filter((x) => x.kind === 'accept').length, 1, 'one accept on the timeline');
});

t.test('every feed message reaches the listeners of both instances once, in order, under parallel writes', pgOnly, async (t) => {
  const { a, b, token } = await twoInstances(t);
  const heard = { a: [] as number[], b: [] as number[] };
  a.bus.subscribe((m: BusMessage) => heard.a.push(m.id));
  b.bus.subscribe((m: BusMessage) => heard.b.push(m.id));
  // Many small transactions appending to the feed from both instances, each instance reading the
  // feed after each of its own writes, while the other's writes are still in flight.
  await Promise.all(
    Array.from({ length: 30 }, (_, i) => postAlarms(i % 2 === 0 ? a : b, token, [envelope({ alarmId: `alarm-feed-${String(i).padStart(4, '0')}`, deviceId: `wl-feed-${i % 7}` })])),
  );
  await a.bus.wake();
  await b.bus.wake();
  const all = (await a.bus.since(0, 1000)).map((m) => m.id);
  t.ok(all.length >= 7, `${all.length} messages in the feed`);
  t.same(heard.a, all, 'instance A heard every message, in order, once');
  t.same(heard.b, all, 'instance B heard every message, in order, once');
});

t.test('a feed append waits for an earlier one to commit: no reader moves past a sequence number still in flight', pgOnly, async (t) => {
  const { a, b, token } = await twoInstances(t);
  await postAlarms(a, token, [envelope({ alarmId: 'alarm-slow-0001' })]);
  await a.bus.wake();
  await b.bus.wake();
  const eventId = (await getJson<EventListT>(a, '/api/v1/events')).items[0]!.id;
  const heard: number[] = [];
  b.bus.subscribe((m: BusMessage) => heard.push(m.id));

  // A appends inside a transaction it keeps open; meanwhile B appends and reads its feed.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let appended!: () => void;
  const inFlight = new Promise<void>((r) => (appended = r));
  const slow = a.db.transaction().execute(async (trx) => {
    await appendToFeed(trx, a.policy, [{ eventId, type: 'event.updated' }], Date.now());
    appended();
    await held;
  });
  await inFlight;
  const event = (await b.bus.since(0, 1))[0]!.event;
  let fastDone = false;
  const fast = b.bus.publish('event.updated', event).then(() => (fastDone = true));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(fastDone, 'the second append waits while the first is uncommitted');
  release();
  await Promise.all([slow, fast]);
  await b.bus.wake();
  const all = (await b.bus.since(0, 100)).map((m) => m.id);
  t.same(heard, all.slice(-2), 'B heard both, the slow one first');
});

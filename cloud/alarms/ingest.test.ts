// Alarm ingest through the real HTTP route and a real database (in-memory SQLite, or PostgreSQL
// under GRIDSENSE_TEST_PG): exactly-once storage, dedup into events, clears, out-of-order delivery,
// grid assignment.
import t from 'tap';
import { sql } from 'kysely';
import { ADMIN, testCloud, postAlarms, getJson, envelope, raiseAndClear, createEdgeToken, SAMPLE_COUNTY, type EventJsonT } from '../test-support.js';

type AlarmListT = { items: Array<{ id: string; alarmId: string; edgeId: string; state: string; lastSeq: number; value: unknown; eventId: string | null; clearedAt: string | null }> };
type EventListT = { items: EventJsonT[]; nextCursor: string | null };

t.test('the same batch twice: stored once, the retry is all duplicates', async (t) => {
  const { app, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const batch = [envelope({ alarmId: 'alarm-a0000001' }), envelope({ alarmId: 'alarm-a0000001', seq: 1, action: 'update', value: 3.9 })];
  const first = await postAlarms(app, token, batch);
  t.equal(first.statusCode, 200);
  t.same(first.json(), { accepted: 2, duplicates: 0 });
  const again = await postAlarms(app, token, batch);
  t.same(again.json(), { accepted: 0, duplicates: 2 });
  const alarms = await getJson<AlarmListT>(app, '/api/v1/alarms');
  t.equal(alarms.items.length, 1, 'one alarm');
  t.equal(alarms.items[0]!.lastSeq, 1);
  t.equal(alarms.items[0]!.value, 3.9);
  const events = await getJson<EventListT>(app, '/api/v1/events');
  t.equal(events.items.length, 1, 'one event');
  t.equal(events.items[0]!.occurrenceCount, 1, 'the retry is not a second occurrence');
  const detail = await getJson<EventJsonT>(app, `/api/v1/events/${events.items[0]!.id}`);
  t.same(detail.timeline!.map((e) => e.kind), ['opened'], 'the retry left no trace on the timeline');

  const within = await postAlarms(app, token, [envelope({ alarmId: 'alarm-b0000001', deviceId: 'wl-2' }), envelope({ alarmId: 'alarm-b0000001', deviceId: 'wl-2' })]);
  t.same(within.json(), { accepted: 1, duplicates: 1 }, 'a repeat inside one batch is a duplicate too');
});

t.test('a new alarm for the same device and type joins the open event: occurrence 2', async (t) => {
  const { app, token, clock } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-first001' })]);
  clock.advance(60_000);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-second01' })]);
  const { items } = await getJson<EventListT>(app, '/api/v1/events');
  t.equal(items.length, 1);
  const e = await getJson<EventJsonT>(app, `/api/v1/events/${items[0]!.id}`);
  t.equal(e.occurrenceCount, 2);
  t.equal(e.activeAlarms, 2);
  t.same(e.alarms!.map((a) => a.alarmId), ['alarm-first001', 'alarm-second01']);
  t.ok(e.alarms!.every((a) => a.eventId === e.id), 'both alarms point at the event');
  t.same(e.timeline!.map((x) => x.kind), ['opened', 'alarm_repeated']);
  t.equal(e.timeline![1]!.actor, 'town-a');

  await postAlarms(app, token, [envelope({ alarmId: 'alarm-other001', type: 'water_level_critical', severity: 'critical' })]);
  t.equal((await getJson<EventListT>(app, '/api/v1/events')).items.length, 2, 'another alarm type is another event');
});

t.test('a clear is recorded on the event; the event stays open until every alarm cleared', async (t) => {
  const { app, token, clock } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const [raiseA, clearA] = raiseAndClear('alarm-a0000001');
  const [raiseB, clearB] = raiseAndClear('alarm-b0000001');
  await postAlarms(app, token, [raiseA, raiseB]);
  clock.advance(5 * 60_000);
  await postAlarms(app, token, [clearA]);
  const id = (await getJson<EventListT>(app, '/api/v1/events')).items[0]!.id;
  let e = await getJson<EventJsonT>(app, `/api/v1/events/${id}`);
  t.equal(e.clearedAt, null, 'one alarm still active');
  t.equal(e.activeAlarms, 1);
  t.equal(e.status, 'reported', 'still open');

  clock.advance(60_000);
  await postAlarms(app, token, [clearB]);
  e = await getJson<EventJsonT>(app, `/api/v1/events/${id}`);
  t.equal(e.clearedAt, new Date(clock.now()).toISOString(), 'cleared when the last alarm cleared');
  t.equal(e.status, 'reported', 'closing is the governance loop’s job, not the sensor’s');
  t.same(e.timeline!.map((x) => x.kind), ['opened', 'alarm_repeated', 'alarm_cleared', 'alarm_cleared']);
  t.ok(e.alarms!.every((a) => a.state === 'cleared'));

  await postAlarms(app, token, [envelope({ alarmId: 'alarm-c0000001' })]);
  e = await getJson<EventJsonT>(app, `/api/v1/events/${id}`);
  t.equal(e.clearedAt, null, 'raised again: active again');
  t.equal(e.occurrenceCount, 3);
});

t.test('out of order: a clear before its raise is held, then applied; the end state is the in-order one', async (t) => {
  const [raise, clear] = raiseAndClear('alarm-ooo00001', { deviceId: 'wl-9' });
  const late = await testCloud(t, { grids: SAMPLE_COUNTY });
  const r1 = await postAlarms(late.app, late.token, [clear]);
  t.same(r1.json(), { accepted: 1, duplicates: 0 }, 'the early clear is stored');
  t.equal((await getJson<AlarmListT>(late.app, '/api/v1/alarms')).items.length, 0, 'nothing applied before the raise');
  t.equal((await getJson<EventListT>(late.app, '/api/v1/events')).items.length, 0);
  await postAlarms(late.app, late.token, [raise]);

  const inOrder = await testCloud(t, { grids: SAMPLE_COUNTY });
  await postAlarms(inOrder.app, inOrder.token, [raise]);
  await postAlarms(inOrder.app, inOrder.token, [clear]);

  const pick = async (app: typeof late.app) => {
    const a = (await getJson<AlarmListT>(app, '/api/v1/alarms')).items;
    const evs = (await getJson<EventListT>(app, '/api/v1/events')).items;
    const e = await getJson<EventJsonT>(app, `/api/v1/events/${evs[0]!.id}`);
    return {
      alarms: a.map((x) => ({ alarmId: x.alarmId, state: x.state, lastSeq: x.lastSeq, value: x.value })),
      events: evs.length,
      event: { occurrenceCount: e.occurrenceCount, activeAlarms: e.activeAlarms, cleared: e.clearedAt !== null, gridId: e.gridId },
      timeline: e.timeline!.map((x) => x.kind),
    };
  };
  const got = await pick(late.app);
  t.same(got, await pick(inOrder.app));
  t.same(got.alarms, [{ alarmId: 'alarm-ooo00001', state: 'cleared', lastSeq: 1, value: 3.2 }]);
  t.same(got.timeline, ['opened', 'alarm_cleared']);
});

t.test('out of order after the raise: a late update never overwrites a newer clear', async (t) => {
  const { app, token } = await testCloud(t);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-late0001' })]);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-late0001', seq: 2, action: 'clear', value: 3.1 })]);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-late0001', seq: 1, action: 'update', value: 4.0, severity: 'critical' })]);
  const [a] = (await getJson<AlarmListT>(app, '/api/v1/alarms')).items;
  t.match(a, { state: 'cleared', lastSeq: 2, value: 3.1 });
  const [e] = (await getJson<EventListT>(app, '/api/v1/events')).items;
  t.equal(e!.priority, 1, 'the escalation still counts: priority only rises, whatever the order');
  t.not(e!.clearedAt, null);
});

t.test('sequence rules: seq 0 is the raise and only the raise', async (t) => {
  const { app, token } = await testCloud(t);
  const res = await postAlarms(app, token, [envelope({ seq: 3 }), envelope({ alarmId: 'alarm-zzz00001', action: 'clear', seq: 0 })]);
  t.equal(res.statusCode, 400);
  t.match(res.json(), { code: 'GS_ERR_ALARM_INVALID', details: [{ path: '/alarms/0/seq' }, { path: '/alarms/1/seq' }] });
});

const HOLED = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { id: 'T', name: 'Town', level: 'town' }, geometry: { type: 'Polygon', coordinates: [[[100, 30], [101, 30], [101, 31], [100, 31], [100, 30]]] } },
    {
      type: 'Feature',
      properties: { id: 'V', name: 'Village', level: 'village', parentId: 'T' },
      geometry: { type: 'Polygon', coordinates: [[[100, 30], [100.5, 30], [100.5, 30.5], [100, 30.5], [100, 30]], [[100.2, 30.2], [100.3, 30.2], [100.3, 30.3], [100.2, 30.3], [100.2, 30.2]]] },
    },
    { type: 'Feature', properties: { id: 'G', name: 'Grid', nameZh: '第一网格', level: 'grid', parentId: 'V' }, geometry: { type: 'Polygon', coordinates: [[[100, 30], [100.1, 30], [100.1, 30.1], [100, 30.1], [100, 30]]] } },
  ],
};

t.test('grid assignment: the most specific grid; a hole falls to the parent; outside is null', async (t) => {
  const { app, token } = await testCloud(t, { grids: HOLED });
  const cases: Array<[string, { lon: number; lat: number } | undefined, string | null]> = [
    ['dev-in-grid', { lon: 100.05, lat: 30.05 }, 'G'],
    ['dev-in-village', { lon: 100.4, lat: 30.4 }, 'V'],
    ['dev-in-hole', { lon: 100.25, lat: 30.25 }, 'T'],
    ['dev-outside', { lon: 120, lat: 30 }, null],
    ['dev-no-location', undefined, null],
  ];
  await postAlarms(
    app,
    token,
    cases.map(([deviceId, location], i) => envelope({ alarmId: `alarm-grid000${i}`, deviceId, location })),
  );
  for (const [deviceId, , gridId] of cases) {
    const { items } = await getJson<EventListT>(app, `/api/v1/events?deviceId=${deviceId}`);
    t.equal(items[0]?.gridId, gridId, `${deviceId} → ${gridId}`);
  }
  const g = (await getJson<EventListT>(app, '/api/v1/events?deviceId=dev-in-grid')).items[0]!;
  t.equal(g.gridName, 'Grid');
});

t.test('categories, labels, priority and deadline with the injected clock', async (t) => {
  const { app, token, clock } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const opened = clock.now();
  await postAlarms(app, token, [
    envelope({ alarmId: 'alarm-flood001' }),
    envelope({ alarmId: 'alarm-smoke001', deviceId: 'smoke-1', type: 'smoke_detected', severity: 'minor', site: 'nursing_home', profile: undefined }),
  ]);
  const flood = (await getJson<EventListT>(app, '/api/v1/events?category=flood_control')).items[0]!;
  t.match(flood, { status: 'reported', statusLabel: '上报', category: 'flood_control', categoryLabel: '防汛', priority: 2, priorityLabel: '紧急', gridId: 'qingquan-riverside-g01', gridName: 'Riverside Grid 1' });
  t.equal(flood.openedAt, new Date(opened).toISOString());
  t.equal(flood.deadlineAt, new Date(opened + 4 * 3_600_000).toISOString(), 'flood, priority 2: 4 h');
  const smoke = (await getJson<EventListT>(app, '/api/v1/events?category=fire_safety')).items[0]!;
  t.match(smoke, { categoryLabel: '消防安全', priority: 2, gridId: 'qingquan-riverside-g01' }, 'minor at a nursing home: one step more urgent');
  t.equal(smoke.deadlineAt, new Date(opened + 2 * 3_600_000).toISOString(), 'fire, priority 2: 2 h');
});

t.test('policy overrides from CloudOptions.config', async (t) => {
  const { app, token, clock } = await testCloud(t, { config: { typeRules: [{ prefix: 'water_level_', category: 'work_safety' }] } });
  await postAlarms(app, token, [envelope()]);
  const e = (await getJson<EventListT>(app, '/api/v1/events')).items[0]!;
  t.equal(e.category, 'work_safety');
  t.equal(e.categoryLabel, '安全生产');
  t.equal(e.deadlineAt, new Date(clock.now() + 4 * 3_600_000).toISOString());
});

t.test('alarm ids are scoped by edge; alarm reads and filters', async (t) => {
  const { app, token } = await testCloud(t);
  const tokenB = await createEdgeToken(app, 'town-b');
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-shared01' })]);
  const r = await postAlarms(app, tokenB, [envelope({ alarmId: 'alarm-shared01', deviceId: 'wl-b' })]);
  t.same(r.json(), { accepted: 1, duplicates: 0 }, 'the same alarm id from another edge is another alarm');
  const all = await getJson<AlarmListT>(app, '/api/v1/alarms');
  t.same(all.items.map((a) => a.edgeId).sort(), ['town-a', 'town-b']);
  t.equal((await getJson<AlarmListT>(app, '/api/v1/alarms?deviceId=wl-b')).items.length, 1);
  t.equal((await getJson<AlarmListT>(app, '/api/v1/alarms?state=cleared')).items.length, 0);
  t.equal((await getJson<AlarmListT>(app, '/api/v1/alarms?edgeId=town-b&alarmId=alarm-shared01')).items.length, 1);
  const one = await getJson<{ id: string; alarmId: string }>(app, `/api/v1/alarms/${all.items[0]!.id}`);
  t.equal(one.id, all.items[0]!.id);
  const missing = await app.inject({ url: '/api/v1/alarms/nope', headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'GS_ERR_ALARM_NOT_FOUND');
  const bad = await app.inject({ url: '/api/v1/alarms?state=burning', headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().code, 'GS_ERR_VALIDATION');
});

t.test('a batch is all or nothing: a failure mid-batch stores none of it', async (t) => {
  const { app, token } = await testCloud(t);
  // Stage a database failure on the second alarm of the batch, after the first was fully applied.
  if (app.dbKind === 'postgres') {
    await sql`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.alarm_id = 'alarm-boom0001' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$`.execute(app.db);
    await sql`CREATE TRIGGER boom BEFORE INSERT ON alarms FOR EACH ROW EXECUTE FUNCTION boom()`.execute(app.db);
  } else {
    await sql`CREATE TRIGGER boom BEFORE INSERT ON alarms WHEN NEW.alarm_id = 'alarm-boom0001' BEGIN SELECT RAISE(ABORT, 'boom'); END`.execute(app.db);
  }
  const good = envelope({ alarmId: 'alarm-good0001' });
  const res = await postAlarms(app, token, [good, envelope({ alarmId: 'alarm-boom0001', deviceId: 'wl-2' })]);
  t.equal(res.statusCode, 500);
  t.same(res.json(), { code: 'GS_ERR_INTERNAL', message: 'internal error' }, 'no internals leak');
  t.equal((await getJson<AlarmListT>(app, '/api/v1/alarms')).items.length, 0, 'no alarm');
  t.equal((await getJson<EventListT>(app, '/api/v1/events')).items.length, 0, 'no event');
  await (app.dbKind === 'postgres' ? sql`DROP TRIGGER boom ON alarms` : sql`DROP TRIGGER boom`).execute(app.db);
  t.same((await postAlarms(app, token, [good])).json(), { accepted: 1, duplicates: 0 }, 'the retry is new to the cloud: nothing was half-stored');
});

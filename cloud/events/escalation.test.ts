// Supervision on a manual clock: late acceptance and overdue events escalate once each, by 'system',
// through the state machine; events someone is on time with are left alone. And a category that
// closes on clear files its event without a person.
import t from 'tap';
import { admin, envelope, getJson, postAlarms, raiseAndClear, SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { seedRoster } from '../grids/roster-fixture.js';

type EventT = { id: string; deviceId: string; status: string; statusLabel: string; escalations: number; priority: number; timeline: Array<{ kind: string; actor: string; note: string | null }> };

const MIN = 60_000;

t.test('not accepted within its priority\'s minutes → escalated (督办); accepted in time → left alone; overdue → escalated again', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  // critical → priority 1: 15 min to accept, flood_control deadline 2 h.
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-late-0001', deviceId: 'late', severity: 'critical' })]);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-ontime-01', deviceId: 'ontime', severity: 'critical' })]);
  const { items } = await getJson<{ items: EventT[] }>(app, '/api/v1/events');
  const late = items.find((e) => e.deviceId === 'late')!;
  const onTime = items.find((e) => e.deviceId === 'ontime')!;
  t.equal(late.priority, 1);

  clock.advance(10 * MIN);
  t.same(await app.superviseEvents(), [], 'nothing is late at 10 min');
  await admin(app, 'POST', `/api/v1/events/${onTime.id}/transitions`, { action: 'accept' });
  clock.advance(6 * MIN);
  t.same(await app.superviseEvents(), [late.id], 'at 16 min the unaccepted one escalates');
  t.same(await app.superviseEvents(), [], 'once');
  const esc = await getJson<EventT>(app, `/api/v1/events/${late.id}`);
  t.equal(esc.status, 'escalated');
  t.equal(esc.statusLabel, '督办');
  t.equal(esc.escalations, 1);
  t.match(esc.timeline.at(-1), { kind: 'escalate', actor: 'system', note: /not accepted within 15 min/ });

  // The dispatcher takes the escalated one on again; the deadline (2 h) then passes on both.
  await admin(app, 'POST', `/api/v1/events/${late.id}/transitions`, { action: 'accept' });
  clock.advance(2 * 60 * MIN);
  t.same((await app.superviseEvents()).sort(), [late.id, onTime.id].sort(), 'both overdue');
  t.equal((await getJson<EventT>(app, `/api/v1/events/${late.id}`)).escalations, 2);
  t.match((await getJson<EventT>(app, `/api/v1/events/${onTime.id}`)).timeline.at(-1), { kind: 'escalate', note: /overdue/ });
  clock.advance(60 * MIN);
  t.same(await app.superviseEvents(), [], 'an overdue event escalates once for its deadline');
});

t.test('closed and resolved events are never escalated', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await seedRoster(app);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-done-0001', severity: 'critical' })]);
  const [e] = (await getJson<{ items: EventT[] }>(app, '/api/v1/events')).items;
  for (const body of [{ action: 'accept' }, { action: 'dispatch', assignee: { kind: 'worker', id: 'w' } }, { action: 'start' }, { action: 'resolve', note: 'done' }]) {
    await admin(app, 'POST', `/api/v1/events/${e!.id}/transitions`, body);
  }
  clock.advance(24 * 60 * MIN);
  t.same(await app.superviseEvents(), []);
});

t.test('a category with closeOnClear files its event when every alarm has cleared', async (t) => {
  const { app, token } = await testCloud(t, {
    grids: SAMPLE_COUNTY,
    config: { categories: { public_facilities: { label: '公共设施', deadlineHours: { 1: 4, 2: 8, 3: 48, 4: 120 }, closeOnClear: true } } },
  });
  const [raise, clear] = raiseAndClear('alarm-offline-01', { type: 'device_offline', severity: 'minor', value: undefined, unit: undefined, threshold: undefined });
  await postAlarms(app, token, [raise]);
  const [e] = (await getJson<{ items: EventT[] }>(app, '/api/v1/events')).items;
  t.equal(e!.status, 'reported');
  await postAlarms(app, token, [{ ...clear, value: undefined }]);
  const after = await getJson<EventT>(app, `/api/v1/events/${e!.id}`);
  t.equal(after.status, 'closed');
  t.match(after.timeline.at(-1), { kind: 'auto_closed', actor: 'system' });

  // flood_control keeps the default: ready to verify, still open.
  const [r2, c2] = raiseAndClear('alarm-flood-0001');
  await postAlarms(app, token, [r2]);
  await postAlarms(app, token, [c2]);
  const flood = (await getJson<{ items: Array<EventT & { readyToVerify: boolean; alarmType: string }> }>(app, '/api/v1/events')).items.find((x) => x.alarmType === 'water_level_warning')!;
  t.equal(flood.status, 'reported');
  t.equal(flood.readyToVerify, true);
});

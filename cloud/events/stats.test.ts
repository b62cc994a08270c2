// Statistics over a small, hand-made history on a manual clock, so every figure is checked by hand.
import t from 'tap';
import { ADMIN, admin, envelope, getJson, postAlarms, SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { seedRoster } from '../grids/roster-fixture.js';

type Row = { key: string | null; label: string | null; total: number; open: number; handled: number; handlingRate: number | null; overdue: number; overdueRate: number | null; meanMinutesToAccept: number | null; meanMinutesToResolve: number | null };
const MIN = 60_000;
const QINGQUAN = { lon: 101.04, lat: 38.8 };
const DONGLE = { lon: 101.2, lat: 38.8 };

t.test('per town, grid and category: counts, handling rate, overdue rate, mean minutes to accept and resolve', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await seedRoster(app);
  const open = async (alarmId: string, deviceId: string, location: { lon: number; lat: number }, type = 'water_level_warning') => {
    await postAlarms(app, token, [envelope({ alarmId, deviceId, location, type, severity: 'critical' })]);
    return (await getJson<{ items: Array<{ id: string; deviceId: string }> }>(app, `/api/v1/events?deviceId=${deviceId}`)).items[0]!.id;
  };
  const step = (id: string, body: Record<string, unknown>) => admin(app, 'POST', `/api/v1/events/${id}/transitions`, body);
  const handle = async (id: string, acceptAfter: number, resolveAfter: number) => {
    clock.advance(acceptAfter * MIN);
    await step(id, { action: 'accept' });
    await step(id, { action: 'dispatch', assignee: { kind: 'worker', id: 'w' } });
    await step(id, { action: 'start' });
    clock.advance((resolveAfter - acceptAfter) * MIN);
    await step(id, { action: 'resolve', note: 'done' });
  };

  // Qingquan: a flood event accepted after 10 min and resolved at 60 min (within its 2 h deadline);
  // another resolved at 180 min (late). Dongle: a fire event never touched, past its 1 h deadline.
  const start = clock.now();
  const a = await open('alarm-st-00001', 'qa', QINGQUAN);
  await handle(a, 10, 60);
  const b = await open('alarm-st-00002', 'qb', QINGQUAN);
  await handle(b, 20, 180);
  await open('alarm-st-00003', 'dc', DONGLE, 'smoke_detected');
  clock.advance(2 * 60 * MIN);

  const town = await getJson<{ items: Row[] }>(app, '/api/v1/stats/events');
  t.same(town.items, [
    { key: 'dongle', label: '东乐镇', total: 1, open: 1, handled: 0, handlingRate: 0, overdue: 1, overdueRate: 1, meanMinutesToAccept: null, meanMinutesToResolve: null },
    { key: 'qingquan', label: '清泉镇', total: 2, open: 2, handled: 2, handlingRate: 1, overdue: 1, overdueRate: 0.5, meanMinutesToAccept: 15, meanMinutesToResolve: 120 },
  ]);
  const cat = await getJson<{ items: Row[] }>(app, '/api/v1/stats/events?groupBy=category');
  t.same(cat.items.map((r) => [r.key, r.label, r.total]), [['fire_safety', '消防安全', 1], ['flood_control', '防汛', 2]]);
  const grid = await getJson<{ items: Row[] }>(app, '/api/v1/stats/events?groupBy=grid');
  t.same(grid.items.map((r) => [r.key, r.total]), [['dongle-market-g01', 1], ['qingquan-riverside-g01', 2]]);
  const window = await getJson<{ items: Row[] }>(app, `/api/v1/stats/events?from=${start + 30 * MIN}`);
  t.same(window.items.map((r) => [r.key, r.total]), [['dongle', 1], ['qingquan', 1]], 'from bounds openedAt');

  t.equal((await app.inject({ url: '/api/v1/stats/events?groupBy=street', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 400);
  t.equal((await app.inject({ url: '/api/v1/stats/events?from=yesterday', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 400);

  // The list filters the governance platform asked for: town and overdue.
  const list = (q: string) => getJson<{ items: Array<{ deviceId: string; townId: string | null }> }>(app, `/api/v1/events?${q}`);
  t.same((await list('townId=qingquan')).items.map((e) => e.deviceId).sort(), ['qa', 'qb']);
  t.same((await list('overdue=true')).items.map((e) => e.deviceId), ['dc'], 'resolved events are not overdue');
  t.same((await list('overdue=false')).items.map((e) => e.deviceId).sort(), ['qa', 'qb']);
});

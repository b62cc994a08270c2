import t from 'tap';
import { ADMIN, testCloud, postAlarms, getJson, envelope, SAMPLE_COUNTY, type EventJsonT } from '../test-support.js';

type EventListT = { items: EventJsonT[]; nextCursor: string | null };

/**
 * Twelve events a minute apart: devices d00…d11, alternating types, severities cycling. The alarms'
 * own times are 11 minutes apart (an edge delivering a backlog), beyond fire's 10-minute join window,
 * so each smoke alarm is an event of its own rather than joining its neighbour's.
 */
async function seeded(t: Parameters<typeof testCloud>[0]) {
  const c = await testCloud(t, { grids: SAMPLE_COUNTY });
  const severities = ['critical', 'major', 'minor', 'warning'] as const;
  const start = c.clock.now();
  for (let i = 0; i < 12; i++) {
    const type = i % 2 === 0 ? 'water_level_warning' : 'smoke_detected';
    const location = i < 6 ? { lon: 101.04, lat: 38.8 } : { lon: 101.2, lat: 38.8 };
    const res = await postAlarms(c.app, c.token, [envelope({ alarmId: `alarm-seed-${i}`, deviceId: `d${String(i).padStart(2, '0')}`, type, severity: severities[i % 4], location, profile: undefined, ts: start + i * 11 * 60_000 })]);
    if (res.statusCode !== 200) throw new Error(res.body);
    c.clock.advance(60_000);
  }
  return { ...c, start };
}

t.test('list: newest first, filters combine', async (t) => {
  const { app, start } = await seeded(t);
  const all = await getJson<EventListT>(app, '/api/v1/events');
  t.equal(all.items.length, 12);
  t.equal(all.nextCursor, null);
  t.same(all.items.map((e) => e.deviceId), Array.from({ length: 12 }, (_, i) => `d${String(11 - i).padStart(2, '0')}`), 'newest first');

  const count = async (q: string) => (await getJson<EventListT>(app, `/api/v1/events?${q}`)).items.length;
  t.equal(await count('category=flood_control'), 6);
  t.equal(await count('category=fire_safety'), 6);
  t.equal(await count('status=reported'), 12);
  t.equal(await count('status=closed'), 0);
  t.equal(await count('priority=1'), 3);
  t.equal(await count('priority=1&category=flood_control'), 3, 'critical only on even devices here');
  t.equal(await count('deviceId=d03'), 1);
  t.equal(await count('gridId=qingquan-riverside-g01'), 6);
  t.equal(await count('gridId=dongle-market-g01'), 6);
  t.equal(await count(`from=${start + 5 * 60_000}`), 7, 'from is inclusive (ms)');
  t.equal(await count(`to=${new Date(start + 5 * 60_000).toISOString()}`), 5, 'to is exclusive (ISO)');
  t.equal(await count(`from=${start + 2 * 60_000}&to=${start + 4 * 60_000}`), 2);
});

t.test('cursor paging walks every event once, across pages, newest first', async (t) => {
  const { app, token } = await seeded(t);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: EventListT = await getJson<EventListT>(app, `/api/v1/events?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    seen.push(...page.items.map((e) => e.id));
    cursor = page.nextCursor;
    pages++;
    // A new event arriving mid-walk must not shift the pages (keyset paging).
    if (pages === 1) await postAlarms(app, token, [envelope({ alarmId: 'alarm-midwalk1', deviceId: 'late' })]);
  } while (cursor);
  t.equal(pages, 3);
  t.equal(seen.length, 12);
  t.equal(new Set(seen).size, 12, 'no duplicates');
  t.same(seen, [...seen].sort().reverse(), 'ids descending = opened descending here');

  const filtered = await getJson<EventListT>(app, '/api/v1/events?category=fire_safety&limit=4');
  t.equal(filtered.items.length, 4);
  const rest = await getJson<EventListT>(app, `/api/v1/events?category=fire_safety&limit=4&cursor=${encodeURIComponent(filtered.nextCursor!)}`);
  t.equal(rest.items.length, 2);
  t.equal(rest.nextCursor, null);
  t.ok(rest.items.every((e) => e.category === 'fire_safety'));
});

t.test('same opened_at: paging still total (ties broken by id)', async (t) => {
  const { app, token } = await testCloud(t);
  await postAlarms(app, token, Array.from({ length: 7 }, (_, i) => envelope({ alarmId: `alarm-tie-000${i}`, deviceId: `tie-${i}` })));
  const a = await getJson<EventListT>(app, '/api/v1/events?limit=3');
  const b = await getJson<EventListT>(app, `/api/v1/events?limit=3&cursor=${a.nextCursor}`);
  const c = await getJson<EventListT>(app, `/api/v1/events?limit=3&cursor=${b.nextCursor}`);
  const ids = [...a.items, ...b.items, ...c.items].map((e) => e.id);
  t.equal(new Set(ids).size, 7);
  t.equal(c.nextCursor, null);
});

t.test('bad list queries are 400s with the parameter named', async (t) => {
  const { app } = await testCloud(t);
  for (const [q, path] of [
    ['limit=0', '/limit'],
    ['limit=501', '/limit'],
    ['priority=5', '/priority'],
    ['status=done', '/status'],
    ['from=yesterday', '/from'],
    ['cursor=not-a-cursor', '/cursor'],
    ['colour=red', '/colour'],
  ] as const) {
    const res = await app.inject({ url: `/api/v1/events?${q}`, headers: { authorization: `Bearer ${ADMIN}` } });
    t.equal(res.statusCode, 400, q);
    t.equal(res.json().code, 'GS_ERR_VALIDATION', q);
    t.ok(res.json().details.some((d: { path: string }) => d.path.startsWith(path)), `${q} → ${path}`);
  }
});

t.test('detail: the event with its alarms and timeline; unknown id is GS_ERR_EVENT_NOT_FOUND', async (t) => {
  const { app, token, clock } = await testCloud(t, { grids: SAMPLE_COUNTY });
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-det00001', message: 'Water level 3.8 m above the warning line' })]);
  clock.advance(60_000);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-det00001', seq: 1, action: 'clear', value: 3.2 })]);
  const [listed] = (await getJson<EventListT>(app, '/api/v1/events')).items;
  const e = await getJson<EventJsonT & { timeline: Array<{ kind: string; actor: string; note: string; data: Record<string, unknown> }> }>(app, `/api/v1/events/${listed!.id}`);
  t.match(e, { id: listed!.id, categoryLabel: '防汛', gridNameZh: '河滨社区第一网格', occurrenceCount: 1, activeAlarms: 0 });
  t.same(e.alarms!.map((a) => [a.alarmId, a.state]), [['alarm-det00001', 'cleared']]);
  t.same(e.timeline.map((x) => [x.kind, x.actor]), [['opened', 'system'], ['alarm_cleared', 'town-a']]);
  t.match(e.timeline[0]!.note, /Water level 3.8 m/);
  t.match(e.timeline[0]!.data, { alarmId: 'alarm-det00001', seq: 0, value: 3.8, gridId: 'qingquan-riverside-g01' });
  t.equal(e.timeline[1]!.at, new Date(clock.now()).toISOString());

  const missing = await app.inject({ url: '/api/v1/events/01NOPE', headers: { authorization: `Bearer ${ADMIN}` } });
  t.equal(missing.statusCode, 404);
  t.match(missing.json(), { code: 'GS_ERR_EVENT_NOT_FOUND', message: /01NOPE/ });
});

// Dispatch (分流交办) names a real, serving grid worker or department that serves the event's town
// and category; anything else is a 400 with a stable code and changes nothing. The event keeps the
// assignee's name as it was when dispatched.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { admin, envelope, getJson, postAlarms, SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { apiKey, call, ok } from '../fleet/test-support.js';
import { seedRoster } from './roster-fixture.js';

type EventT = { id: string; status: string; townId: string | null; assignee: { kind: string; id: string; name: string | null } | null; timeline: Array<{ kind: string; data: Record<string, unknown> | null }> };

async function acceptedFloodEvent(t: Parameters<typeof testCloud>[0]) {
  const c = await testCloud(t, { grids: SAMPLE_COUNTY });
  await seedRoster(c.app);
  await ok(call(c.app, 'POST', '/api/v1/grid-workers', { body: { id: 'zhao', name: '赵网格', phone: '13800000001', gridId: 'dongle-market-g01' } }), 201);
  await ok(call(c.app, 'POST', '/api/v1/departments', { body: { id: 'dl-water', name: 'Dongle Water Station', scope: 'town', townId: 'dongle', categories: ['flood_control'] } }), 201);
  await ok(call(c.app, 'POST', '/api/v1/departments', { body: { id: 'fire-brigade', name: 'Fire Brigade', nameZh: '县消防救援大队', scope: 'county', categories: ['fire_safety'] } }), 201);
  await postAlarms(c.app, c.token, [envelope({ alarmId: 'alarm-dsp-0001' })]); // a flood alarm in Qingquan
  const id = (await getJson<{ items: EventT[] }>(c.app, '/api/v1/events')).items[0]!.id;
  await ok(admin(c.app, 'POST', `/api/v1/events/${id}/transitions`, { action: 'accept' }));
  return { ...c, id };
}

const dispatch = (app: FastifyInstance, id: string, assignee: { kind: string; id: string }, as?: string) =>
  call(app, 'POST', `/api/v1/events/${id}/transitions`, { body: { action: 'dispatch', assignee }, ...(as ? { as } : {}) });

t.test('unknown, retired, another town\'s, or not handling the category: 400 with its code, nothing changes', async (t) => {
  const { app, id } = await acceptedFloodEvent(t);
  await ok(call(app, 'DELETE', '/api/v1/grid-workers/wang'));
  const cases: Array<[{ kind: string; id: string }, string, string]> = [
    [{ kind: 'worker', id: 'ghost' }, 'GS_ERR_ASSIGNEE_UNKNOWN', 'no such worker'],
    [{ kind: 'department', id: 'ghost' }, 'GS_ERR_ASSIGNEE_UNKNOWN', 'no such department'],
    [{ kind: 'worker', id: 'water-bureau' }, 'GS_ERR_ASSIGNEE_UNKNOWN', 'a department named as a worker'],
    [{ kind: 'worker', id: 'wang' }, 'GS_ERR_ASSIGNEE_UNKNOWN', 'a retired worker'],
    [{ kind: 'worker', id: 'zhao' }, 'GS_ERR_ASSIGNEE_SCOPE', "another town's worker"],
    [{ kind: 'department', id: 'dl-water' }, 'GS_ERR_ASSIGNEE_SCOPE', "another town's department"],
    [{ kind: 'department', id: 'fire-brigade' }, 'GS_ERR_ASSIGNEE_SCOPE', 'a department that does not handle floods'],
  ];
  for (const [assignee, code, why] of cases) {
    const res = await dispatch(app, id, assignee);
    t.equal(res.statusCode, 400, why);
    t.match(res.json(), { code, details: [{ path: '/assignee/id' }] }, why);
  }
  const e = await getJson<EventT>(app, `/api/v1/events/${id}`);
  t.equal(e.status, 'accepted', 'still waiting to be dispatched');
  t.equal(e.assignee, null);
  t.same(e.timeline.map((x) => x.kind), ['opened', 'accept'], 'no dispatch recorded');
  const invalid = await dispatch(app, id, { kind: 'team', id: 'x' });
  t.equal(invalid.json().code, 'GS_ERR_VALIDATION', 'an unknown kind is a schema error');
});

t.test('a serving worker or department is stored with its name, kept when renamed later', async (t) => {
  const { app, id } = await acceptedFloodEvent(t);
  const res = await dispatch(app, id, { kind: 'worker', id: 'w' });
  t.equal(res.statusCode, 200, res.body.slice(0, 200));
  t.same(res.json<EventT>().assignee, { kind: 'worker', id: 'w', name: '王网格' });
  await ok(call(app, 'PATCH', '/api/v1/grid-workers/w', { body: { name: '王新' } }));
  const e = await getJson<EventT>(app, `/api/v1/events/${id}`);
  t.same(e.assignee, { kind: 'worker', id: 'w', name: '王网格' }, 'the name as dispatched');
  t.match(e.timeline.at(-1), { kind: 'dispatch', data: { assignee: { kind: 'worker', id: 'w', name: '王网格' } } });
  t.same((await getJson<{ items: EventT[] }>(app, '/api/v1/events')).items[0]!.assignee, e.assignee, 'lists carry it too');

  // Returned, then sent to a county department that handles floods: its Chinese name is kept.
  await ok(admin(app, 'POST', `/api/v1/events/${id}/transitions`, { action: 'return', note: 'needs a pump crew' }));
  const again = await dispatch(app, id, { kind: 'department', id: 'water-bureau' });
  t.same(again.json<EventT>().assignee, { kind: 'department', id: 'water-bureau', name: '县水务局' });
  await ok(admin(app, 'POST', `/api/v1/events/${id}/transitions`, { action: 'start' }));
  t.same((await getJson<EventT>(app, `/api/v1/events/${id}`)).assignee, again.json<EventT>().assignee, 'later steps keep the assignee');
});

t.test("a town dispatcher dispatches its town's events to its town's workers", async (t) => {
  const { app, id } = await acceptedFloodEvent(t);
  const qq = await apiKey(app, 'dispatcher', 'qingquan');
  t.equal((await dispatch(app, id, { kind: 'worker', id: 'zhao' }, qq)).json().code, 'GS_ERR_ASSIGNEE_SCOPE');
  const res = await dispatch(app, id, { kind: 'worker', id: 'wang' }, qq);
  t.equal(res.statusCode, 200, res.body.slice(0, 200));
});

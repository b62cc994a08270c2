// The loop over HTTP: an alarm opens an event; a dispatcher walks it to closed; illegal steps are
// refused with 409 and change nothing; the timeline says who, when, why; a closed event lets the next
// alarm of the same device open a new one.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { admin, envelope, getJson, postAlarms, raiseAndClear, SAMPLE_COUNTY, testCloud, type EventJsonT } from '../test-support.js';
import { seedRoster } from '../grids/roster-fixture.js';

type EventT = Omit<EventJsonT, 'timeline'> & {
  assignee: { kind: string; id: string; name: string | null } | null;
  allowedActions: string[];
  readyToVerify: boolean;
  acceptedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  timeline: Array<{ kind: string; actor: string; note: string | null; data: Record<string, unknown> | null }>;
};

async function step(app: FastifyInstance, id: string, body: Record<string, unknown>) {
  return admin(app, 'POST', `/api/v1/events/${id}/transitions`, body);
}

async function openEvent(t: Test) {
  const c = await testCloud(t, { grids: SAMPLE_COUNTY });
  await seedRoster(c.app);
  const res = await postAlarms(c.app, c.token, [envelope({ alarmId: 'alarm-loop-0001' })]);
  t.equal(res.statusCode, 200);
  const { items } = await getJson<{ items: EventT[] }>(c.app, '/api/v1/events');
  return { ...c, id: items[0]!.id };
}

t.test('the whole loop: accept → dispatch → start → resolve → verify → close', async (t) => {
  const { app, clock, id } = await openEvent(t);
  const fresh = await getJson<EventT>(app, `/api/v1/events/${id}`);
  t.same(fresh.allowedActions, ['accept', 'escalate']);
  const walk: Array<[Record<string, unknown>, string, string]> = [
    [{ action: 'accept', actor: 'dispatcher-li' }, 'accepted', '受理'],
    [{ action: 'dispatch', actor: 'dispatcher-li', assignee: { kind: 'department', id: 'water-bureau' } }, 'dispatched', '分流交办'],
    [{ action: 'start', actor: 'worker-wang' }, 'handling', '处置中'],
    [{ action: 'resolve', actor: 'worker-wang', note: 'sandbags placed, culvert cleared', attachments: [{ name: 'site.jpg', url: 'https://files.example/site.jpg' }] }, 'resolved', '办结'],
    [{ action: 'verify', actor: 'grid-zhao' }, 'verified', '核查'],
    [{ action: 'close', actor: 'dispatcher-li' }, 'closed', '归档'],
  ];
  for (const [body, status, label] of walk) {
    clock.advance(60_000);
    const res = await step(app, id, body);
    t.equal(res.statusCode, 200, `${String(body.action)}: ${res.body.slice(0, 200)}`);
    const e = res.json<EventT>();
    t.equal(e.status, status);
    t.equal(e.statusLabel, label);
  }
  const done = await getJson<EventT>(app, `/api/v1/events/${id}`);
  t.same(done.assignee, { kind: 'department', id: 'water-bureau', name: '县水务局' });
  t.same(done.allowedActions, [], 'nothing after closed');
  t.ok(done.acceptedAt && done.resolvedAt && done.closedAt, 'steps stamped');
  const steps = done.timeline.filter((e) => e.kind !== 'opened');
  t.same(steps.map((e) => e.kind), ['accept', 'dispatch', 'start', 'resolve', 'verify', 'close']);
  const resolve = steps.find((e) => e.kind === 'resolve')!;
  t.equal(resolve.actor, 'worker-wang');
  t.equal(resolve.note, 'sandbags placed, culvert cleared');
  t.match(resolve.data, { from: 'handling', to: 'resolved', attachments: [{ name: 'site.jpg' }] });
});

t.test('an illegal step is refused with 409, names what is allowed, and changes nothing', async (t) => {
  const { app, id } = await openEvent(t);
  const res = await step(app, id, { action: 'close' });
  t.equal(res.statusCode, 409);
  t.match(res.json(), { code: 'GS_ERR_EVENT_TRANSITION', message: /allowed: accept, escalate/ });
  const e = await getJson<EventT>(app, `/api/v1/events/${id}`);
  t.equal(e.status, 'reported');
  t.equal(e.timeline.length, 1, 'no timeline entry for a refused step');

  t.equal((await step(app, id, { action: 'accept' })).statusCode, 200);
  const noAssignee = await step(app, id, { action: 'dispatch' });
  t.equal(noAssignee.statusCode, 400);
  t.match(noAssignee.json(), { code: 'GS_ERR_VALIDATION', details: [{ path: '/assignee' }] });
  t.equal((await step(app, id, { action: 'fly' })).statusCode, 400, 'unknown action');
  t.equal((await step(app, id, { action: 'accept', extra: 1 })).statusCode, 400, 'unknown field');
  t.equal((await step(app, 'nope', { action: 'accept' })).statusCode, 404);
  const anon = await app.inject({ method: 'POST', url: `/api/v1/events/${id}/transitions`, payload: { action: 'accept' } });
  t.equal(anon.statusCode, 401, 'writes need a credential');
});

t.test('return sends the work back to the dispatcher, who sends it out again', async (t) => {
  const { app, id } = await openEvent(t);
  await step(app, id, { action: 'accept' });
  await step(app, id, { action: 'dispatch', assignee: { kind: 'department', id: 'roads' } });
  const back = await step(app, id, { action: 'return', actor: 'roads-desk', note: 'not ours: river bank belongs to water bureau' });
  t.equal(back.json<EventT>().status, 'returned');
  t.equal(back.json<EventT>().statusLabel, '退回');
  t.equal(back.json<EventT>().assignee, null);
  const again = await step(app, id, { action: 'dispatch', assignee: { kind: 'worker', id: 'wang' } });
  t.same(again.json<EventT>().assignee, { kind: 'worker', id: 'wang', name: '王明' });
});

t.test('two dispatchers at once: one step wins, the other is refused', async (t) => {
  const { app, id } = await openEvent(t);
  const [a, b] = await Promise.all([step(app, id, { action: 'accept', actor: 'a' }), step(app, id, { action: 'accept', actor: 'b' })]);
  t.same([a.statusCode, b.statusCode].sort(), [200, 409]);
  const e = await getJson<EventT>(app, `/api/v1/events/${id}`);
  t.equal(e.timeline.filter((x) => x.kind === 'accept').length, 1, 'one accept recorded');
});

t.test('a cleared alarm marks its event ready to verify; after close, the same alarm type opens a new event', async (t) => {
  const { app, token, id } = await openEvent(t);
  const [, clear] = raiseAndClear('alarm-loop-0001');
  await postAlarms(app, token, [clear]);
  t.equal((await getJson<EventT>(app, `/api/v1/events/${id}`)).readyToVerify, true);
  for (const body of [{ action: 'accept' }, { action: 'dispatch', assignee: { kind: 'worker', id: 'w' } }, { action: 'start' }, { action: 'resolve', note: 'ok' }, { action: 'verify' }, { action: 'close' }]) {
    t.equal((await step(app, id, body)).statusCode, 200);
  }
  t.equal((await getJson<EventT>(app, `/api/v1/events/${id}`)).readyToVerify, false, 'closed is not waiting for anyone');
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-loop-0002' })]);
  const { items } = await getJson<{ items: EventT[] }>(app, '/api/v1/events');
  t.equal(items.length, 2, 'a new event: the old one is closed');
  t.equal(items[0]!.status, 'reported');
});

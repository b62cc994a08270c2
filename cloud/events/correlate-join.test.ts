// The correlator's join window, pure: alarms of one category in one grid within the category's
// window of an open event's first alarm join it; other categories, other grids, alarms outside the
// window and closed events do not. Time is the alarms' own (ts), injected as plain numbers.
import t from 'tap';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import { correlate, joins, type JoinCandidate } from './correlate.js';
import { joinWindowMs, resolvePolicy, DEFAULT_POLICY } from './policy.js';

const NOW = Date.UTC(2026, 6, 1, 8, 0, 0);
const MIN = 60_000;
const policy = resolvePolicy();
const ctx = { gridId: 'g1', townId: 'town', now: NOW, policy, edgeId: 'town-a' };

function smoke(o: Partial<Envelope> = {}): Envelope {
  return { alarmId: 'alarm-smoke-2', seq: 0, action: 'raise', type: 'smoke_detected', severity: 'major', deviceId: 'smoke-2', ts: NOW, ...o };
}

/** A fire event opened by another device 5 minutes earlier. */
function fire(o: Partial<JoinCandidate> = {}): JoinCandidate {
  return { id: 'E1', category: 'fire_safety', priority: 2, occurrenceCount: 1, activeAlarms: 1, openedAt: NOW - 5 * MIN, deadlineAt: NOW + 2 * 3_600_000, clearedAt: null, gridId: 'g1', incidentAt: NOW - 5 * MIN, closed: false, ...o };
}

t.test('default windows: fire 10 min; off for the others', async (t) => {
  t.equal(joinWindowMs(policy, 'fire_safety'), 10 * MIN);
  for (const c of ['flood_control', 'public_security', 'public_facilities', 'work_safety']) t.equal(joinWindowMs(policy, c), 0, c);
  t.equal(joinWindowMs(policy, 'no_such_category'), 0);
});

t.test('inside the window: heat from another device joins the fire event (occurrence +1, one more active alarm)', async (t) => {
  const d = correlate(smoke({ type: 'temperature_high', deviceId: 'heat-1' }), null, { ...ctx, joinCandidate: fire() });
  if (d.kind !== 'update') throw t.fail(`expected update, got ${d.kind}`);
  t.equal(d.eventId, 'E1');
  t.ok(d.linkAlarm, 'the alarm is linked to the event');
  t.same(d.patch, { updatedAt: NOW, occurrenceCount: 2, activeAlarms: 2, clearedAt: null });
  t.equal(d.timeline.kind, 'alarm_joined');
  t.match(d.timeline.note, /temperature_high of heat-1 joined: 消防安全 in the same grid within 10 min/);
  t.match(d.timeline.data, { deviceId: 'heat-1', alarmType: 'temperature_high', gridId: 'g1' });
});

t.test('the window edges: exactly 10 min joins, one ms more does not; an earlier alarm delivered late joins too', async (t) => {
  const c = fire({ incidentAt: NOW });
  t.ok(joins(smoke({ ts: NOW + 10 * MIN }), c, ctx), 'at +10 min');
  t.notOk(joins(smoke({ ts: NOW + 10 * MIN + 1 }), c, ctx), 'at +10 min 1 ms');
  t.ok(joins(smoke({ ts: NOW - 10 * MIN }), c, ctx), 'at −10 min (delivered after the event opened)');
  t.notOk(joins(smoke({ ts: NOW - 10 * MIN - 1 }), c, ctx));
  const outside = correlate(smoke({ ts: NOW + 11 * MIN }), null, { ...ctx, joinCandidate: c });
  t.equal(outside.kind, 'open', 'outside the window: a new event');
  if (outside.kind === 'open') t.equal(outside.event.incidentAt, NOW + 11 * MIN, 'the new event anchors its own window');
});

t.test('another category, another grid, no grid, a closed event: no join', async (t) => {
  t.equal(correlate(smoke({ type: 'water_level_warning' }), null, { ...ctx, joinCandidate: fire({ category: 'flood_control' }) }).kind, 'open', 'flood has no window');
  t.equal(correlate(smoke({ type: 'door_forced' }), null, { ...ctx, joinCandidate: fire() }).kind, 'open', 'a security alarm does not join a fire');
  t.equal(correlate(smoke(), null, { ...ctx, joinCandidate: fire({ gridId: 'g2' }) }).kind, 'open', 'another grid');
  t.equal(correlate(smoke(), null, { ...ctx, gridId: null, joinCandidate: fire({ gridId: null }) }).kind, 'open', 'outside every grid nothing is near anything');
  t.equal(correlate(smoke(), null, { ...ctx, joinCandidate: fire({ closed: true }) }).kind, 'open', 'a closed event absorbs nothing');
});

t.test('dedup still comes first: the same device and type repeats its own event, whatever the candidate', async (t) => {
  const own = { id: 'OWN', category: 'fire_safety', priority: 2 as const, occurrenceCount: 3, activeAlarms: 0, openedAt: NOW - 3_600_000, deadlineAt: NOW, clearedAt: NOW - 60_000 };
  const d = correlate(smoke(), own, { ...ctx, joinCandidate: fire() });
  if (d.kind !== 'update') throw t.fail('expected update');
  t.equal(d.eventId, 'OWN');
  t.equal(d.timeline.kind, 'alarm_repeated');
  t.same(d.patch, { updatedAt: NOW, occurrenceCount: 4, activeAlarms: 1, clearedAt: null }, 'reopen policy kept: a repeat undoes the clear');
});

t.test('a joining alarm undoes a clear and may raise the priority (never lowers it)', async (t) => {
  const cleared = fire({ activeAlarms: 0, clearedAt: NOW - MIN });
  const d = correlate(smoke({ severity: 'critical', type: 'gas_leak', deviceId: 'gas-1' }), null, { ...ctx, joinCandidate: cleared });
  if (d.kind !== 'update') throw t.fail('expected update');
  t.equal(d.patch.clearedAt, null);
  t.equal(d.patch.activeAlarms, 1);
  t.equal(d.patch.priority, 1, 'critical gas raises the fire event to 特急');
  t.ok(d.patch.deadlineAt! <= cleared.deadlineAt);
  const milder = correlate(smoke({ severity: 'warning' }), null, { ...ctx, joinCandidate: fire() });
  if (milder.kind !== 'update') throw t.fail('expected update');
  t.equal(milder.patch.priority, undefined);
});

t.test('updates and clears are not joins: they follow their own alarm', async (t) => {
  t.equal(correlate(smoke({ action: 'update', seq: 1 }), null, { ...ctx, joinCandidate: fire() }).kind, 'ignore');
  t.equal(correlate(smoke({ action: 'clear', seq: 1 }), null, { ...ctx, joinCandidate: fire() }).kind, 'ignore');
});

t.test('a county sets its own windows; a bad one is GS_ERR_CONFIG_INVALID', async (t) => {
  const flood = resolvePolicy({ categories: { flood_control: { ...DEFAULT_POLICY.categories.flood_control!, joinWindowMinutes: 30 } } });
  t.equal(joinWindowMs(flood, 'flood_control'), 30 * MIN);
  const off = resolvePolicy({ categories: { fire_safety: { ...DEFAULT_POLICY.categories.fire_safety!, joinWindowMinutes: 0 } } });
  t.notOk(joins(smoke(), fire(), { ...ctx, policy: off }), 'fire joining turned off');
  for (const bad of [-1, 1441, Number.NaN, '10' as unknown as number]) {
    t.throws(() => resolvePolicy({ categories: { fire_safety: { ...DEFAULT_POLICY.categories.fire_safety!, joinWindowMinutes: bad } } }), {
      code: 'GS_ERR_CONFIG_INVALID',
      details: [{ path: '/categories/fire_safety/joinWindowMinutes' }],
    }, String(bad));
  }
});

t.test('an opened event keeps the grid snapshot it was placed in', async (t) => {
  const grid = { id: 'g1', version: 3, name: 'Riverside Grid 1', nameZh: '河滨社区第一网格', path: [{ id: 'county', level: 'county', name: 'County', nameZh: '县' }] };
  const d = correlate(smoke(), null, { ...ctx, grid });
  if (d.kind !== 'open') throw t.fail('expected open');
  t.match(d.event, { gridId: 'g1', gridVersion: 3, gridName: 'Riverside Grid 1', gridNameZh: '河滨社区第一网格', gridPath: grid.path, incidentAt: NOW });
});

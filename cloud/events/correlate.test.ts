import t from 'tap';
import { correlate, dedupKeyOf, type EventSummary } from './correlate.js';
import { resolvePolicy, DEFAULT_POLICY, categoryFor, priorityFor } from './policy.js';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';

const NOW = Date.UTC(2026, 6, 1, 8, 0, 0);
const H = 3_600_000;
const policy = resolvePolicy();
const ctx = { gridId: 'g1', now: NOW, policy, edgeId: 'town-a' };

function env(o: Partial<Envelope> = {}): Envelope {
  return { alarmId: 'alarm-0001', seq: 0, action: 'raise', type: 'water_level_warning', severity: 'major', deviceId: 'wl-1', ts: NOW - 1000, ...o };
}

function open(o: Partial<EventSummary> = {}): EventSummary {
  return { id: 'E1', category: 'flood_control', priority: 2, occurrenceCount: 1, activeAlarms: 1, openedAt: NOW - H, deadlineAt: NOW + 3 * H, clearedAt: null, ...o };
}

t.test('a raise with no open event opens one: category, priority, deadline, grid', async (t) => {
  const d = correlate(env({ location: { lon: 101, lat: 38 }, message: 'over the line' }), null, ctx);
  if (d.kind !== 'open') throw t.fail(`expected open, got ${d.kind}`);
  t.match(d.event, {
    dedupKey: dedupKeyOf('wl-1', 'water_level_warning'),
    edgeId: 'town-a',
    gridId: 'g1',
    category: 'flood_control',
    priority: 2,
    status: 'reported',
    occurrenceCount: 1,
    activeAlarms: 1,
    openedAt: NOW,
    deadlineAt: NOW + 4 * H,
    location: { lon: 101, lat: 38 },
  });
  t.equal(d.timeline.kind, 'opened');
  t.equal(d.timeline.actor, 'system');
  t.match(d.timeline.note, /防汛.*over the line/);
});

t.test('a repeat raise updates the open event: occurrence +1, clear undone', async (t) => {
  const d = correlate(env({ alarmId: 'alarm-0002' }), open({ clearedAt: NOW - 10, activeAlarms: 0 }), ctx);
  if (d.kind !== 'update') throw t.fail(`expected update, got ${d.kind}`);
  t.equal(d.eventId, 'E1');
  t.ok(d.linkAlarm);
  t.same(d.patch, { updatedAt: NOW, occurrenceCount: 2, activeAlarms: 1, clearedAt: null });
  t.equal(d.timeline.kind, 'alarm_repeated');
  t.equal(d.timeline.actor, 'town-a');
});

t.test('a more severe repeat raises the priority and shortens the deadline, never lengthens it', async (t) => {
  const d = correlate(env({ alarmId: 'alarm-0002', severity: 'critical' }), open(), ctx);
  if (d.kind !== 'update') throw t.fail('expected update');
  t.equal(d.patch.priority, 1);
  t.equal(d.patch.deadlineAt, NOW - H + 2 * H, 'opened_at + 2 h (flood, p1)');
  const milder = correlate(env({ alarmId: 'alarm-0003', severity: 'warning' }), open(), ctx);
  if (milder.kind !== 'update') throw t.fail('expected update');
  t.equal(milder.patch.priority, undefined, 'a milder repeat leaves the priority');
  t.equal(milder.patch.deadlineAt, undefined);
});

t.test('updates: escalation changes the event, anything else is ignored', async (t) => {
  const up = correlate(env({ seq: 1, action: 'update', severity: 'critical' }), open(), ctx);
  t.match(up, { kind: 'update', linkAlarm: false, patch: { priority: 1 }, timeline: { kind: 'alarm_updated' } });
  t.match(correlate(env({ seq: 1, action: 'update', severity: 'major' }), open(), ctx), { kind: 'ignore' });
  t.match(correlate(env({ seq: 1, action: 'update' }), null, ctx), { kind: 'ignore' });
});

t.test('clear: recorded; the event counts as cleared only when its last active alarm clears', async (t) => {
  const last = correlate(env({ seq: 1, action: 'clear' }), open(), ctx);
  t.match(last, { kind: 'clear-recorded', eventId: 'E1', patch: { activeAlarms: 0, clearedAt: NOW }, timeline: { kind: 'alarm_cleared' } });
  const notLast = correlate(env({ seq: 1, action: 'clear' }), open({ activeAlarms: 2 }), ctx);
  t.match(notLast, { kind: 'clear-recorded', patch: { activeAlarms: 1, clearedAt: null } });
  t.match(correlate(env({ seq: 1, action: 'clear' }), null, ctx), { kind: 'ignore' });
});

t.test('policy: categories by type prefix, then profile kind, then fallback', async (t) => {
  const cases: Array<[string, string | undefined, string]> = [
    ['water_level_critical', undefined, 'flood_control'],
    ['rainfall_heavy', undefined, 'flood_control'],
    ['smoke_detected', undefined, 'fire_safety'],
    ['temperature_high', undefined, 'fire_safety'],
    ['gas_leak', undefined, 'fire_safety'],
    ['door_forced', undefined, 'public_security'],
    ['access_denied_repeated', undefined, 'public_security'],
    ['manhole_open', undefined, 'public_security'],
    ['device_offline', undefined, 'public_facilities'],
    ['battery_low', undefined, 'public_facilities'],
    ['camera_tampered', undefined, 'public_facilities'],
    ['value_high', 'structural_tilt', 'work_safety'],
    ['value_high', 'water_level', 'flood_control'],
    ['value_high', undefined, 'public_facilities'],
  ];
  for (const [type, kind, want] of cases) t.equal(categoryFor(policy, type, kind), want, `${type}${kind ? ` (${kind})` : ''} → ${want}`);
});

t.test('policy: priority from severity, one step more urgent at sensitive sites, never past 1', async (t) => {
  t.equal(priorityFor(policy, 'critical', undefined), 1);
  t.equal(priorityFor(policy, 'major', undefined), 2);
  t.equal(priorityFor(policy, 'minor', undefined), 3);
  t.equal(priorityFor(policy, 'warning', undefined), 4);
  t.equal(priorityFor(policy, 'minor', 'nursing_home'), 2);
  t.equal(priorityFor(policy, 'warning', 'school'), 3);
  t.equal(priorityFor(policy, 'critical', 'hospital'), 1);
  t.equal(priorityFor(policy, 'major', 'bridge'), 2);
  const d = correlate(env({ type: 'smoke_detected', severity: 'major', site: 'nursing_home' }), null, ctx);
  t.match(d, { kind: 'open', event: { category: 'fire_safety', priority: 1, deadlineAt: NOW + 1 * H } });
});

t.test('policy overrides merge by category and are checked', async (t) => {
  const p = resolvePolicy({ categories: { flood_control: { label: '防汛', deadlineHours: { 1: 1, 2: 2, 3: 3, 4: 4 } } } });
  t.equal(p.categories.flood_control!.deadlineHours[2], 2);
  t.same(p.categories.fire_safety, DEFAULT_POLICY.categories.fire_safety, 'other categories kept');
  t.throws(() => resolvePolicy({ fallbackCategory: 'nope' }), { code: 'GS_ERR_CONFIG_INVALID' });
  t.throws(() => resolvePolicy({ typeRules: [{ prefix: 'x', category: 'nope' }] }), { code: 'GS_ERR_CONFIG_INVALID', details: [{ path: '/typeRules/0/category' }] });
});

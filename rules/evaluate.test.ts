import t from 'tap';
import Value from 'typebox/value';
import { AlarmEnvelope } from '../contracts/alarm.js';
import { alarmIdFor } from './alarm-id.js';
import { feed, gauge, level, MIN, ruleFrom, SEC, steady, T0, WARNING, type Step } from './test-support.js';

const warning = ruleFrom(WARNING);

t.test('hold: a spike shorter than hold raises nothing', async (t) => {
  const { alarms, state } = feed(warning, [[0, 3.0], ...steady(3.8, 10 * SEC, 100 * SEC), [110 * SEC, 3.4], [120 * SEC, 3.0]]);
  t.same(alarms, [], 'over the line for 90 s of a 2 min hold');
  t.same(state, {}, 'nothing pending once the level fell back');
});

t.test('hold: a rise longer than hold raises once, at start + hold', async (t) => {
  const { alarms } = feed(warning, steady(3.8, 10 * SEC, 10 * MIN));
  t.equal(alarms.length, 1, 'one alarm for ten minutes over the line');
  const raise = alarms[0]!;
  t.equal(raise.action, 'raise');
  t.equal(raise.seq, 0);
  t.equal(raise.ts, T0 + 10 * SEC + 2 * MIN, 'raised at the first reading 2 min after the first one over the line');
  t.equal(raise.type, 'water_level_warning');
  t.equal(raise.severity, 'major');
  t.equal(raise.ruleId, 'wl-warning');
  t.equal(raise.deviceId, gauge.id);
  t.equal(raise.point, 'water_level');
  t.equal(raise.value, 3.8);
  t.equal(raise.unit, 'm');
  t.equal(raise.threshold, 3.5);
  t.equal(raise.message, 'Water level 3.8 m above warning line 3.5 m at wl-001 (water_level)');
  t.equal(raise.alarmId, alarmIdFor(gauge.id, 'wl-warning', raise.ts));
});

t.test('hold: a reading below the line restarts the hold', async (t) => {
  const { alarms } = feed(warning, [[0, 3.8], [100 * SEC, 3.4], [110 * SEC, 3.8], [200 * SEC, 3.8], [230 * SEC, 3.8]]);
  t.equal(alarms.length, 1);
  t.equal(alarms[0]!.ts, T0 + 230 * SEC, 'counted from 110 s, not from 0 s');
});

t.test('hold is measured with now, not with the reading count', async (t) => {
  // Two readings 2 min apart are enough: continuous from the first true reading to now ≥ start + hold.
  const { alarms } = feed(warning, [[0, 3.8], [2 * MIN - 1, 3.8], [2 * MIN, 3.8]]);
  t.equal(alarms.length, 1);
  t.equal(alarms[0]!.ts, T0 + 2 * MIN, 'not at 2 min - 1 ms');
});

t.test('hysteresis: oscillating between the clear and raise lines does not flap', async (t) => {
  const rise = steady(3.8, 0, 3 * MIN);
  const wobble: Step[] = [];
  for (let i = 1; i <= 60; i++) wobble.push([3 * MIN + i * 10 * SEC, i % 2 ? 3.4 : 3.6]);
  const { alarms, state } = feed(warning, [...rise, ...wobble]);
  t.equal(alarms.length, 1, 'raised once, never cleared while the level stays above 3.3 m');
  t.equal(alarms[0]!.action, 'raise');
  t.ok((state as { active?: unknown }).active, 'still active');

  const idle = feed(warning, wobble.map(([ts]) => [ts, ts % 20_000 ? 3.49 : 3.35] as Step));
  t.same(idle.alarms, [], 'hovering under the raise line never raises');
});

t.test('hysteresis: a value between the lines resets the clear hold', async (t) => {
  const raised = feed(warning, steady(3.8, 0, 2 * MIN));
  t.equal(raised.alarms.length, 1);
  const { alarms } = feed(warning, [[3 * MIN, 3.2], [3 * MIN + 20 * SEC, 3.4], [3 * MIN + 40 * SEC, 3.2], [4 * MIN, 3.2], [4 * MIN + 10 * SEC, 3.2]], { state: raised.state });
  t.equal(alarms.length, 1);
  t.equal(alarms[0]!.ts, T0 + 4 * MIN + 10 * SEC, '30 s clear hold counted from 3:40, after the 3.4 m reading broke it');
});

t.test('clearHold: clears once, with seq 1, the raise id and severity, after the clear line held', async (t) => {
  const { alarms, state } = feed(warning, [...steady(3.8, 0, 2 * MIN), ...steady(3.1, 3 * MIN, 6 * MIN)]);
  t.equal(alarms.length, 2, 'raise then clear, nothing more');
  const [raise, clear] = alarms;
  t.equal(clear!.action, 'clear');
  t.equal(clear!.seq, 1);
  t.equal(clear!.alarmId, raise!.alarmId, 'one identity for the whole life');
  t.equal(clear!.severity, 'major');
  t.equal(clear!.ts, T0 + 3 * MIN + 30 * SEC);
  t.equal(clear!.threshold, 3.3, 'a clear carries the clear line');
  t.equal(clear!.value, 3.1);
  t.same(state, {}, 'back to idle');
});

t.test('clearHold: a dip shorter than clearHold does not clear', async (t) => {
  const { alarms } = feed(warning, [...steady(3.8, 0, 2 * MIN), [3 * MIN, 3.1], [3 * MIN + 20 * SEC, 3.1], [3 * MIN + 25 * SEC, 3.6]]);
  t.equal(alarms.length, 1);
});

t.test('after a clear the next rise is a new alarm with a new id', async (t) => {
  const { alarms } = feed(warning, [...steady(3.8, 0, 2 * MIN), ...steady(3.0, 3 * MIN, 4 * MIN), ...steady(3.9, 5 * MIN, 8 * MIN)]);
  t.same(alarms.map((a) => `${a.action}:${a.seq}`), ['raise:0', 'clear:1', 'raise:0']);
  t.not(alarms[2]!.alarmId, alarms[0]!.alarmId);
});

t.test('defaults: no hold raises at once; no clear line clears just under the raise line', async (t) => {
  const rule = ruleFrom(`
  - id: quick
    alarm: water_level_high
    severity: minor
    match: { profile: generic/radar-water-level-gauge }
    point: water_level
    threshold: { above: 3.5 }
`);
  const { alarms } = feed(rule, [[0, 3.5], [1, 3.51], [2, 3.5], [3, 3.6], [4, 3.49]]);
  t.same(alarms.map((a) => [a.action, a.ts - T0]), [['raise', 1], ['clear', 4]], 'exactly on the line neither raises nor clears');
  t.match(alarms[0]!.message, /^water_level 3\.51 m above 3\.5 m$/, 'default message names point, value and line');
});

t.test('below: raises under the line, clears above clearAbove', async (t) => {
  const low = ruleFrom(`
  - id: low-supply
    description: Supply voltage low
    alarm: supply_low
    severity: warning
    match: { kind: water_level }
    point: water_level
    threshold: { below: 1.0, clearAbove: 1.2, hold: 10s, clearHold: 10s }
`);
  const { alarms } = feed(low, [[0, 1.5], [10 * SEC, 0.8], [15 * SEC, 0.9], [20 * SEC, 0.9], [30 * SEC, 1.1], [40 * SEC, 1.1], [50 * SEC, 1.3], [55 * SEC, 1.3], [60 * SEC, 1.3]]);
  t.same(alarms.map((a) => [a.action, a.ts - T0, a.threshold]), [['raise', 20 * SEC, 1.0], ['clear', 60 * SEC, 1.2]], '1.1 is between the lines: neither');
  t.match(alarms[0]!.message, /^Supply voltage low: water_level 0\.9 m below 1 m$/);
  t.match(alarms[1]!.message, /cleared, water_level back to 1\.3 m \(clear line 1\.2 m\)/);
});

t.test('bad and stale readings neither start, break nor extend a hold', async (t) => {
  const broken = feed(warning, [[0, 3.8], [30 * SEC, null, 'bad'], [60 * SEC, 3.2, 'stale'], [90 * SEC, 3.8], [2 * MIN, 3.8]]);
  t.equal(broken.alarms.length, 1, 'a timeout and a stale low value did not restart the hold');
  t.equal(broken.alarms[0]!.ts, T0 + 2 * MIN);

  const startedByStale = feed(warning, [[0, 3.8, 'stale'], [60 * SEC, 3.8], [2 * MIN, 3.8]]);
  t.same(startedByStale.alarms, [], 'the hold starts at the first good reading (60 s), so 2 min has not passed');

  const s0 = feed(warning, [[0, 3.8]]).state;
  const r = warning.evaluate(s0, level(null, T0 + 5 * MIN, 'bad'), gauge, T0 + 5 * MIN);
  t.equal(r.state, s0, 'state returned unchanged (same object)');
  t.same(r.alarms, []);
  const s1 = feed(warning, steady(3.8, 0, 2 * MIN)).state;
  t.same(feed(warning, steady(0, 3 * MIN, 10 * MIN).map(([ts]) => [ts, null, 'bad'] as Step), { state: s1 }).alarms, [], 'bad readings never clear');
});

t.test('non-numeric values are ignored like bad ones', async (t) => {
  const s0 = feed(warning, [[0, 3.8]]).state;
  const r = warning.evaluate(s0, { deviceId: gauge.id, point: 'water_level', value: 'NaN', quality: 'good', ts: T0 + 1 }, gauge, T0 + 1);
  t.equal(r.state, s0);
  const n = warning.evaluate(s0, { deviceId: gauge.id, point: 'water_level', value: Number.NaN, quality: 'good', ts: T0 + 1 }, gauge, T0 + 1);
  t.equal(n.state, s0);
});

t.test('readings of another device, another point, or a device the rule does not match are ignored', async (t) => {
  const s0 = feed(warning, [[0, 3.8]]).state;
  const later = T0 + 5 * MIN;
  for (const [what, reading, device] of [
    ['other device', level(3.8, later, 'good', 'wl-002'), gauge],
    ['other point', level(3.8, later, 'good', gauge.id, 'air_distance'), gauge],
    ['unmatched device', level(3.8, later, 'good', 'smoke-1'), { id: 'smoke-1', profile: 'x/smoke', kind: 'smoke' }],
  ] as const) {
    const r = warning.evaluate(s0, reading, device, later);
    t.equal(r.state, s0, `${what}: state unchanged`);
    t.same(r.alarms, [], `${what}: no alarm`);
  }
});

t.test('appliesTo: every match key given must match', async (t) => {
  const rule = ruleFrom(`
  - id: some
    alarm: a
    severity: minor
    match: { kind: water_level, profile: generic/radar-water-level-gauge, devices: [wl-001, wl-009] }
    point: water_level
    threshold: { above: 1 }
`);
  t.ok(rule.appliesTo(gauge));
  t.notOk(rule.appliesTo({ ...gauge, id: 'wl-002' }), 'device not listed');
  t.notOk(rule.appliesTo({ ...gauge, kind: 'rain' }), 'kind differs');
  t.notOk(rule.appliesTo({ ...gauge, profile: 'acme/gauge' }), 'profile differs');
  t.ok(warning.appliesTo({ id: 'any', profile: 'acme/other-gauge', kind: 'water_level' }), 'kind only');
});

t.test('pure: input state is never mutated', async (t) => {
  const deepFreeze = <T>(o: T): T => {
    if (o && typeof o === 'object') {
      for (const v of Object.values(o)) deepFreeze(v);
      Object.freeze(o);
    }
    return o;
  };
  let state = deepFreeze({});
  const seq = [...steady(3.8, 0, 3 * MIN), ...steady(3.0, 4 * MIN, 5 * MIN)];
  const actions: string[] = [];
  for (const [ts, v] of seq) {
    const r = warning.evaluate(state, level(v, T0 + ts), gauge, T0 + ts);
    actions.push(...r.alarms.map((a) => a.action));
    state = deepFreeze(r.state);
  }
  t.same(actions, ['raise', 'clear'], 'frozen state in, fresh state out (a mutation would throw in ESM strict mode)');
});

t.test('alarm ids are deterministic and fit the envelope', async (t) => {
  const seq: Step[] = [...steady(3.8, 0, 3 * MIN), ...steady(3.0, 4 * MIN, 5 * MIN), ...steady(3.9, 6 * MIN, 9 * MIN)];
  const a = feed(warning, seq).alarms;
  const b = feed(ruleFrom(WARNING), seq).alarms;
  t.equal(a.length, 3);
  t.same(b, a, 'same history, same rule → identical transitions, ids included');
  const other = feed(warning, seq, { device: { ...gauge, id: 'wl-002' } }).alarms;
  t.not(other[0]!.alarmId, a[0]!.alarmId, 'another device, another id');
  for (const al of a) {
    t.match(al.alarmId, /^[A-Za-z0-9._:-]{8,128}$/);
    const envelope = { alarmId: al.alarmId, seq: al.seq, action: al.action, type: al.type, severity: al.severity, deviceId: al.deviceId, ruleId: al.ruleId, point: al.point, value: al.value, unit: al.unit, threshold: al.threshold, message: al.message, ts: al.ts };
    t.ok(Value.Check(AlarmEnvelope, envelope), `${al.action} maps onto a valid AlarmEnvelope`);
  }
});

t.test('messages: float noise is not shown, a missing unit leaves no gap', async (t) => {
  const rule = ruleFrom(`
  - id: noisy
    alarm: a
    severity: minor
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3.5 }
    message: "level {value} {unit} over {threshold} {unit}!"
`);
  const r1 = rule.evaluate({}, level(380 * 0.01, T0), gauge, T0);
  t.equal(r1.alarms[0]!.message, 'level 3.8 m over 3.5 m!');
  const r2 = rule.evaluate({}, { deviceId: gauge.id, point: 'water_level', value: 3.8, quality: 'good', ts: T0 }, gauge, T0);
  t.equal(r2.alarms[0]!.message, 'level 3.8 over 3.5 !');
  t.notOk('unit' in r2.alarms[0]!, 'no unit key when the reading had none');
});

t.test('a clock stepping backwards restarts the hold instead of stretching it', async (t) => {
  const { alarms } = feed(warning, [[5 * MIN, 3.8], [1 * MIN, 3.8], [2 * MIN + 30 * SEC, 3.8], [3 * MIN, 3.8]]);
  t.equal(alarms.length, 1);
  t.equal(alarms[0]!.ts, T0 + 3 * MIN, 'hold counted from the 1 min reading');
});

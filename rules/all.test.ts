import t from 'tap';
import { alarmIdFor } from './alarm-id.js';
import { parseRuleFile } from './compile.js';
import { RuleEngine, siteStateKey } from './engine.js';
import { validateOverrides } from './overrides.js';
import { gsErrorOf, MIN, SEC, T0, viaJson } from './test-support.js';
import type { Quality, Reading, ReadingValue } from '../contracts/reading.js';
import type { RuleAlarm, RuleDevice } from './types.js';

const HOME = 'xinhe-nursing-home';
const sd1: RuleDevice = { id: 'sd-1', profile: 'generic/photoelectric-smoke-detector', kind: 'smoke_detector', site: HOME };
const sd2: RuleDevice = { id: 'sd-2', profile: 'generic/nb-smoke-detector', kind: 'smoke_detector', site: HOME };
const th1: RuleDevice = { id: 'th-1', profile: 'generic/temperature-humidity-sensor', kind: 'temperature_humidity', site: HOME };
const elsewhere: RuleDevice = { id: 'th-9', profile: 'generic/temperature-humidity-sensor', kind: 'temperature_humidity', site: 'school-3' };
const noSite: RuleDevice = { id: 'th-0', profile: 'generic/temperature-humidity-sensor', kind: 'temperature_humidity' };

const FIRE = `
  - id: smoke-and-heat
    description: Smoke and heat in the same building
    alarm: smoke_fire_confirmed
    severity: critical
    all:
      of:
        - { kind: smoke_detector, point: smoke_alarm, equals: true }
        - { kind: [smoke_detector, temperature_humidity], point: temperature, above: 57, clearBelow: 50 }
      within: 10m
`;
const set = parseRuleFile(`rules:\n${FIRE}`, 'fire.yaml');

function engineWith(yaml = FIRE) {
  const engine = new RuleEngine([parseRuleFile(`rules:\n${yaml}`, 'fire.yaml')]);
  const seen: RuleAlarm[] = [];
  const read = (device: RuleDevice, at: number, point: string, value: ReadingValue, quality: Quality = 'good') => {
    const r: Reading = { deviceId: device.id, point, value, quality, ts: T0 + at, ...(point === 'temperature' ? { unit: '°C' } : {}) };
    const out = engine.process(r, device, T0 + at);
    seen.push(...out);
    return out;
  };
  const tick = (device: RuleDevice, at: number) => {
    const out = engine.tick(device, T0 + at);
    seen.push(...out);
    return out;
  };
  return { engine, seen, read, tick };
}

const short = (a: RuleAlarm) => `${a.action}@${(a.ts - T0) / SEC}s ${a.deviceId}/${a.point}=${String(a.value)} ${a.site ?? '-'}`;

t.test('smoke in one detector and heat in another sensor of the same site raise one alarm, on the device that completed it', async (t) => {
  const { read, seen } = engineWith();
  read(sd1, 0, 'smoke_alarm', true);
  read(th1, 10 * SEC, 'temperature', 40);
  t.same(seen, [], 'smoke alone is not enough');
  read(th1, 20 * SEC, 'temperature', 61);
  t.same(seen.map(short), [`raise@20s th-1/temperature=61 ${HOME}`]);
  const a = seen[0]!;
  t.equal(a.alarmId, alarmIdFor('th-1', 'smoke-and-heat', T0 + 20 * SEC));
  t.equal(a.unit, '°C');
  t.equal(a.type, 'smoke_fire_confirmed');
  t.equal(a.severity, 'critical');
  t.match(a.message, /^Smoke and heat in the same building: all of smoke_detector smoke_alarm = true and smoke_detector, temperature_humidity temperature > 57 at site xinhe-nursing-home; raised on th-1 \(temperature 61 °C\)$/);
  read(sd1, 30 * SEC, 'temperature', 70);
  read(th1, 40 * SEC, 'temperature', 65);
  t.equal(seen.length, 1, 'raised once');
});

t.test('the same readings at two sites, or on a device with no site, raise nothing', async (t) => {
  const { read, seen, engine } = engineWith();
  read(sd1, 0, 'smoke_alarm', true);
  read(elsewhere, SEC, 'temperature', 80);
  read(noSite, 2 * SEC, 'temperature', 80);
  t.same(seen, []);
  t.same(Object.keys(engine.exportState()), [siteStateKey('smoke-and-heat', HOME), siteStateKey('smoke-and-heat', 'school-3')], 'one state per site; none for a device without one');
  t.notOk(set.rules[0]!.appliesTo(noSite));
});

t.test('a member is met by any device of its kind; the combination clears when one member is plainly not met', async (t) => {
  const { read, seen } = engineWith();
  read(sd1, 0, 'smoke_alarm', true);
  read(sd2, SEC, 'smoke_alarm', false);
  read(th1, 2 * SEC, 'temperature', 60);
  t.same(seen.map(short), [`raise@2s th-1/temperature=60 ${HOME}`], 'sd-2 saying false does not cancel sd-1');
  read(th1, 3 * SEC, 'temperature', 55);
  t.equal(seen.length, 1, '55 °C is between the lines (57 / 50): nothing');
  read(sd1, 4 * SEC, 'smoke_alarm', false);
  t.same(seen.map(short).slice(1), [`clear@4s th-1/temperature=55 ${HOME}`], 'no detector in alarm any more: clear, on the device it was raised on, with its latest value');
  t.equal(seen[1]!.seq, 1);
  t.equal(seen[1]!.alarmId, seen[0]!.alarmId);
  t.match(seen[1]!.message, /cleared at site xinhe-nursing-home: no longer all of/);
});

t.test('hysteresis of a member: heat must fall below clearBelow', async (t) => {
  const { read, seen } = engineWith();
  read(sd1, 0, 'smoke_alarm', true);
  read(th1, SEC, 'temperature', 58);
  read(th1, 2 * SEC, 'temperature', 52);
  read(th1, 3 * SEC, 'temperature', 49);
  t.same(seen.map((a) => a.action), ['raise', 'clear']);
  t.equal(seen[1]!.ts, T0 + 3 * SEC);
});

t.test('within: a member value older than the window no longer counts; the clear is made by time', async (t) => {
  const { read, tick, seen, engine } = engineWith();
  read(sd1, 0, 'smoke_alarm', true);
  read(th1, 11 * MIN, 'temperature', 60);
  t.same(seen, [], 'the smoke reading is 11 min old: no combination');
  read(sd1, 12 * MIN, 'smoke_alarm', true);
  t.same(seen.map(short), [`raise@720s sd-1/smoke_alarm=true ${HOME}`], 'a fresh smoke reading completes it: raised on the detector');
  t.equal(engine.nextDue(th1), T0 + 21 * MIN, 'the heat reading of 11 min expires first');
  tick(sd2, 25 * MIN);
  t.same(seen.map(short).slice(1), [`clear@1260s sd-1/smoke_alarm=true ${HOME}`], 'stamped at the expiry, whichever device of the site ticked');
  t.same(engine.getSiteState('smoke-and-heat', HOME), { m: [{ 'sd-1': { t: T0 + 12 * MIN, v: true, j: 'raise', k: 'smoke_detector' } }, {}] }, 'expired values pruned');
});

t.test('raiseOn: the alarm goes on the smoke detector however the combination was completed', async (t) => {
  const { read, seen } = engineWith(FIRE.replace('within: 10m', 'within: 10m\n      raiseOn: smoke_detector'));
  read(sd2, 0, 'smoke_alarm', true);
  read(sd1, SEC, 'smoke_alarm', true);
  read(th1, 2 * SEC, 'temperature', 70);
  t.same(seen.map(short), [`raise@2s sd-1/smoke_alarm=true ${HOME}`], 'the latest detector in alarm; the value is its own');
  t.equal(seen[0]!.alarmId, alarmIdFor('sd-1', 'smoke-and-heat', T0 + 2 * SEC));
  t.equal(seen[0]!.unit, undefined, 'the temperature unit is not the detector’s');
  read(th1, 3 * SEC, 'temperature', 20);
  t.same(seen.map(short).slice(1), [`clear@3s sd-1/smoke_alarm=true ${HOME}`]);
});

t.test('bad readings and non-member points change nothing; readings of other devices are ignored', async (t) => {
  const rule = set.rules[0]!;
  const s0 = rule.evaluate({}, { deviceId: 'sd-1', point: 'smoke_alarm', value: true, quality: 'good', ts: T0 }, sd1, T0).state;
  for (const [r, d] of [
    [{ deviceId: 'th-1', point: 'temperature', value: null, quality: 'bad', ts: T0 }, th1],
    [{ deviceId: 'th-1', point: 'humidity', value: 99, quality: 'good', ts: T0 }, th1],
    [{ deviceId: 'th-1', point: 'temperature', value: 'hot', quality: 'good', ts: T0 }, th1],
    [{ deviceId: 'th-2', point: 'temperature', value: 90, quality: 'good', ts: T0 }, th1],
  ] as Array<[Reading, RuleDevice]>) {
    t.equal(rule.evaluate(s0, r, d, T0 + SEC).state, s0, JSON.stringify(r));
  }
  t.same(rule.tick({}, noSite, T0), { state: {}, alarms: [] });
  t.equal(rule.nextDue(s0, noSite), undefined);
});

t.test('during and escalate apply to a combination too', async (t) => {
  const yaml = FIRE.replace('      within: 10m\n', '      within: 10m\n    escalate: { after: 5m, to: critical }\n').replace('severity: critical', 'severity: major').replace('    all:', '    during: { between: "00:00", and: "12:00", timezone: UTC }\n    all:');
  const night = engineWith(yaml);
  const noon = Date.UTC(2026, 6, 1, 12) - T0; // T0 is 08:00 UTC
  night.read(sd1, noon + MIN, 'smoke_alarm', true);
  night.read(th1, noon + 2 * MIN, 'temperature', 60);
  t.same(night.seen, [], 'outside the window');
  const { read, tick, seen } = engineWith(yaml);
  read(sd1, 0, 'smoke_alarm', true);
  read(th1, SEC, 'temperature', 60);
  tick(th1, 11 * MIN);
  t.same(seen.map((a) => `${a.action} ${a.seq} ${a.severity} ${(a.ts - T0) / SEC}s ${a.deviceId}`), ['raise 0 major 1s th-1', 'update 1 critical 301s th-1', 'clear 2 critical 600s th-1']);
});

t.test('a member value from the future (the clock stepped back) does not count', async (t) => {
  const { read, seen, engine } = engineWith();
  read(sd1, 5 * MIN, 'smoke_alarm', true);
  read(th1, MIN, 'temperature', 60);
  t.same(seen, []);
  t.same(engine.getSiteState('smoke-and-heat', HOME), { m: [{}, { 'th-1': { t: T0 + MIN, v: 60, j: 'raise', k: 'temperature_humidity' } }] }, 'and is dropped');
});

t.test('state: JSON, survives a restart, garbled parts dropped', async (t) => {
  const a = engineWith();
  a.read(sd1, 0, 'smoke_alarm', true);
  const saved = viaJson(a.engine.exportState());
  const b = engineWith();
  t.same(b.engine.importState(saved).dropped, []);
  b.read(th1, SEC, 'temperature', 60);
  t.same(b.seen.map(short), [`raise@1s th-1/temperature=60 ${HOME}`]);
  const c = engineWith();
  const key = siteStateKey('smoke-and-heat', HOME);
  const report = c.engine.importState({ [key]: { m: [{ 'sd-1': { t: 'x' } }, {}], active: { alarmId: 'a1b2c3d4e5', seq: 0, severity: 'critical', raisedAt: T0 } } });
  t.same(report.dropped.map((d) => d.key), [key]);
  t.match(report.dropped[0]!.reason, /could not read "m", "active"/, 'a bad member entry and an active alarm without its device');
});

t.test('checks', async (t) => {
  const problems = (yaml: string) => gsErrorOf(() => parseRuleFile(`rules:\n${yaml}`, 'a.yaml'))?.details.map((d) => `${d.path} ${d.message}`) ?? [];
  t.match(problems(FIRE.replace('    all:', '    point: smoke_alarm\n    all:')), [/\/rules\/0\/point an "all" rule names its devices and points in each member of all.of, not in "point"/]);
  t.match(problems(FIRE.replace('{ kind: smoke_detector, point: smoke_alarm, equals: true }', '{ point: smoke_alarm, equals: true }')), [/\/rules\/0\/all\/of\/0 needs "kind" or "profile"/]);
  t.match(problems(FIRE.replace('above: 57, clearBelow: 50', 'above: 57, clearBelow: 60')), [/\/rules\/0\/all\/of\/1\/clearBelow clearBelow \(60\) must not be above the raise line above \(57\)/]);
  t.match(problems(FIRE.replace('within: 10m', 'raiseOn: camera')), [/\/rules\/0\/all\/raiseOn no member takes devices of kind "camera" \(members' kinds: smoke_detector, temperature_humidity\)/]);
  t.match(problems(FIRE.replace(/ {8}- \{ kind: \[smoke_detector.*\n/, '')), [/\/rules\/0\/all\/of must have at least 2 items|minItems|fewer than 2/]);
  t.match(problems(FIRE.replace('severity: critical', 'severity: major\n    message: "{change}"')), [/\/rules\/0\/message placeholder \{change\} has no value in a "all" rule; available: \{value\} \{unit\} \{device\} \{point\} \{site\} \{severity\}/]);
});

t.test('overrides: a device may change the test of its own member points only', async (t) => {
  const hot = { ...th1, overrides: { 'smoke-and-heat': { points: { temperature: { above: 70, clearBelow: 60 } } } } };
  validateOverrides(set, hot);
  const { read, seen } = engineWith();
  read(sd1, 0, 'smoke_alarm', true);
  read(hot, SEC, 'temperature', 65);
  t.same(seen, [], 'a boiler room: 65 °C is normal there');
  read(hot, 2 * SEC, 'temperature', 72);
  t.equal(seen.length, 1);
  const bad: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ points: { humidity: { above: 1 } } }, '/overrides/smoke-and-heat/points/humidity', /no member of this rule tests point "humidity" of a temperature_humidity device \(its members here: temperature\)/],
    [{ points: { temperature: { below: 1 } } }, '/overrides/smoke-and-heat/points/temperature/below', /this rule tests "above"; override "above" and "clearBelow", not "below"/],
    [{ points: { temperature: { above: 40 } } }, '/overrides/smoke-and-heat/points/temperature/clearBelow', /clearBelow \(50\) must not be above the raise line above \(40\)/],
    [{ severity: 'minor' }, '/overrides/smoke-and-heat/severity', /is not a known field; an "all" rule takes "points/],
  ];
  for (const [o, path, message] of bad) {
    const e = gsErrorOf(() => validateOverrides(set, { ...th1, overrides: { 'smoke-and-heat': o } }));
    t.equal(e?.details[0]?.path, path, JSON.stringify(o));
    t.match(e?.details[0]?.message, message, JSON.stringify(o));
  }
});

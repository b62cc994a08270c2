import t from 'tap';
import { alarmIdFor } from './alarm-id.js';
import { parseRuleFile } from './compile.js';
import { validateOverrides } from './overrides.js';
import { brief, drive, gauge, gsErrorOf, MIN, ruleFrom, SEC, T0, viaJson, type Ev } from './test-support.js';

const STALE = `
  - id: wl-stale
    alarm: data_stale
    severity: minor
    match: { kind: water_level }
    point: water_level
    stale: { after: 30m }
`;
const stale = ruleFrom(STALE);

t.test('raises by time alone, stamped last good reading + after, whenever the tick comes', async (t) => {
  const s = drive(stale, [{ at: 0, value: 3.0 }]).state;
  t.same(s, { from: T0 }, 'watching from the good reading');
  t.equal(stale.nextDue(s, gauge), T0 + 30 * MIN, 'nextDue says when to tick');
  t.same(stale.tick(s, gauge, T0 + 30 * MIN - 1).alarms, [], 'not before');
  for (const late of [0, 1, 17 * SEC, 5 * MIN, 3 * 3600 * SEC]) {
    const r = stale.tick(s, gauge, T0 + 30 * MIN + late);
    t.same(brief(r.alarms), ['raise@1800s minor'], `tick ${late / SEC} s late: same alarm`);
    t.equal(r.alarms[0]!.alarmId, alarmIdFor(gauge.id, 'wl-stale', T0 + 30 * MIN), 'same id whatever the tick time');
    t.equal(r.alarms[0]!.value, null);
    t.match(r.alarms[0]!.message, /^no good reading of water_level for 30m$/);
  }
  const raised = stale.tick(s, gauge, T0 + 31 * MIN).state;
  t.equal(stale.nextDue(raised, gauge), undefined, 'nothing more is due once raised');
  t.same(stale.tick(raised, gauge, T0 + 90 * MIN).alarms, [], 'raised once');
});

t.test('a good reading clears it; bad and stale readings do not', async (t) => {
  const { alarms, state } = drive(stale, [
    { at: 0, value: 3.0 },
    { tick: 31 * MIN },
    { at: 32 * MIN, value: null, quality: 'bad' },
    { at: 33 * MIN, value: 3.1, quality: 'stale' },
    { at: 35 * MIN, value: 3.2, unit: 'm' },
  ]);
  t.same(brief(alarms), ['raise@1800s minor', 'clear@2100s minor 3.2']);
  t.match(alarms[1]!.message, /^water_level reporting again \(3\.2 m\)$/);
  t.equal(alarms[1]!.alarmId, alarms[0]!.alarmId);
  t.same(state, { from: T0 + 35 * MIN }, 'watching again from the good reading');
});

t.test('no tick at all: the next reading applies the due raise first, then clears', async (t) => {
  const withTick = drive(stale, [{ at: 0, value: 3.0 }, { tick: 40 * MIN }, { at: 50 * MIN, value: 3.0 }]).alarms;
  const withoutTick = drive(stale, [{ at: 0, value: 3.0 }, { at: 50 * MIN, value: 3.0 }]).alarms;
  t.same(withoutTick, withTick, 'identical transitions: only the moment they are emitted differs');
  t.same(brief(withoutTick), ['raise@1800s minor', 'clear@3000s minor 3']);
});

t.test('a reading of another point of the device also applies what is due', async (t) => {
  const { alarms } = drive(stale, [{ at: 0, value: 3.0 }, { at: 31 * MIN, value: 12.1, point: 'supply_voltage' }]);
  t.same(brief(alarms), ['raise@1800s minor']);
});

t.test('a point that never gave a good reading: watched from the first reading of the device or the first tick', async (t) => {
  const byBad = drive(stale, [{ at: 0, value: null, quality: 'bad' }, { at: 31 * MIN, value: null, quality: 'bad' }]);
  t.same(brief(byBad.alarms), ['raise@1800s minor'], 'from the first (bad) reading');
  const byOther = drive(stale, [{ at: 5 * MIN, value: 12, point: 'supply_voltage' }, { tick: 36 * MIN }]);
  t.same(brief(byOther.alarms), ['raise@2100s minor'], 'from a reading of another point');
  const byTick = drive(stale, [{ tick: 0 }, { tick: 10 * MIN }, { tick: 30 * MIN }]);
  t.same(brief(byTick.alarms), ['raise@1800s minor'], 'from the first tick; later ticks do not move it');
  t.equal(stale.nextDue({}, gauge), undefined, 'nothing is due before watching starts: tick once at start');
});

t.test('ticks and readings of other devices, or devices it does not match, are ignored', async (t) => {
  const s = drive(stale, [{ at: 0, value: 3.0 }]).state;
  const other = { ...gauge, id: 'wl-002' };
  const r = stale.evaluate(s, { deviceId: other.id, point: 'water_level', value: 1, quality: 'good', ts: T0 + 40 * MIN }, gauge, T0 + 40 * MIN);
  t.equal(r.state, s, 'a reading whose device is not the device');
  const rain = { id: 'rg-1', profile: 'generic/tipping-bucket-rain-gauge', kind: 'rain_gauge' };
  t.same(stale.tick({}, rain, T0), { state: {}, alarms: [] }, 'tick of a device it does not match');
  t.equal(stale.nextDue(s, rain), undefined);
});

t.test('restart: the watch survives a JSON round trip, and a long outage is one raise', async (t) => {
  const events: Ev[] = [{ at: 0, value: 3.0 }, { at: 10 * MIN, value: 3.0 }, { tick: 20 * MIN }, { tick: 50 * MIN }, { at: 55 * MIN, value: 3.0 }];
  const whole = drive(stale, events).alarms;
  const first = drive(stale, events.slice(0, 3));
  const second = drive(stale, events.slice(3), { state: viaJson(first.state) });
  t.same([...first.alarms, ...second.alarms], whole);
  t.same(brief(whole), ['raise@2400s minor', 'clear@3300s minor 3']);
});

t.test('`after` is overridable per device', async (t) => {
  const set = parseRuleFile(`rules:\n${STALE}`, 's.yaml');
  const device = { ...gauge, overrides: { 'wl-stale': { after: '5m', severity: 'major' } } };
  validateOverrides(set, device);
  const { alarms } = drive(set.rules[0]!, [{ at: 0, value: 1 }, { tick: 6 * MIN }], { device });
  t.same(brief(alarms), ['raise@300s major']);
  const e = gsErrorOf(() => validateOverrides(set, { ...gauge, overrides: { 'wl-stale': { after: 0 } } }));
  t.equal(e?.details[0]?.path, '/overrides/wl-stale/after');
  t.match(e?.details[0]?.message, /longer than 0/);
});

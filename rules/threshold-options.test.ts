import t from 'tap';
import { parseRuleFile } from './compile.js';
import { validateOverrides } from './overrides.js';
import { brief, drive, feed, gauge, gsErrorOf, MIN, ruleFrom, SEC, steady, T0, viaJson, WARNING, type Step } from './test-support.js';

const rule = (opts: string) =>
  ruleFrom(`
  - id: wl
    alarm: water_level_high
    severity: minor
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3.5, ${opts} }
`);

t.test('consecutive: N readings in a row over the line before raising, N past the clear line before clearing', async (t) => {
  const r = rule('consecutive: 3');
  const { alarms } = feed(r, [[0, 3.6], [10, 3.6], [20, 3.4], [30, 3.6], [40, 3.6], [50, 3.6], [60, 3.4], [70, 3.3], [80, 3.6], [90, 3.4], [100, 3.4], [110, 3.4]]);
  t.same(alarms.map((a) => [a.action, a.ts - T0]), [['raise', 50], ['clear', 110]], 'a single reading back under the line breaks the streak; clearConsecutive defaults to consecutive');
  const r2 = rule('consecutive: 2, clearConsecutive: 1');
  t.same(feed(r2, [[0, 3.6], [10, 3.6], [20, 3.4]]).alarms.map((a) => [a.action, a.ts - T0]), [['raise', 10], ['clear', 20]]);
});

t.test('consecutive with hold: both must be met', async (t) => {
  const r = rule('consecutive: 3, hold: 1m');
  t.same(feed(r, [[0, 3.6], [10 * SEC, 3.6], [20 * SEC, 3.6], [50 * SEC, 3.6]]).alarms, [], '4 readings but only 50 s');
  t.same(feed(r, [[0, 3.6], [60 * SEC, 3.6]]).alarms, [], '1 min but 2 readings');
  t.same(feed(r, [[0, 3.6], [30 * SEC, 3.6], [60 * SEC, 3.6]]).alarms.map((a) => a.ts - T0), [60 * SEC]);
});

t.test('consecutive: the streak count is in the state only when needed, and survives a restart', async (t) => {
  const r = rule('consecutive: 3');
  const half = feed(r, [[0, 3.6], [10, 3.6]]).state;
  t.same(half, { since: T0, n: 2 });
  t.same(feed(r, [[20, 3.6]], { state: viaJson(half) }).alarms.map((a) => a.ts - T0), [20]);
  t.same(feed(rule(''), [[0, 3.4]]).state, {}, 'a plain threshold keeps no count');
  t.same(feed(ruleFrom(WARNING), [[0, 3.8]]).state, { since: T0 }, 'and the old state format is unchanged');
  t.same(feed(r, [[20, 3.6]], { state: { since: T0 } }).alarms, [], 'a state saved before `n` existed counts as a streak of one');
});

t.test('deadband: a reading within the band of the last significant value counts as that value', async (t) => {
  const r = rule('deadband: 0.05');
  // 3.52 raises; 3.49 and 3.48 are within 0.05 of it: judged as 3.52, no clear; 3.45 is 0.07 away: clears.
  const { alarms, state } = feed(r, [[0, 3.52], [10, 3.49], [20, 3.48], [30, 3.45]]);
  t.same(alarms.map((a) => [a.action, a.ts - T0, a.value]), [['raise', 0, 3.52], ['clear', 30, 3.45]]);
  t.same(state, { ref: 3.45 }, 'the significant value is the reference');
  const exact = feed(r, [[0, 3.0], [10, 3.05]]).state;
  t.same(exact, { ref: 3.05 }, 'a move of exactly the band counts (3.05 - 3.0 is not 0.04999… here)');
  const ignored = feed(r, [[0, 3.4]]);
  const again = r.evaluate(ignored.state, { deviceId: gauge.id, point: 'water_level', value: 3.42, quality: 'good', ts: T0 + 1 }, gauge, T0 + 1);
  t.equal(again.state, ignored.state, 'a reading inside the band returns the very same state');
  t.same(feed(rule('deadband: 0.05, hold: 1m'), steady(3.8, 0, 2 * MIN)).alarms.map((a) => a.ts - T0), [MIN], 'a steady value still completes a hold');
});

t.test('deadband: dither inside the band neither breaks a hold nor starts a clear', async (t) => {
  const steps: Step[] = [[0, 3.51], [20 * SEC, 3.49], [40 * SEC, 3.5], [60 * SEC, 3.51]];
  t.same(feed(rule('deadband: 0.05, hold: 1m'), steps).alarms.map((a) => [a.ts - T0, a.value]), [[60 * SEC, 3.51]], 'the 3.49 is 0.02 from 3.51: it counts as 3.51');
  t.same(feed(rule('hold: 1m'), steps).alarms, [], 'without a deadband the 3.49 breaks the hold');
});

t.test('overrides of the new options are checked', async (t) => {
  const set = parseRuleFile(`rules:\n${WARNING}`, 'w.yaml');
  const device = { ...gauge, overrides: { 'wl-warning': { consecutive: 2, clearConsecutive: 3, deadband: 0.02, hold: '0s' } } };
  validateOverrides(set, device);
  t.same(brief(drive(set.rules[0]!, [{ at: 0, value: 3.6 }, { at: 10 * SEC, value: 3.61 }, { at: 20 * SEC, value: 3.7 }], { device }).alarms), ['raise@10s major 3.6'], 'consecutive 2 with hold 0: 3.6 then 3.61 (counted as 3.6) raise at 10 s');
  for (const [o, path] of [[{ consecutive: 0 }, '/overrides/wl-warning/consecutive'], [{ deadband: -1 }, '/overrides/wl-warning/deadband']] as const) {
    t.equal(gsErrorOf(() => validateOverrides(set, { ...gauge, overrides: { 'wl-warning': o } }))?.details[0]?.path, path);
  }
});

t.test('steady readings over the line with consecutive and hold, ten minutes: one alarm', async (t) => {
  t.equal(feed(rule('consecutive: 5, hold: 30s'), steady(3.9, 0, 10 * MIN)).alarms.length, 1);
});

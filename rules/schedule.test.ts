import t from 'tap';
import { compileSchedule, scheduleProblems } from './conditions/schedule.js';
import { parseRuleFile } from './compile.js';
import { validateOverrides } from './overrides.js';
import { brief, drive, gsErrorOf, ruleFrom, SEC, T0 } from './test-support.js';
import type { RuleDevice } from './types.js';

/** A Shanghai wall-clock time (UTC+8, no DST) as an instant. 2026-07-01 is a Wednesday. */
const sh = (day: number, hh: number, mm = 0) => Date.UTC(2026, 6, day, hh - 8, mm);

t.test('schedule math: an overnight window in Asia/Shanghai (the default zone)', async (t) => {
  const night = compileSchedule({ between: '22:00', and: '06:00' });
  t.notOk(night.contains(sh(1, 21, 59)));
  t.ok(night.contains(sh(1, 22, 0)), 'the start is inside');
  t.ok(night.contains(sh(2, 3, 0)));
  t.notOk(night.contains(sh(2, 6, 0)), 'the end is outside');
  t.equal(night.openOf(sh(2, 3, 0)), sh(1, 22, 0), 'a small hour belongs to the window opened the evening before');
  t.equal(night.openOf(sh(1, 12, 0)), undefined);
  t.equal(night.firstInside(sh(1, 12, 0)), sh(1, 22, 0));
  t.equal(night.firstInside(sh(1, 23, 0)), sh(1, 23, 0), 'inside: itself');
  t.equal(night.firstInside(sh(2, 6, 30)), sh(2, 22, 0));
  t.equal(night.text, '22:00–06:00 Asia/Shanghai');
});

t.test('schedule math: weekdays name the day a window starts on; other zones', async (t) => {
  const workdays = compileSchedule({ between: '08:00', and: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'] });
  t.ok(workdays.contains(sh(3, 9)), 'Friday 09:00');
  t.notOk(workdays.contains(sh(4, 9)), 'Saturday 09:00');
  t.equal(workdays.firstInside(sh(3, 19)), sh(6, 8), 'Friday evening → Monday 08:00');
  const friNight = compileSchedule({ between: '22:00', and: '06:00', days: ['fri'] });
  t.ok(friNight.contains(sh(4, 5)), 'Saturday 05:00 is still Friday night');
  t.notOk(friNight.contains(sh(4, 23)), 'Saturday 23:00 is not');
  const utc = compileSchedule({ between: '00:00', and: '01:00', timezone: 'UTC' });
  t.ok(utc.contains(Date.UTC(2026, 6, 1, 0, 30)));
  t.notOk(utc.contains(Date.UTC(2026, 6, 1, 1, 0)));
  const berlin = compileSchedule({ between: '02:00', and: '04:00', timezone: 'Europe/Berlin' });
  t.equal(berlin.firstInside(Date.UTC(2026, 6, 1, 12)), Date.UTC(2026, 6, 2, 0), 'summer time: 02:00 CEST is 00:00 UTC');
  t.equal(berlin.firstInside(Date.UTC(2026, 0, 1, 12)), Date.UTC(2026, 0, 2, 1), 'winter: 02:00 CET is 01:00 UTC');
});

t.test('schedule checks', async (t) => {
  t.same(scheduleProblems({ between: '22:00', and: '06:00' }), []);
  t.match(scheduleProblems({ between: '06:00', and: '06:00' }), [{ path: '/and', message: /starts and ends at 06:00/ }]);
  t.match(scheduleProblems({ between: '06:00', and: '07:00', timezone: 'Mars/Olympus' }), [{ path: '/timezone', message: /unknown time zone "Mars\/Olympus"; use an IANA name such as Asia\/Shanghai/ }]);
  t.match(scheduleProblems({ between: '06:00', and: '07:00', days: ['mon', 'mon'] }), [{ path: '/days', message: /twice/ }]);
  const e = gsErrorOf(() => parseRuleFile(`rules:\n${NIGHT.replace('"22:00"', '"24:00"').replace('days: [mon, tue, wed, thu, fri, sat, sun]', 'days: [monday]')}`, 'n.yaml'));
  t.same(e?.details.map((d) => d.path), ['/rules/0/during/between', '/rules/0/during/days/0']);
  t.match(e?.details[0]?.message, /^must be a 24-hour local time "HH:MM" such as "22:00" \(quote it in YAML\)/);
});

const door: RuleDevice = { id: 'acs-1', profile: 'generic/access-controller', kind: 'access_control' };
const NIGHT = `
  - id: door-night
    alarm: door_open_at_night
    severity: major
    match: { kind: access_control }
    point: door_open
    value: { equals: true }
    during: { between: "22:00", and: "06:00", days: [mon, tue, wed, thu, fri, sat, sun] }
`;
const night = ruleFrom(NIGHT);
const doorAt = (ms: number, open: boolean) => ({ at: ms - T0, value: open, point: 'door_open', device: door });

t.test('during: a door opened at night raises; opened by day it does not', async (t) => {
  const day = drive(night, [doorAt(sh(1, 14), true), doorAt(sh(1, 14, 5), false)]);
  t.same(day.alarms, []);
  const { alarms } = drive(night, [doorAt(sh(1, 23), true), doorAt(sh(1, 23, 10), false)]);
  t.same(alarms.map((a) => [a.action, a.ts]), [['raise', sh(1, 23)], ['clear', sh(1, 23, 10)]]);
  t.match(alarms[0]!.message, /^door_open is true$/);
  t.match(alarms[1]!.message, /^cleared, door_open is false \(alarm while door_open = true\)$/);
});

t.test('during: a door left open at 21:50 raises when the window opens at 22:00, with or without a reading', async (t) => {
  const s = drive(night, [doorAt(sh(1, 21, 50), true)]).state;
  t.equal(night.nextDue(s, door), sh(1, 22, 0));
  const ticked = night.tick(s, door, sh(1, 22, 0) + 3 * SEC);
  t.same(ticked.alarms.map((a) => [a.action, a.ts, a.value]), [['raise', sh(1, 22, 0), true]], 'an event-driven door sends nothing more: the tick raises, stamped 22:00');
  const byReading = drive(night, [doorAt(sh(1, 22, 1), true)], { state: s }).alarms;
  t.same(byReading.map((a) => [a.action, a.ts]), [['raise', sh(1, 22, 0)]], 'a later reading first applies the 22:00 raise');
  t.equal(byReading[0]!.alarmId, ticked.alarms[0]!.alarmId);
  const closed = drive(night, [doorAt(sh(1, 21, 50), true), doorAt(sh(1, 21, 55), false), { tick: sh(1, 23) - T0, device: door }]);
  t.same(closed.alarms, [], 'closed before the window: nothing');
});

t.test('during: an alarm raised inside the window clears by its own condition, after the window too', async (t) => {
  const { alarms } = drive(night, [doorAt(sh(1, 23), true), { tick: sh(2, 7) - T0, device: door }, doorAt(sh(2, 8), false)]);
  t.same(alarms.map((a) => [a.action, a.ts]), [['raise', sh(1, 23)], ['clear', sh(2, 8)]], 'the window closing does not clear it: the door is still open');
});

t.test('during with a hold: the hold runs inside one window only', async (t) => {
  const held = ruleFrom(NIGHT.replace('value: { equals: true }', 'value: { equals: true, hold: 10m }'));
  const inWindow = drive(held, [doorAt(sh(1, 22, 30), true), doorAt(sh(1, 22, 35), true), doorAt(sh(1, 22, 40), true)]);
  t.same(inWindow.alarms.map((a) => a.ts), [sh(1, 22, 40)]);
  const across = drive(held, [doorAt(sh(2, 5, 55), true), doorAt(sh(2, 6, 5), true), doorAt(sh(2, 22, 2), true), doorAt(sh(2, 22, 8), true)]);
  t.same(across.alarms, [], 'a hold started before 06:00 is broken by the day and does not count on the next night');
  const s = drive(held, [doorAt(sh(1, 21, 50), true)]).state;
  const opened = held.tick(s, door, sh(1, 22, 1));
  t.same(opened.alarms, [], 'the window opening starts the hold at 22:00…');
  t.same(brief(drive(held, [doorAt(sh(1, 22, 10), true)], { state: opened.state }).alarms), [`raise@${(sh(1, 22, 10) - T0) / SEC}s major true`], '…which completes on a reading 10 min later');
});

t.test('during on a threshold, and per-device override of the window', async (t) => {
  const noise = ruleFrom(`
  - id: night-heat
    alarm: temperature_high_night
    severity: minor
    match: { kind: temperature_humidity }
    point: temperature
    threshold: { above: 35 }
    during: { between: "00:00", and: "05:00", timezone: UTC }
`);
  const th: RuleDevice = { id: 'th-1', profile: 'generic/temperature-humidity-sensor', kind: 'temperature_humidity' };
  const at = (d: number, h: number, v: number) => ({ at: Date.UTC(2026, 6, d, h) - T0, value: v, point: 'temperature', unit: '°C', device: th });
  const { alarms } = drive(noise, [at(2, 22, 40), { tick: Date.UTC(2026, 6, 3, 0, 0, 5) - T0, device: th }, at(3, 1, 30)]);
  t.same(alarms.map((a) => [a.action, a.ts, a.value, a.threshold, a.unit]), [
    ['raise', Date.UTC(2026, 6, 3, 0), 40, 35, '°C'],
    ['clear', Date.UTC(2026, 6, 3, 1), 30, 35, '°C'],
  ], 'the 40 °C of 22:00 is judged again when the window opens at 00:00 and raises then');
  t.match(alarms[0]!.message, /^temperature 40 °C above 35 °C$/);
  const set = parseRuleFile(`rules:\n${NIGHT}`, 'n.yaml');
  const school = { ...door, overrides: { 'door-night': { during: { between: '18:00', and: '07:00' } } } };
  validateOverrides(set, school);
  t.equal(drive(set.rules[0]!, [{ ...doorAt(sh(1, 19), true), device: school }]).alarms.length, 1, '19:00 is night at this school');
  t.equal(drive(set.rules[0]!, [doorAt(sh(1, 19), true)]).alarms.length, 0, 'but not elsewhere');
  const e = gsErrorOf(() => validateOverrides(set, { ...door, overrides: { 'door-night': { during: { between: '18:00', and: '07:00', timezone: 'Nowhere/Land' } } } }));
  t.equal(e?.details[0]?.path, '/overrides/door-night/during/timezone');
});

import t from 'tap';
import { parseRuleFile } from './compile.js';
import { validateOverrides } from './overrides.js';
import { brief, drive, gsErrorOf, MIN, ruleFrom, SEC, type Ev } from './test-support.js';
import type { RuleDevice } from './types.js';

const smokeDet: RuleDevice = { id: 'sd-1', profile: 'generic/photoelectric-smoke-detector', kind: 'smoke_detector' };
const SMOKE = `
  - id: smoke
    alarm: smoke_alarm
    severity: critical
    match: { kind: smoke_detector }
    point: smoke_alarm
    value: { equals: true }
`;
const smoke = ruleFrom(SMOKE);
const flag = (at: number, v: boolean | null, quality: 'good' | 'bad' | 'stale' = 'good'): Ev => ({ at, value: v, quality, point: 'smoke_alarm', device: smokeDet });

t.test('equals: raises while the flag is true, clears when it is not', async (t) => {
  const { alarms, state } = drive(smoke, [flag(0, false), flag(10 * SEC, true), flag(20 * SEC, true), flag(30 * SEC, false)]);
  t.same(brief(alarms), ['raise@10s critical true', 'clear@30s critical false']);
  t.match(alarms[0]!.message, /^smoke_alarm is true$/);
  t.equal(alarms[0]!.threshold, undefined, 'no line');
  t.same(state, {});
});

t.test('bad, stale and other-point readings say nothing', async (t) => {
  const s = drive(smoke, [flag(0, true)]).state;
  for (const e of [flag(SEC, null, 'bad'), flag(SEC, false, 'stale'), { at: SEC, value: false, point: 'fault', device: smokeDet }]) {
    const r = drive(smoke, [e], { state: s });
    t.equal(r.state, s);
    t.same(r.alarms, []);
  }
});

t.test('in: a list of strings; hold and clearHold', async (t) => {
  const door: RuleDevice = { id: 'acs-1', profile: 'generic/access-controller', kind: 'access_control' };
  const rule = ruleFrom(`
  - id: door-bad
    description: Door forced or held
    alarm: door_abnormal
    severity: major
    match: { kind: access_control }
    point: door_event
    value: { in: [forced_open, held_open], hold: 5s, clearHold: 1m }
`);
  const ev = (at: number, v: string): Ev => ({ at, value: v, point: 'door_event', device: door });
  const { alarms } = drive(rule, [ev(0, 'opened'), ev(SEC, 'forced_open'), ev(3 * SEC, 'held_open'), ev(6 * SEC, 'held_open'), ev(10 * SEC, 'closed'), ev(40 * SEC, 'forced_open'), ev(MIN, 'closed'), ev(2 * MIN, 'closed')]);
  t.same(brief(alarms), ['raise@6s major held_open', 'clear@120s major closed'], 'held 5 s across two values of the list; a 1-min clear hold broken once');
  t.match(alarms[0]!.message, /^Door forced or held: door_event is held_open$/);
  t.match(alarms[1]!.message, /^Door forced or held: cleared, door_event is closed \(alarm while door_event in forced_open, held_open\)$/);
});

t.test('a numeric status code', async (t) => {
  const rule = ruleFrom(SMOKE.replace('point: smoke_alarm', 'point: signal_ecl').replace('equals: true', 'equals: 2'));
  t.same(brief(drive(rule, [0, 1, 2, 2, 0].map((v, i) => ({ at: i * MIN, value: v, point: 'signal_ecl', device: smokeDet }))).alarms), ['raise@120s critical 2', 'clear@240s critical 0']);
});

t.test('checks and overrides', async (t) => {
  const problems = (yaml: string) => gsErrorOf(() => parseRuleFile(`rules:\n${yaml}`, 'v.yaml'))?.details.map((d) => `${d.path} ${d.message}`) ?? [];
  t.match(problems(SMOKE.replace('equals: true', 'hold: 1s')), [/\/rules\/0\/value needs one test: "equals", "in"/]);
  t.match(problems(SMOKE.replace('equals: true', 'equals: true, in: [a]')), [/\/rules\/0\/value\/in one test only/]);
  t.match(problems(SMOKE.replace('equals: true', 'above: 1')), [/\/rules\/0\/value\/above is not a known field/]);
  t.match(problems(SMOKE.replace('equals: true', 'equals: [1]')), [/\/rules\/0\/value\/equals must be true, false, a number or a string/]);
  t.match(problems(SMOKE.replace('    point: smoke_alarm\n', '')), [/\/rules\/0 needs "point"/]);
  t.match(problems(SMOKE.replace('    match: { kind: smoke_detector }\n', '')), [/\/rules\/0 needs "match"/]);

  const set = parseRuleFile(`rules:\n${SMOKE}`, 'v.yaml');
  const device = { ...smokeDet, overrides: { smoke: { hold: '10s', severity: 'major' } } };
  validateOverrides(set, device);
  t.same(brief(drive(set.rules[0]!, [{ ...flag(0, true), device }, { ...flag(10 * SEC, true), device }]).alarms), ['raise@10s major true']);
  const e = gsErrorOf(() => validateOverrides(set, { ...smokeDet, overrides: { smoke: { in: ['x'] } } }));
  t.match(e?.details[0], { path: '/overrides/smoke/in', message: /tests "equals"; override "equals", not "in"/ });
});

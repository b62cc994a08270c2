import t from 'tap';
import { parseRuleFile } from './compile.js';
import { validateOverrides } from './overrides.js';
import { brief, drive, gsErrorOf, MIN, ruleFrom, SEC, T0, viaJson, type Ev } from './test-support.js';
import type { RuleDevice } from './types.js';

const door: RuleDevice = { id: 'acs-1', profile: 'generic/access-controller', kind: 'access_control' };
const DENIALS = `
  - id: denials
    alarm: access_denied_repeated
    severity: major
    match: { kind: access_control }
    point: card_granted
    count: { equals: false, atLeast: 5, within: 2m, quiet: 5m }
`;
const denials = ruleFrom(DENIALS);
const card = (at: number, granted: boolean | null, quality: 'good' | 'bad' = 'good'): Ev => ({ at, value: granted, quality, point: 'card_granted' });
const run = (events: Ev[], state = {}) => drive(denials, events, { device: door, state });

t.test('raises at the 5th denial within 2 minutes', async (t) => {
  const { alarms } = run([card(0, false), card(20 * SEC, false), card(30 * SEC, true), card(40 * SEC, false), card(60 * SEC, false), card(90 * SEC, false)]);
  t.same(brief(alarms), ['raise@90s major 5'], 'a granted card in between neither counts nor resets');
  t.equal(alarms[0]!.threshold, 5);
  t.equal(alarms[0]!.point, 'card_granted');
  t.match(alarms[0]!.message, /^card_granted = false 5 times within 2m$/);
});

t.test('five denials spread over more than the window raise nothing', async (t) => {
  const { alarms, state } = run([0, 40, 80, 120, 160, 200].map((s) => card(s * SEC, false)));
  t.same(alarms, []);
  t.ok((state.hits as number[]).length <= 5, 'keeps at most atLeast hit times');
  t.same(state.hits, [80, 120, 160, 200].map((s) => T0 + s * SEC), 'only those inside the window (80 s, exactly 2 min before 200 s, still is)');
});

t.test('clears after the quiet period by time alone, stamped last hit + quiet; further hits extend it', async (t) => {
  const burst = run([0, 10, 20, 30, 40].map((s) => card(s * SEC, false)));
  t.same(brief(burst.alarms), ['raise@40s major 5']);
  t.equal(denials.nextDue(burst.state, door), T0 + 40 * SEC + 5 * MIN);
  const more = run([card(3 * MIN, false), { tick: 7 * MIN, device: door }, { tick: 8 * MIN + 10 * SEC, device: door }], burst.state);
  t.same(brief(more.alarms), ['clear@480s major 0'], 'quiet 5 min after the hit at 3 min: 8 min, whatever the tick time');
  t.equal(more.alarms[0]!.seq, 1);
  t.match(more.alarms[0]!.message, /^cleared, no card_granted = false for 5m$/);
  t.same(more.state, {}, 'hits forgotten on clear');
  const again = run([0, 10, 20, 30].map((s) => card(9 * MIN + s * SEC, false)), more.state);
  t.same(again.alarms, [], 'after a clear the count starts from zero');
});

t.test('no tick: the next card applies the due clear first, then counts itself', async (t) => {
  const burst = [0, 10, 20, 30, 40].map((s) => card(s * SEC, false));
  const viaTick = run([...burst, { tick: 6 * MIN, device: door }, card(20 * MIN, false)]).alarms;
  const viaCard = run([...burst, card(20 * MIN, false)]).alarms;
  t.same(viaCard, viaTick);
  t.same(brief(viaCard), ['raise@40s major 5', 'clear@340s major 0']);
});

t.test('quiet defaults to the window; bad readings and other points do not count', async (t) => {
  const rule = ruleFrom(DENIALS.replace(', quiet: 5m', '').replace('atLeast: 5', 'atLeast: 2'));
  const { alarms } = drive(rule, [card(0, false), card(5 * SEC, null, 'bad'), { at: 6 * SEC, value: false, point: 'door_open' }, card(10 * SEC, false), { tick: 3 * MIN, device: door }], { device: door });
  t.same(brief(alarms), ['raise@10s major 2', 'clear@130s major 0']);
});

t.test('numeric and list tests', async (t) => {
  const burst = ruleFrom(`
  - id: door-events
    alarm: door_forced_burst
    severity: minor
    match: { kind: access_control }
    point: door_event
    count: { in: [forced_open, held_open], atLeast: 1, within: 1m }
`);
  const { alarms } = drive(burst, [{ at: 0, value: 'opened', point: 'door_event' }, { at: 5 * SEC, value: 'forced_open', point: 'door_event' }, { tick: 2 * MIN }], { device: door });
  t.same(brief(alarms), ['raise@5s minor 1', 'clear@65s minor 0'], 'atLeast 1: an event alarm that clears itself');
  const tilt = ruleFrom(`
  - id: tilt-knocks
    alarm: manhole_knocked
    severity: minor
    match: { kind: manhole_cover }
    point: tilt_angle
    count: { above: 10, atLeast: 3, within: 1h, quiet: 1h }
`);
  const cover: RuleDevice = { id: 'mc-1', profile: 'generic/manhole-cover-tilt-sensor', kind: 'manhole_cover' };
  const r = drive(tilt, [2, 12, 3, 15, 'x' as unknown as number, 20].map((v, i) => ({ at: i * MIN, value: v, point: 'tilt_angle' })), { device: cover });
  t.same(brief(r.alarms), ['raise@300s minor 3'], 'a string value is not a number: not a hit');
});

t.test('state is plain JSON and survives a restart', async (t) => {
  const events = [0, 10, 20, 30, 40, 50].map((s) => card(s * SEC, false));
  const whole = run([...events, { tick: 10 * MIN, device: door }]).alarms;
  const first = run(events.slice(0, 3));
  t.same(viaJson(first.state), first.state);
  const second = run([...events.slice(3), { tick: 10 * MIN, device: door }], viaJson(first.state));
  t.same([...first.alarms, ...second.alarms], whole);
  const garbled = run([card(0, false)], { hits: [T0, 'x'] });
  t.same(garbled.state.hits, [T0], 'garbled hits are dropped');
});

t.test('checks and overrides', async (t) => {
  const problems = (yaml: string) => gsErrorOf(() => parseRuleFile(`rules:\n${yaml}`, 'c.yaml'))?.details.map((d) => `${d.path} ${d.message}`) ?? [];
  t.match(problems(DENIALS.replace('equals: false, ', '')), [/\/rules\/0\/count needs one test: "equals", "in", "above", "below"/]);
  t.match(problems(DENIALS.replace('equals: false', 'equals: false, above: 3')), [/\/rules\/0\/count\/above one test only; "equals" is already given/]);
  t.match(problems(DENIALS.replace('within: 2m', 'within: 0')), [/\/rules\/0\/count\/within must be longer than 0/]);
  t.match(problems(DENIALS.replace('atLeast: 5', 'atLeast: 0')), [/\/rules\/0\/count\/atLeast must be >= 1/]);
  t.match(problems(DENIALS.replace('equals: false', 'in: [a, a]')), [/\/rules\/0\/count\/in lists a value twice/]);

  const set = parseRuleFile(`rules:\n${DENIALS}`, 'c.yaml');
  const device = { ...door, overrides: { denials: { atLeast: 3, within: '1m' } } };
  validateOverrides(set, device);
  t.same(brief(drive(set.rules[0]!, [0, 10, 20].map((s) => card(s * SEC, false)), { device }).alarms), ['raise@20s major 3']);
  const e = gsErrorOf(() => validateOverrides(set, { ...door, overrides: { denials: { in: ['denied'] } } }));
  t.match(e?.details[0], { path: '/overrides/denials/in', message: /tests "equals"; override "equals", not "in"/ });
  const e2 = gsErrorOf(() => validateOverrides(set, { ...door, overrides: { denials: { equals: true } } }));
  t.equal(e2, undefined, 'the test value itself may change');
});

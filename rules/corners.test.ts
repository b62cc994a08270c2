// Corner cases of every condition kind that the scenario tests do not reach: checks of each
// parameter, garbled saved state, and the less common branches.
import t from 'tap';
import { parseRuleFile } from './compile.js';
import { durationText } from './conditions/kind.js';
import { testProblems, testVerdict } from './conditions/value-test.js';
import { RuleEngine } from './engine.js';
import { matches } from './evaluate.js';
import { deepEqual } from './json.js';
import { renderMessage } from './message.js';
import { validateOverrides, overrideProblems } from './overrides.js';
import { brief, drive, gauge, gsErrorOf, MIN, ruleFrom, SEC, T0, type Ev } from './test-support.js';
import type { CompiledRule, RuleDevice } from './types.js';

const problems = (yaml: string) => gsErrorOf(() => parseRuleFile(`rules:\n${yaml}`, 'x.yaml'))?.details.map((d) => `${d.path} ${d.message.replace(/ \(line \d+\)$/, '')}`) ?? [];
const head = (cond: string, point = 'water_level', match = '{ kind: water_level }') => `
  - id: x
    alarm: x_alarm
    severity: minor
    match: ${match}
    point: ${point}
    ${cond}
`;

t.test('rate checks', async (t) => {
  t.same(problems(head('rate: { within: 10m }')), ['/rules/0/rate needs exactly one of "rise" or "fall" (how much within the window)']);
  t.same(problems(head('rate: { rise: 1, fall: 1, within: 10m }')), ['/rules/0/rate/fall "rise" and "fall" are both given; write two rules']);
  t.same(problems(head('rate: { rise: 1, within: 10m, clearFall: 0.5 }')), ['/rules/0/rate/clearFall "clearFall" goes with "fall"; with "rise" the clear amount is "clearRise"']);
  t.same(problems(head('rate: { fall: 1, within: 10m, clearRise: 0.5 }')), ['/rules/0/rate/clearRise "clearRise" goes with "rise"; with "fall" the clear amount is "clearFall"']);
  t.same(problems(head('rate: { fall: 1, within: 10m, clearFall: 2 }')), ['/rules/0/rate/clearFall clearFall (2) must not be more than fall (1)']);
  t.same(problems(head('rate: { rise: 1, within: 10 minutes }')), ['/rules/0/rate/within must be a duration such as 500ms, 30s, 2m, 1h, 1d, or a number of seconds']);
  const fall = parseRuleFile(`rules:${head('rate: { fall: 1, within: 10m }')}`, 'f.yaml');
  t.match(gsErrorOf(() => validateOverrides(fall, { ...gauge, overrides: { x: { rise: 1 } } }))?.details[0], { path: '/overrides/x/rise', message: /watches a fall; override "fall" and "clearFall", not "rise"/ });
});

t.test('rate: garbled samples are dropped, a between change is between', async (t) => {
  const rule = ruleFrom(head('rate: { rise: 1, within: 10m, clearRise: 0.2 }'));
  for (const w of [5, [[1]], [[T0, 'x']], [[T0 + 2, 1], [T0 + 1, 1]], new Array(1001).fill([T0, 1])]) {
    t.same(rule.normalizeState({ w }), {}, `w = ${JSON.stringify(w).slice(0, 30)}`);
  }
  const { alarms } = drive(rule, [{ at: 0, value: 1 }, { at: MIN, value: 2.2 }, { at: 2 * MIN, value: 1.5 }, { at: 3 * MIN, value: 1.1 }]);
  t.same(brief(alarms), ['raise@60s minor 1.2', 'clear@180s minor 0.1'], 'a rise of 0.5 is between 0.2 and 1');
});

t.test('count: below test; garbled or unsorted hits; an active count without hits has nothing due', async (t) => {
  const rule = ruleFrom(head('count: { below: 1, atLeast: 2, within: 1m }'));
  t.same(brief(drive(rule, [{ at: 0, value: 0.5 }, { at: SEC, value: 3 }, { at: 2 * SEC, value: 0.2 }]).alarms), ['raise@2s minor 2']);
  t.same(rule.normalizeState({ hits: [T0 + 2, T0 + 1] }), {}, 'unsorted');
  t.same(rule.normalizeState({ hits: 'x' }), {});
  t.equal(rule.nextDue({ active: { alarmId: 'abcdefgh12', seq: 0, severity: 'minor', raisedAt: T0 } }, gauge), undefined);
});

t.test('stale: two good readings at the same instant keep the state object', async (t) => {
  const rule = ruleFrom(head('stale: { after: 1m }'));
  const s = drive(rule, [{ at: 0, value: 1 }]).state;
  t.equal(drive(rule, [{ at: 0, value: 2 }], { state: s }).state, s);
});

t.test('value: a good reading with no value says nothing; threshold drops a deadband reference it no longer uses', async (t) => {
  const v = ruleFrom(head('value: { equals: true }', 'signal_fault'));
  const s = drive(v, [{ at: 0, value: true, point: 'signal_fault' }]).state;
  t.equal(drive(v, [{ at: SEC, value: null, point: 'signal_fault' }], { state: s }).state, s);
  const th = ruleFrom(head('threshold: { above: 5 }'));
  t.same(drive(th, [{ at: 0, value: 1 }], { state: { ref: 0.5 } }).state, {}, 'a saved ref from when the rule had a deadband');
});

t.test('value tests: below with hysteresis, numeric lists, checks', async (t) => {
  t.equal(testVerdict({ below: 10, clearAbove: 12 }, 9), 'raise');
  t.equal(testVerdict({ below: 10, clearAbove: 12 }, 11), 'between');
  t.equal(testVerdict({ below: 10 }, 11), 'clear');
  t.equal(testVerdict({ below: 10 }, Number.NaN), undefined);
  t.equal(testVerdict({ in: [1, 2] }, 2), 'raise');
  t.equal(testVerdict({ equals: 'x' }, null), undefined);
  t.same(testProblems({ below: 1, clearAbove: 0 }), [{ path: '/clearAbove', message: 'clearAbove (0) must not be below the raise line below (1)' }]);
  t.same(testProblems({ above: 1, clearAbove: 2 }), [{ path: '/clearAbove', message: '"clearAbove" goes with "below"' }]);
  t.same(testProblems({ below: 1, clearBelow: 2 }), [{ path: '/clearBelow', message: '"clearBelow" goes with "above"' }]);
});

const home = (id: string, kind: string, profile: string): RuleDevice => ({ id, kind, profile, site: 'h' });
const ALL = (extra = '', a = '{ kind: smoke_detector, point: smoke_alarm, equals: true }', b = '{ profile: generic/temperature-humidity-sensor, point: temperature, above: 57 }') => `
  - id: combo
    alarm: smoke_fire_confirmed
    severity: critical
    all:
      of:
        - ${a}
        - ${b}
${extra}`;

t.test('all: members by profile; checks of members', async (t) => {
  const rule = parseRuleFile(`rules:${ALL()}`, 'a.yaml').rules[0]!;
  t.ok(rule.appliesTo(home('th', 'temperature_humidity', 'generic/temperature-humidity-sensor')));
  t.notOk(rule.appliesTo(home('th', 'temperature_humidity', 'acme/other-sensor')), 'a member by profile takes only that profile');
  t.match(problems(ALL('', '{ kind: [smoke_detector, smoke_detector], point: smoke_alarm, equals: true }')), ['/rules/0/all/of/0/kind/1 kind "smoke_detector" is listed twice']);
  t.same(problems(ALL('      within: 0s\n')), ['/rules/0/all/within must be longer than 0']);
  t.same(problems(ALL('      raiseOn: camera\n', '{ profile: generic/nb-smoke-detector, point: smoke_alarm, equals: true }')), ['/rules/0/all/raiseOn no member takes devices of kind "camera" (members\' kinds: none)']);
  t.same(problems(ALL().replace('    all:', '    match: { kind: smoke_detector }\n    all:')), ['/rules/0/match an "all" rule names its devices and points in each member of all.of, not in "match"']);
  t.match(parseRuleFile(`rules:${ALL().replace('critical\n', 'critical\n    description: Fire\n')}`, 'a.yaml').rules[0]!.description, 'Fire');
});

t.test('all: a tie between detectors goes to the lower id; garbled state is dropped', async (t) => {
  const set = parseRuleFile(`rules:${ALL('      raiseOn: smoke_detector\n')}`, 'a.yaml');
  const engine = new RuleEngine([set]);
  const a = home('sd-b', 'smoke_detector', 'generic/nb-smoke-detector');
  const b = home('sd-a', 'smoke_detector', 'generic/nb-smoke-detector');
  const th = home('th', 'temperature_humidity', 'generic/temperature-humidity-sensor');
  engine.process({ deviceId: a.id, point: 'smoke_alarm', value: true, quality: 'good', ts: T0 }, a, T0);
  engine.process({ deviceId: b.id, point: 'smoke_alarm', value: true, quality: 'good', ts: T0 }, b, T0);
  const out = engine.process({ deviceId: th.id, point: 'temperature', value: 60, quality: 'good', ts: T0 + 1 }, th, T0 + 1);
  t.same(out.map((x) => x.deviceId), ['sd-a']);
  const rule = set.rules[0]!;
  t.same(rule.normalizeState({ m: [5, { x: 3 }] }), {}, 'a member that is not an object, an entry that is not one');
  t.same(rule.normalizeState({ m: [{}] }), {}, 'a state for another number of members');
});

t.test('all: overrides are checked without a device too, and never take common fields', async (t) => {
  const set = parseRuleFile(`rules:${ALL()}`, 'a.yaml');
  const spec = (await import('./evaluate.js')).ruleSpecOf(set.rules[0]!)!;
  t.same(overrideProblems(spec, { points: { temperature: { above: 60 } } }), [], 'no device: only the shape is checked');
  const sd = home('sd', 'smoke_detector', 'generic/nb-smoke-detector');
  t.match(gsErrorOf(() => validateOverrides(set, { ...sd, kind: 'camera', overrides: { combo: { points: { temperature: { above: 60 } } } } }))?.details[0], { message: /no member of this rule tests point "temperature" of a camera device \(its members here: none\)/ });
});

t.test('engine: a site-scoped rule never runs for a device without a site', async (t) => {
  let calls = 0;
  const fake: CompiledRule = {
    id: 'fake', file: 'f', scope: 'site', appliesTo: () => true,
    evaluate: (state) => (calls++, { state, alarms: [] }), tick: (state) => (calls++, { state, alarms: [] }),
    nextDue: () => (calls++, T0), normalizeState: (s) => s,
  };
  const engine = new RuleEngine([{ file: 'f', rules: [fake] }]);
  engine.process({ deviceId: gauge.id, point: 'water_level', value: 1, quality: 'good', ts: T0 }, gauge, T0);
  engine.tick(gauge, T0);
  t.equal(engine.nextDue(gauge), undefined);
  t.equal(calls, 0);
  t.match(gsErrorOf(() => validateOverrides({ file: 'f', rules: [fake] }, { ...gauge, overrides: { fake: {} } }))?.details[0]?.message, /this rule takes no overrides/);
});

t.test('small helpers', async (t) => {
  t.equal(durationText(90), '90s');
  t.equal(durationText(' 2m '), '2m');
  t.notOk(deepEqual([1], { 0: 1 }));
  t.notOk(deepEqual({ a: 1 }, { b: 1 }));
  t.equal(renderMessage('{point} {nope}', { point: 'p' }), 'p {nope}', 'an unknown token is left as written');
  const spec = parseRuleFile(`rules:${head('threshold: { above: 1 }')}`, 'x.yaml');
  const { ruleSpecOf } = await import('./evaluate.js');
  t.ok(matches(ruleSpecOf(spec.rules[0]!)!, gauge));
  t.notOk(matches(ruleSpecOf(parseRuleFile(`rules:${ALL()}`, 'a.yaml').rules[0]!)!, gauge), 'an all rule has no match block');
});

t.test('during: a hold begun in one window does not complete in the next', async (t) => {
  const rule = ruleFrom(head('value: { equals: true, hold: 10m }\n    during: { between: "00:00", and: "06:00", timezone: UTC }', 'signal_fault'));
  const d0 = Date.UTC(2026, 6, 2, 5, 55) - T0;
  const events: Ev[] = [{ at: d0, value: true, point: 'signal_fault' }, { at: d0 + 24 * 60 * MIN + 10 * MIN, value: true, point: 'signal_fault' }, { at: d0 + 24 * 60 * MIN + 20 * MIN, value: true, point: 'signal_fault' }];
  t.same(drive(rule, events).alarms, [], '06:05 and 06:15 the next day are outside the window: nothing');
  const inside: Ev[] = [{ at: d0, value: true, point: 'signal_fault' }, { at: d0 + 20 * 60 * MIN, value: true, point: 'signal_fault' }, { at: d0 + 20 * 60 * MIN + 10 * MIN, value: true, point: 'signal_fault' }];
  t.same(drive(rule, inside).alarms.map((a) => new Date(a.ts).toISOString()), ['2026-07-03T02:05:00.000Z'], 'the 05:55 streak is dropped at 01:55 next night; 10 min later it raises');
});

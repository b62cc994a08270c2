import t from 'tap';
import { parseRuleFile } from './compile.js';
import { validateOverrides } from './overrides.js';
import { feed, gauge, gsErrorOf, MIN, SEC, steady, T0, WARNING } from './test-support.js';
import type { RuleDevice } from './types.js';

const LOW = `
  - id: wl-low
    alarm: water_level_low
    severity: minor
    match: { kind: water_level }
    point: water_level
    threshold: { below: 0.5, clearAbove: 0.7 }
`;
const set = parseRuleFile(`rules:\n${WARNING}${LOW}`, 'wl.yaml');
const warning = set.rules[0]!;
const withOverrides = (o: Record<string, Record<string, unknown>>): RuleDevice => ({ ...gauge, overrides: o });

t.test('the evaluator applies a device override', async (t) => {
  const device = withOverrides({ 'wl-warning': { above: 2.8, clearBelow: 2.6, hold: '10s', clearHold: 5, severity: 'critical' } });
  validateOverrides(set, device);
  const { alarms } = feed(warning, [...steady(3.0, 0, 20 * SEC), ...steady(2.5, 30 * SEC, 40 * SEC, 5 * SEC)], { device });
  t.same(
    alarms.map((a) => [a.action, a.ts - T0, a.threshold, a.severity]),
    [
      ['raise', 10 * SEC, 2.8, 'critical'],
      ['clear', 35 * SEC, 2.6, 'critical'],
    ],
    'lower line, shorter holds (5 = seconds), higher severity',
  );
  t.same(feed(warning, steady(3.0, 0, 5 * MIN)).alarms, [], 'the same water on a gauge without the override: under 3.5 m, nothing');
});

t.test('an override of some fields keeps the rule values of the others', async (t) => {
  const device = withOverrides({ 'wl-warning': { hold: '0s' } });
  validateOverrides(set, device);
  const { alarms } = feed(warning, [[0, 3.6], [10 * SEC, 3.4], [20 * SEC, 3.2], [50 * SEC, 3.2]], { device });
  t.same(alarms.map((a) => [a.action, a.ts - T0]), [['raise', 0], ['clear', 50 * SEC]], 'raise line 3.5, clear line 3.3, clearHold 30 s from the rule');
});

t.test('overrides are per device: another gauge keeps the rule values', async (t) => {
  const fast = withOverrides({ 'wl-warning': { hold: '0s' } });
  const slow: RuleDevice = { ...gauge, id: 'wl-002' };
  t.equal(feed(warning, [[0, 3.6]], { device: fast }).alarms.length, 1);
  t.equal(feed(warning, [[0, 3.6]], { device: slow }).alarms.length, 0);
});

const BAD: [string, Record<string, Record<string, unknown>>, { path: string; message: RegExp }][] = [
  ['a malformed duration', { 'wl-warning': { hold: '2 min' } }, { path: '/overrides/wl-warning/hold', message: /rule "wl-warning": must be a duration/ }],
  ['a non-number line', { 'wl-warning': { above: 'high' } }, { path: '/overrides/wl-warning/above', message: /must be number/ }],
  ['an unknown field', { 'wl-warning': { raiseAbove: 3.2 } }, { path: '/overrides/wl-warning/raiseAbove', message: /not a known field/ }],
  ['an unknown severity', { 'wl-warning': { severity: 'urgent' } }, { path: '/overrides/wl-warning/severity', message: /one of critical, major, minor, warning/ }],
  ['a switch of direction', { 'wl-warning': { below: 1 } }, { path: '/overrides/wl-warning/below', message: /raises above a line; override "above" and "clearBelow"/ }],
  ['the other direction\'s clear line', { 'wl-low': { clearBelow: 1 } }, { path: '/overrides/wl-low/clearBelow', message: /override "below" and "clearAbove"/ }],
  ['a clear line on the wrong side', { 'wl-warning': { clearBelow: 3.6 } }, { path: '/overrides/wl-warning/clearBelow', message: /clearBelow \(3.6\) must not be above the raise line above \(3.5\)/ }],
  [
    'a raise line under the rule\'s clear line',
    { 'wl-warning': { above: 3.2 } },
    { path: '/overrides/wl-warning/above', message: /clearBelow \(3.3\) must not be above the raise line above \(3.2\).*rule's clearBelow applies unless this device overrides it too/ },
  ],
  ['an unknown rule id', { 'wl-warnin': { hold: '1s' } }, { path: '/overrides/wl-warnin', message: /no loaded rule has this id \(loaded: wl-warning, wl-low\)/ }],
  ['a non-object', { 'wl-warning': 'fast' as unknown as Record<string, unknown> }, { path: '/overrides/wl-warning', message: /must be object/ }],
];

t.test('validateOverrides rejects bad overrides, naming device, rule and field', async (t) => {
  for (const [what, overrides, expected] of BAD) {
    const e = gsErrorOf(() => validateOverrides(set, withOverrides(overrides)));
    t.equal(e?.code, 'GS_ERR_RULE_INVALID', what);
    t.match(e?.message, gauge.id, `${what}: message names the device`);
    t.equal(e?.details.length, 1, `${what}: one problem`);
    t.equal(e?.details[0]?.path, expected.path, `${what}: path`);
    t.match(e?.details[0]?.message, expected.message, `${what}: says what is wrong`);
    t.match(e?.details[0]?.message, `device "${gauge.id}"`, `${what}: detail names the device`);
  }
});

t.test('validateOverrides places errors in the config file when told where the device is', async (t) => {
  const e = gsErrorOf(() => validateOverrides([set], withOverrides({ 'wl-warning': { hold: 'soon' } }), { file: 'edge.yaml', path: '/devices/3' }));
  t.equal(e?.details[0]?.file, 'edge.yaml');
  t.equal(e?.details[0]?.path, '/devices/3/overrides/wl-warning/hold');
});

t.test('valid overrides and no overrides pass', async (t) => {
  t.doesNotThrow(() => validateOverrides(set, gauge));
  t.doesNotThrow(() => validateOverrides(set, withOverrides({ 'wl-low': { below: 0.2, clearAbove: 0.3 }, 'wl-warning': { clearHold: '0s' } })));
  t.doesNotThrow(() => validateOverrides(set, withOverrides({ 'wl-warning': { above: 3.3 } })), 'clear line equal to the raise line is allowed');
});

t.test('only the overrides of rules loaded in any given set count as known', async (t) => {
  const other = parseRuleFile(`rules:\n${WARNING.replace('wl-warning', 'wl-other')}`, 'other.yaml');
  t.doesNotThrow(() => validateOverrides([set, other], withOverrides({ 'wl-other': { hold: '1s' } })));
  t.throws(() => validateOverrides(set, withOverrides({ 'wl-other': { hold: '1s' } })), { code: 'GS_ERR_RULE_INVALID' });
});

import t from 'tap';
import { parseRuleFile } from './compile.js';
import { RuleEngine } from './engine.js';
import { validateOverrides } from './overrides.js';
import { brief, drive, gauge, gsErrorOf, level, MIN, ruleFrom, SEC, steady, T0, type Ev } from './test-support.js';

const ESC = `
  - id: wl-esc
    description: Water above the warning line
    alarm: water_level_warning
    severity: minor
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3.5, clearBelow: 3.3 }
    escalate: { after: 30m, to: major }
`;
const esc = ruleFrom(ESC);

t.test('an alarm that persists is updated to the higher severity, stamped raise + after', async (t) => {
  const raised = drive(esc, [{ at: 0, value: 3.8 }]);
  t.equal(esc.nextDue(raised.state, gauge), T0 + 30 * MIN);
  const { alarms } = drive(esc, [{ tick: 31 * MIN }, { tick: 45 * MIN }, { at: 50 * MIN, value: 3.1 }], { state: raised.state });
  t.same(alarms.map((a) => [a.action, a.seq, a.severity, (a.ts - T0) / MIN]), [['update', 1, 'major', 30], ['clear', 2, 'major', 50]], 'update takes seq 1; the clear takes seq 2 and keeps the escalated severity');
  t.equal(alarms[0]!.alarmId, raised.alarms[0]!.alarmId, 'the same alarm');
  t.equal(alarms[0]!.value, null);
  t.match(alarms[0]!.message, /^Water above the warning line: water_level_warning still active after 30m; severity raised to major$/);
  t.equal(esc.nextDue(drive(esc, [{ tick: 31 * MIN }], { state: raised.state }).state, gauge), undefined, 'escalates once');
});

t.test('live (ticks) and replay (readings only) give the same transitions', async (t) => {
  const readings: Ev[] = steady(3.8, 0, 40 * MIN, MIN).map(([at, value]) => ({ at, value }));
  const ticks: Ev[] = [];
  for (let s = 7; s < 40 * 60; s += 13) ticks.push({ tick: s * SEC });
  const merged = [...readings, ...ticks].sort((a, b) => ('tick' in a ? a.tick : a.at) - ('tick' in b ? b.tick : b.at));
  t.same(drive(esc, merged).alarms, drive(esc, readings).alarms);
  t.same(brief(drive(esc, readings).alarms), ['raise@0s minor 3.8', 'update@1800s major']);
});

t.test('cleared before it is due: no escalation', async (t) => {
  const { alarms } = drive(esc, [{ at: 0, value: 3.8 }, { at: 29 * MIN, value: 3.0 }, { tick: 60 * MIN }]);
  t.same(alarms.map((a) => a.action), ['raise', 'clear']);
  const tie = drive(ruleFrom(ESC.replace("threshold: { above: 3.5, clearBelow: 3.3 }", "count: { above: 3.5, atLeast: 1, within: 30m }")), [{ at: 0, value: 3.8 }, { tick: 60 * MIN }]);
  t.same(brief(tie.alarms), ['raise@0s minor 1', 'clear@1800s minor 0'], 'a clear due at the moment of the escalation wins');
});

t.test('a custom message, and escalation of a count rule by tick', async (t) => {
  const rule = ruleFrom(`
  - id: denials
    alarm: access_denied_repeated
    severity: minor
    match: { kind: access_control }
    point: card_granted
    count: { equals: false, atLeast: 2, within: 1m, quiet: 1h }
    escalate: { after: 10m, to: critical, message: "{device}: denials still going on after {window} ({severity})" }
`);
  const door = { id: 'acs-1', profile: 'generic/access-controller', kind: 'access_control' };
  const { alarms } = drive(rule, [{ at: 0, value: false }, { at: SEC, value: false }, { tick: 20 * MIN }], { device: door, point: 'card_granted' });
  t.same(brief(alarms), ['raise@1s minor 2', 'update@601s critical']);
  t.equal(alarms[1]!.message, 'acs-1: denials still going on after 10m (critical)');
});

t.test('checks: escalation must go up; its message takes its own placeholders', async (t) => {
  const problems = (yaml: string) => gsErrorOf(() => parseRuleFile(`rules:\n${yaml}`, 'e.yaml'))?.details.map((d) => `${d.path} ${d.message}`) ?? [];
  t.match(problems(ESC.replace('to: major', 'to: minor')), [/\/rules\/0\/escalate\/to must be more urgent than the rule's severity "minor"/]);
  t.match(problems(ESC.replace('to: major', 'to: warning')), [/escalate\/to must be more urgent/]);
  t.match(problems(ESC.replace('after: 30m', 'after: 0')), [/\/rules\/0\/escalate\/after must be longer than 0/]);
  t.match(problems(ESC.replace('to: major', 'to: urgent')), [/\/rules\/0\/escalate\/to must be one of critical, major, minor, warning/]);
  t.match(problems(ESC.replace('to: major }', 'to: major, message: "{value} now" }')), [/\/rules\/0\/escalate\/message placeholder \{value\} has no value in an escalation; available: \{device\} \{point\} \{site\} \{severity\} \{window\}/]);
});

t.test('overrides: severity and escalate per device, checked against each other', async (t) => {
  const set = parseRuleFile(`rules:\n${ESC}`, 'e.yaml');
  const fast = { ...gauge, overrides: { 'wl-esc': { escalate: { after: '5m', to: 'critical' } } } };
  validateOverrides(set, fast);
  t.same(brief(drive(set.rules[0]!, [{ at: 0, value: 3.8 }, { tick: 6 * MIN }], { device: fast }).alarms), ['raise@0s minor 3.8', 'update@300s critical']);
  const already = { ...gauge, overrides: { 'wl-esc': { severity: 'critical', escalate: { after: '5m', to: 'critical' } } } };
  t.match(gsErrorOf(() => validateOverrides(set, already))?.details[0], { path: '/overrides/wl-esc/escalate/to', message: /escalation to "critical" must be more urgent than the severity "critical"/ });
  const tooHigh = { ...gauge, overrides: { 'wl-esc': { severity: 'major' } } };
  t.match(gsErrorOf(() => validateOverrides(set, tooHigh))?.details[0], { path: '/overrides/wl-esc/severity', message: /escalation to "major" must be more urgent than the severity "major"/ });
  t.equal(gsErrorOf(() => validateOverrides(set, { ...gauge, overrides: { 'wl-esc': { escalate: { after: 0, to: 'major' } } } }))?.details[0]?.path, '/overrides/wl-esc/escalate/after');
});

t.test('the engine: nextDue and tick per device', async (t) => {
  const engine = new RuleEngine([parseRuleFile(`rules:\n${ESC}`, 'e.yaml')]);
  t.equal(engine.nextDue(gauge), undefined);
  engine.process(level(3.9, T0), gauge, T0);
  t.equal(engine.nextDue(gauge), T0 + 30 * MIN);
  t.same(engine.tick(gauge, T0 + 29 * MIN), []);
  t.same(brief(engine.tick(gauge, T0 + 35 * MIN)), ['update@1800s major']);
  t.equal(engine.nextDue(gauge), undefined);
});

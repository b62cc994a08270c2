import t from 'tap';
import { join } from 'node:path';
import { loadRuleFile, loadRuleFiles, parseRuleFile } from './compile.js';
import type { ErrorDetail } from '../contracts/errors.js';
import { gsErrorOf, WARNING } from './test-support.js';

const FILE = 'flood/test-rules.yaml';

/** Parses `text` and returns the details of the GS_ERR_RULE_INVALID it must throw, each naming the file. */
function problems(text: string): ErrorDetail[] {
  const e = gsErrorOf(() => parseRuleFile(text, FILE));
  if (e?.code !== 'GS_ERR_RULE_INVALID' || e.details.length === 0 || e.details.some((d) => d.file !== FILE)) {
    throw new Error(`expected GS_ERR_RULE_INVALID with details naming ${FILE}, got ${e ? e.describe() : 'no error'}`);
  }
  return e.details;
}

const rule = (over: string, base = WARNING) => `rules:\n${base}${over}`;

t.test('a valid file compiles to a RuleSet', async (t) => {
  const set = parseRuleFile(`rules:\n${WARNING}${WARNING.replace('wl-warning', 'wl-warning-2')}`, FILE);
  t.equal(set.file, FILE);
  t.same(set.rules.map((r) => r.id), ['wl-warning', 'wl-warning-2']);
  t.equal(set.rules[0]!.file, FILE);
});

t.test('broken YAML: line and column of the syntax error', async (t) => {
  const d = problems('rules:\n  - id: a\n    threshold: { above: 3.5\n');
  t.equal(d.length, 1);
  t.equal(d[0]!.path, '');
  t.match(d[0]!.message, /^line \d+, column \d+: /);
});

t.test('a repeated key is a YAML error, not a silent last-one-wins', async (t) => {
  const d = problems('rules:\n  - id: a\n    point: x\n    point: y\n');
  t.match(d[0]!.message, /line 4, column 5: Map keys must be unique/);
});

t.test('an unknown field names its path and line', async (t) => {
  const text = `rules:
  - id: wl-warning
    alarm: water_level_warning
    severity: major
    match: { kind: water_level }
    point: water_level
    threshold:
      above: 3.5
      raiseAbove: 3.6
`;
  const d = problems(text);
  t.same(d.map((x) => x.path), ['/rules/0/threshold/raiseAbove']);
  t.match(d[0]!.message, /is not a known field \(line 9\)/);
});

t.test('schema problems read as what is allowed', async (t) => {
  const bad = rule('').replace('severity: major', 'severity: urgent').replace('hold: 2m', 'hold: 2 minutes').replace('id: wl-warning', 'id: WL_Warning');
  const d = problems(bad);
  const byPath = Object.fromEntries(d.map((x) => [x.path, x.message]));
  t.match(byPath['/rules/0/severity'], /^must be one of critical, major, minor, warning \(line \d+\)$/);
  t.match(byPath['/rules/0/threshold/hold'], /must be a duration such as 500ms, 30s, 2m/);
  t.match(byPath['/rules/0/id'], /must match pattern/);
  t.equal(d.length, 3, 'one line per problem, no union noise');
});

t.test('a duplicate rule id points at the second one', async (t) => {
  const d = problems(`rules:\n${WARNING}${WARNING}`);
  t.same(d.map((x) => x.path), ['/rules/1/id']);
  t.match(d[0]!.message, /duplicate rule id "wl-warning" \(first defined at \/rules\/0\)/);
});

t.test('hysteresis on the wrong side of the raise line', async (t) => {
  const up = problems(rule('').replace('clearBelow: 3.3', 'clearBelow: 3.7'));
  t.same(up.map((x) => x.path), ['/rules/0/threshold/clearBelow']);
  t.match(up[0]!.message, /clearBelow \(3\.7\) must not be above the raise line above \(3\.5\)/);

  const down = problems(rule('').replace('above: 3.5, clearBelow: 3.3', 'below: 0.5, clearAbove: 0.4'));
  t.same(down.map((x) => x.path), ['/rules/0/threshold/clearAbove']);
  t.match(down[0]!.message, /clearAbove \(0\.4\) must not be below the raise line below \(0\.5\)/);

  const crossed = problems(rule('').replace('clearBelow: 3.3', 'clearAbove: 3.3'));
  t.same(crossed.map((x) => x.path), ['/rules/0/threshold/clearAbove'], 'clearAbove with above');
  t.match(crossed[0]!.message, /with "above" the clear line is "clearBelow"/);
});

t.test('exactly one of above/below', async (t) => {
  const both = problems(rule('').replace('above: 3.5,', 'above: 3.5, below: 1,'));
  t.same(both.map((x) => x.path), ['/rules/0/threshold/below']);
  t.match(both[0]!.message, /both given/);
  const neither = problems(rule('').replace('above: 3.5, clearBelow: 3.3,', ''));
  t.same(neither.map((x) => x.path), ['/rules/0/threshold']);
  t.match(neither[0]!.message, /exactly one of "above".*or "below"/);
});

t.test('a rule needs exactly one condition', async (t) => {
  const d = problems(rule('').replace(/\n {4}threshold:.*\n/, '\n'));
  t.same(d.map((x) => x.path), ['/rules/0']);
  t.match(d[0]!.message, /needs one condition: "threshold"/);
});

t.test('other semantic checks', async (t) => {
  const emptyMatch = problems(rule('').replace('match: { kind: water_level }', 'match: {}'));
  t.same(emptyMatch.map((x) => x.path), ['/rules/0/match']);
  const twice = problems(rule('').replace('match: { kind: water_level }', 'match: { devices: [a, b, a] }'));
  t.same(twice.map((x) => x.path), ['/rules/0/match/devices/2']);
  const typo = problems(rule('').replace('{value}', '{vaule}'));
  t.same(typo.map((x) => x.path), ['/rules/0/message']);
  t.match(typo[0]!.message, /unknown placeholder \{vaule\}; known: \{value\} \{unit\} \{threshold\} \{device\} \{point\}/);
  const inf = problems(rule('').replace('above: 3.5', 'above: .inf'));
  t.same(inf.map((x) => x.path), ['/rules/0/threshold/above'], 'YAML .inf is not a usable line');
});

t.test('one pass reports schema problems of one rule and semantic problems of another', async (t) => {
  const d = problems(`rules:\n${WARNING.replace('severity: major', 'severity: big')}${WARNING.replace('clearBelow: 3.3', 'clearBelow: 3.9')}`);
  t.same(d.map((x) => x.path), ['/rules/0/severity', '/rules/1/id', '/rules/1/threshold/clearBelow']);
});

t.test('file-level shape', async (t) => {
  t.same(problems('').map((x) => x.path), [''], 'an empty file');
  t.same(problems('rules: []\n').map((x) => x.path), ['/rules'], 'no rules');
  t.same(problems(`version: 2\n${rule('')}`).map((x) => x.path), ['/version'], 'unknown top-level key');
  const e = gsErrorOf(() => parseRuleFile('rules: []\n', FILE));
  t.match(e?.message, FILE, 'the message names the file');
  t.match(e?.describe(), `${FILE}: /rules: `, 'describe() prints file and path');
});

t.test('loadRuleFile reads from disk; a read error is GS_ERR_RULE_INVALID naming the file', async (t) => {
  const dir = t.testdir({ 'a.yaml': rule(''), 'b.yaml': rule('', WARNING.replace('wl-warning', 'wl-b')) });
  const set = loadRuleFile(join(dir, 'a.yaml'));
  t.equal(set.file, join(dir, 'a.yaml'));
  t.same(loadRuleFiles([join(dir, 'a.yaml'), join(dir, 'b.yaml')]).map((s) => s.rules[0]!.id), ['wl-warning', 'wl-b']);

  const missing = join(dir, 'nope.yaml');
  const e = gsErrorOf(() => loadRuleFile(missing));
  t.equal(e?.code, 'GS_ERR_RULE_INVALID');
  t.equal(e?.details[0]?.file, missing);
  t.match(e?.details[0]?.message, /ENOENT/);
  t.equal(gsErrorOf(() => loadRuleFiles([join(dir, 'a.yaml'), missing]))?.details[0]?.file, missing, 'loadRuleFiles stops at the bad one');
});

t.test('match: kind and profile take a list; a value listed twice is reported', async (t) => {
  const set = parseRuleFile(rule('').replace('match: { kind: water_level }', 'match: { kind: [water_level, pumping_station] }'), FILE);
  t.ok(set.rules[0]!.appliesTo({ id: 'p', profile: 'generic/opcua-pumping-station', kind: 'pumping_station' }));
  t.notOk(set.rules[0]!.appliesTo({ id: 'r', profile: 'generic/tipping-bucket-rain-gauge', kind: 'rain_gauge' }));
  t.same(problems(rule('').replace('match: { kind: water_level }', 'match: { kind: [water_level, water_level] }')).map((d) => d.path), ['/rules/0/match/kind/1']);
  const bad = problems(rule('').replace('match: { kind: water_level }', 'match: { kind: Water-Level }'));
  t.match(bad, [{ path: '/rules/0/match/kind', message: /must be a profile kind \(snake_case, e\.g\. smoke_detector\) or a list of them/ }]);
});

t.test('two conditions, and placeholders a condition does not provide', async (t) => {
  const two = problems(rule('').replace('    threshold:', '    stale: { after: 10m }\n    threshold:'));
  t.same(two.map((d) => d.path), ['/rules/0/stale']);
  t.match(two[0]!.message, /a rule has exactly one condition; "threshold" is already given/);
  const change = problems(rule('').replace('{value}', '{change}'));
  t.match(change, [{ path: '/rules/0/message', message: /placeholder \{change\} has no value in a "threshold" rule; available: \{value\} \{unit\} \{threshold\} \{device\} \{point\} \{site\} \{severity\}/ }]);
  const stale = problems(`rules:
  - id: s
    alarm: data_stale
    severity: minor
    match: { kind: water_level }
    point: water_level
    stale: { after: 10m }
    message: "{point} silent for {window}, last {threshold}"
`);
  t.match(stale, [{ path: '/rules/0/message', message: /\{threshold\} has no value in a "stale" rule/ }]);
});

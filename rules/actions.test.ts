// Rule actions: validated with file / rule / field like every other rule error, and turned into
// intents by the engine — purely, from the alarms a reading caused.
import t from 'tap';
import type { Reading } from '../contracts/reading.js';
import { parseRuleFile } from './compile.js';
import { RuleEngine } from './engine.js';
import { gsErrorOf, T0, SEC, MIN } from './test-support.js';
import type { RuleDevice } from './types.js';

const FILE = 'fire/siren.yaml';

const SMOKE = (actions: string) => `rules:
  - id: smoke-siren
    alarm: smoke_alarm
    severity: critical
    match: { kind: smoke_detector }
    point: smoke_alarm
    value: { equals: true }
${actions}`;

const detector: RuleDevice = { id: 'smoke-101', profile: 'generic/photoelectric-smoke-detector', kind: 'smoke_detector' };
const smoke = (value: boolean, ts: number): Reading => ({ deviceId: detector.id, point: 'smoke_alarm', value, quality: 'good', ts });

function problems(text: string) {
  const e = gsErrorOf(() => parseRuleFile(text, FILE));
  if (e?.code !== 'GS_ERR_RULE_INVALID') throw new Error(`expected GS_ERR_RULE_INVALID, got ${e ? e.describe() : 'no error'}`);
  return e.details.map((d) => ({ file: d.file, path: d.path, message: d.message }));
}

t.test('a raise sounds the siren and takes pictures; the clear silences it; intents are pure', async (t) => {
  const set = parseRuleFile(
    SMOKE(`    actions:
      - on: raise
        write: { device: siren-1, point: siren, value: true }
      - on: raise
        snapshot: { within: 50 }
      - on: clear
        write: { device: siren-1, point: siren, value: false }
      - on: raise
        write: { point: silence, value: false }
`),
    FILE,
  );
  const engine = new RuleEngine([set]);
  const raised = engine.process(smoke(true, T0), detector, T0);
  t.equal(raised.length, 1);
  const intents = engine.intents(raised);
  t.same(intents, [
    { kind: 'write', ruleId: 'smoke-siren', alarmId: raised[0]!.alarmId, at: T0, on: 'raise', deviceId: 'siren-1', point: 'siren', value: true },
    { kind: 'snapshot', ruleId: 'smoke-siren', alarmId: raised[0]!.alarmId, at: T0, on: 'raise', deviceId: 'smoke-101', withinMetres: 50 },
    { kind: 'write', ruleId: 'smoke-siren', alarmId: raised[0]!.alarmId, at: T0, on: 'raise', deviceId: 'smoke-101', point: 'silence', value: false },
  ], 'the raise: siren on, pictures near the detector, and a write to the alarming device itself (no device named)');
  t.same(engine.intents(raised), intents, 'the same alarms give the same intents');
  t.same(engine.intents(engine.process(smoke(true, T0 + SEC), detector, T0 + SEC)), [], 'no transition, no action');

  const cleared = engine.process(smoke(false, T0 + MIN), detector, T0 + MIN);
  t.same(engine.intents(cleared), [
    { kind: 'write', ruleId: 'smoke-siren', alarmId: raised[0]!.alarmId, at: T0 + MIN, on: 'clear', deviceId: 'siren-1', point: 'siren', value: false },
  ], 'the clear: siren off');
});

t.test('an escalation (update) triggers nothing; a rule without actions gives no intents', async (t) => {
  const set = parseRuleFile(
    `rules:
  - id: smoke-siren
    alarm: smoke_alarm
    severity: major
    match: { kind: smoke_detector }
    point: smoke_alarm
    value: { equals: true }
    escalate: { after: 1m, to: critical }
    actions:
      - on: raise
        snapshot: { cameras: [cam-1, cam-2] }
  - id: plain
    alarm: smoke_plain
    severity: minor
    match: { kind: smoke_detector }
    point: smoke_alarm
    value: { equals: true }
`,
    FILE,
  );
  const engine = new RuleEngine([set]);
  const raised = engine.process(smoke(true, T0), detector, T0);
  t.same(engine.intents(raised).map((i) => [i.ruleId, i.kind, i.kind === 'snapshot' ? i.cameras : undefined]), [['smoke-siren', 'snapshot', ['cam-1', 'cam-2']]]);
  const escalated = engine.tick(detector, T0 + 2 * MIN);
  t.same(escalated.map((a) => a.action), ['update']);
  t.same(engine.intents(escalated), [], 'an update triggers no action');
});

t.test('bad actions: file, rule and field named', async (t) => {
  const d = problems(
    SMOKE(`    actions:
      - on: raise
      - on: clear
        snapshot: {}
      - on: raise
        snapshot: { cameras: [a], within: 30 }
      - on: raise
        write: { point: siren, value: true }
        snapshot: { within: 10 }
      - on: raise
        snapshot: { cameras: [a, a] }
`),
  );
  t.same(d, [
    { file: FILE, path: '/rules/0/actions/0', message: 'needs one of "write" (set a point of a device) or "snapshot" (take camera pictures) (line 9)' },
    { file: FILE, path: '/rules/0/actions/1/on', message: 'a snapshot is evidence of a raise: "on" must be raise (line 10)' },
    { file: FILE, path: '/rules/0/actions/2/snapshot/within', message: 'give "cameras" (these cameras) or "within" (cameras near the device), not both (line 13)' },
    { file: FILE, path: '/rules/0/actions/3/snapshot', message: 'an action does one thing: "write" or "snapshot" (write two actions) (line 16)' },
    { file: FILE, path: '/rules/0/actions/4/snapshot/cameras', message: 'camera "a" is listed twice (line 18)' },
  ], 'each problem at its place, with its line');

  const schema = problems(
    SMOKE(`    actions:
      - on: update
        write: { point: siren, value: true }
      - on: raise
        snapshot: { within: -5 }
      - on: raise
        write: { point: siren, value: true, colour: red }
`),
  );
  t.ok(schema.some((x) => x.path === '/rules/0/actions/0/on'), 'on: update is refused');
  t.ok(schema.some((x) => x.path === '/rules/0/actions/1/snapshot/within' && !/duration/.test(x.message)), `within is metres, not a duration: ${JSON.stringify(schema.find((x) => x.path.endsWith('/within')))}`);
  t.ok(schema.some((x) => x.path === '/rules/0/actions/2/write/colour'), 'an unknown field is named');
  t.ok(schema.every((x) => x.file === FILE), 'every detail names the file');
});

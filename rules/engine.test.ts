import t from 'tap';
import { parseRuleFile } from './compile.js';
import { RuleEngine, stateKey } from './engine.js';
import { gauge, gsErrorOf, level, MIN, SEC, T0, viaJson, WARNING } from './test-support.js';
import type { RuleAlarm, RuleDevice } from './types.js';

const CRITICAL = WARNING.replace('wl-warning', 'wl-critical').replace('water_level_warning', 'water_level_critical').replace('above: 3.5, clearBelow: 3.3, hold: 2m', 'above: 4.5, clearBelow: 4.3, hold: 30s');
const SMOKE = `
  - id: smoke
    alarm: smoke
    severity: critical
    match: { kind: smoke }
    point: obscuration
    threshold: { above: 0.1 }
`;
const flood = parseRuleFile(`rules:\n${WARNING}${CRITICAL}`, 'flood.yaml');
const fire = parseRuleFile(`rules:\n${SMOKE}`, 'fire.yaml');
const gauge2: RuleDevice = { ...gauge, id: 'wl-002' };

/** Readings every 10 s for one device, from `from` to `to` at `value`. */
function run(engine: RuleEngine, device: RuleDevice, value: number, from: number, to: number): RuleAlarm[] {
  const out: RuleAlarm[] = [];
  for (let ms = from; ms <= to; ms += 10 * SEC) out.push(...engine.process(level(value, T0 + ms, 'good', device.id), device, T0 + ms));
  return out;
}

t.test('runs every rule that applies to the device, in rule order', async (t) => {
  const engine = new RuleEngine([flood, fire]);
  t.same(engine.rulesFor(gauge).map((r) => r.id), ['wl-warning', 'wl-critical']);
  const alarms = run(engine, gauge, 4.8, 0, 2 * MIN);
  t.same(alarms.map((a) => `${a.ruleId}@${(a.ts - T0) / SEC}`), ['wl-critical@30', 'wl-warning@120']);
  const same = run(engine, gauge, 4.8, 2 * MIN + 10 * SEC, 3 * MIN);
  t.same(same, [], 'no repeats while raised');
});

t.test('state is per (rule, device): two gauges do not share a hold', async (t) => {
  const engine = new RuleEngine([flood]);
  run(engine, gauge, 3.8, 0, MIN);
  t.ok(engine.getState('wl-warning', gauge.id), 'gauge 1 has a pending hold');
  t.equal(engine.getState('wl-warning', gauge2.id), undefined, 'gauge 2 has none');
  const a2 = run(engine, gauge2, 3.8, MIN, 2 * MIN);
  t.same(a2, [], 'gauge 2 has been high for only 1 min');
  t.same(Object.keys(engine.exportState()).sort(), [stateKey('wl-warning', gauge.id), stateKey('wl-warning', gauge2.id)].sort());
});

t.test('a reading whose deviceId is not the device is ignored', async (t) => {
  const engine = new RuleEngine([flood]);
  t.same(engine.process(level(9, T0, 'good', 'other'), { ...gauge, overrides: { 'wl-warning': { hold: '0s' } } }, T0), []);
  t.same(engine.exportState(), {});
});

t.test('idle state is dropped, so a quiet gauge costs nothing to persist', async (t) => {
  const engine = new RuleEngine([flood]);
  run(engine, gauge, 3.8, 0, 3 * MIN);
  t.ok(engine.getState('wl-warning', gauge.id));
  run(engine, gauge, 3.0, 4 * MIN, 5 * MIN);
  t.equal(engine.getState('wl-warning', gauge.id), undefined);
  t.same(engine.exportState(), {});
});

t.test('export → JSON → import into a new engine continues as if uninterrupted', async (t) => {
  const whole = new RuleEngine([flood]);
  const expected = [...run(whole, gauge, 4.8, 0, 90 * SEC), ...run(whole, gauge, 4.0, 100 * SEC, 4 * MIN)];
  t.same(expected.map((a) => `${a.ruleId} ${a.action}`), ['wl-critical raise', 'wl-warning raise', 'wl-critical clear']);

  const first = new RuleEngine([flood]);
  const before = run(first, gauge, 4.8, 0, 90 * SEC); // critical raised, warning mid-hold
  const saved = JSON.stringify(first.exportState());
  const second = new RuleEngine([flood]);
  second.importState(JSON.parse(saved));
  const after = run(second, gauge, 4.0, 100 * SEC, 4 * MIN);
  t.same([...before, ...after], expected);
});

t.test('exportState is a snapshot, not a live view', async (t) => {
  const engine = new RuleEngine([flood]);
  run(engine, gauge, 3.8, 0, 0);
  const snap = engine.exportState();
  (snap[stateKey('wl-warning', gauge.id)] as Record<string, unknown>).since = 0;
  t.equal(engine.getState('wl-warning', gauge.id)?.since, T0, 'mutating the snapshot does not touch the engine');
  run(engine, gauge, 3.8, 3 * MIN, 3 * MIN);
  t.equal(snap[stateKey('wl-warning', gauge.id)]?.since, 0, 'nor does the engine touch the snapshot');
});

t.test('setState / getState', async (t) => {
  const engine = new RuleEngine([flood]);
  engine.setState('wl-warning', gauge.id, { since: T0 });
  const alarms = engine.process(level(3.9, T0 + 2 * MIN), gauge, T0 + 2 * MIN);
  t.equal(alarms.length, 1, 'the injected hold start counts');
  engine.setState('wl-warning', gauge.id, {});
  t.equal(engine.getState('wl-warning', gauge.id), undefined);
});

t.test('importState rejects what is not a saved state', async (t) => {
  const engine = new RuleEngine([flood]);
  for (const bad of [null, [], 'x', { 'no-bar': {} }, { 'wl-warning|wl-001': 3 }]) {
    t.equal(gsErrorOf(() => engine.importState(bad))?.code, 'GS_ERR_RULE_INVALID', JSON.stringify(bad));
  }
  engine.setState('wl-warning', gauge.id, { since: T0 });
  gsErrorOf(() => engine.importState({ bad: 1 }));
  t.ok(engine.getState('wl-warning', gauge.id), 'a rejected import leaves the state as it was');
});

t.test('the same rule id in two files is rejected, naming both', async (t) => {
  const again = parseRuleFile(`rules:\n${WARNING}`, 'again.yaml');
  const e = gsErrorOf(() => new RuleEngine([flood, again]));
  t.equal(e?.code, 'GS_ERR_RULE_INVALID');
  t.same(e?.details, [{ file: 'again.yaml', path: '/rules/0/id', message: 'rule id "wl-warning" is also defined in flood.yaml' }]);
});

t.test('state saved by the previous version imports as it was, and runs on', async (t) => {
  const engine = new RuleEngine([flood]);
  // What the threshold-only engine wrote: a half-run hold on one gauge, an active alarm on another.
  const old = {
    [stateKey('wl-warning', gauge.id)]: { since: T0 },
    [stateKey('wl-critical', gauge2.id)]: { active: { alarmId: 'c0ffee00c0ffee00', seq: 0, severity: 'critical', raisedAt: T0 } },
  };
  t.same(engine.importState(viaJson(old)).dropped, [], 'nothing dropped');
  t.same(engine.exportState(), old, 'state kept as it was');
  t.same(engine.process(level(3.9, T0 + 2 * MIN), gauge, T0 + 2 * MIN).map((a) => a.action), ['raise'], 'the hold completes');
  const cleared = run(engine, gauge2, 3.0, 3 * MIN, 5 * MIN);
  t.same(cleared.map((a) => [a.alarmId, a.seq, a.action]), [['c0ffee00c0ffee00', 1, 'clear']], 'the active alarm clears with its own id');
});

t.test('importState reports what a rule could not read, keeps the rest, and keeps unknown rules verbatim', async (t) => {
  const engine = new RuleEngine([flood]);
  const report = engine.importState({
    [stateKey('wl-warning', gauge.id)]: { since: 'yesterday', active: { alarmId: 'c0ffee00c0ffee00', seq: 2, severity: 'major', raisedAt: T0 } },
    [stateKey('wl-critical', gauge.id)]: { since: T0, extra: [1, 2] },
    [stateKey('retired-rule', gauge.id)]: { whatever: true },
  });
  t.same(report.dropped, [
    { key: stateKey('wl-warning', gauge.id), reason: 'rule "wl-warning" could not read "since"; dropped' },
    { key: stateKey('wl-critical', gauge.id), reason: 'rule "wl-critical" could not read "extra"; dropped' },
  ]);
  t.same(engine.getState('wl-warning', gauge.id), { active: { alarmId: 'c0ffee00c0ffee00', seq: 2, severity: 'major', raisedAt: T0 } });
  t.same(engine.getState('wl-critical', gauge.id), { since: T0 });
  t.same(engine.getState('retired-rule', gauge.id), { whatever: true }, 'a rule taken out and put back still finds its state');
});

t.test('tick and nextDue: rules of other devices and of no time are left alone', async (t) => {
  const engine = new RuleEngine([flood, fire]);
  t.same(engine.tick(gauge, T0), []);
  t.same(engine.exportState(), {}, 'a threshold rule has nothing to do on a tick');
  run(engine, gauge, 3.8, 0, MIN);
  t.equal(engine.nextDue(gauge), undefined, 'a hold completes on a reading, never on a tick');
  const before = engine.exportState();
  t.same(engine.tick(gauge, T0 + 10 * MIN), []);
  t.same(engine.exportState(), before);
});

t.test('one call emits in time order across rules', async (t) => {
  const stale = parseRuleFile(`rules:
  - id: a-raise
    alarm: water_level_high
    severity: minor
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3 }
  - id: b-stale
    alarm: data_stale
    severity: minor
    match: { kind: water_level }
    point: supply_voltage
    stale: { after: 10m }
`, 'x.yaml');
  const engine = new RuleEngine([stale]);
  engine.tick(gauge, T0);
  const out = engine.process(level(3.5, T0 + 20 * MIN), gauge, T0 + 20 * MIN);
  t.same(out.map((a) => [a.ruleId, (a.ts - T0) / MIN]), [['b-stale', 10], ['a-raise', 20]], 'the stale raise due at 10 min before the raise at 20 min');
});

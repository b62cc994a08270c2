// The gridsense Node-RED nodes on a real Node-RED runtime (node-red-node-test-helper) wired to a real
// edge: readings come from an MQTT gauge through the agent's embedded broker and pipeline, alarms land
// in the agent's SQLite outbox through the in-process bridge.
import t from 'tap';
import { EdgeBridge, FLOW_ALARMS_STATE } from './bridge.js';
import { coreNode, gridsenseNode, helper, type RedNode } from './test-helper.js';
import { edgeRig, GAUGE } from './test-rig.js';
import { waitFor } from '../../test/helpers/wait.js';

const readings = await gridsenseNode('readings');
const alarm = await gridsenseNode('alarm');
const rule = await gridsenseNode('rule');
const switchNode = coreNode('function/10-switch.js');

/** Every node.error call of a node, as "GS_ERR_…: message" strings. */
function errorsOf(n: RedNode): string[] {
  const got: string[] = [];
  n.on('call:error', (call) => got.push(String((call.args[0] as Error)?.message ?? call.args[0])));
  return got;
}

/** Raise above 3.5 m, clear below 3.3 m: the threshold-with-hysteresis rule both flows below implement. */
const LEVELS = [3.0, 3.6, 3.7, 3.4, 3.2, 3.4, 3.6];

await helper.startServer();
t.teardown(() => helper.stopServer());

t.test('a flow of core switch nodes is a rule: readings in, hysteresis alarms out into the SQLite outbox', async (t) => {
  const edge = await edgeRig(t);
  const bridge = new EdgeBridge(edge.agent);
  bridge.start();
  t.teardown(() => bridge.stop());
  helper.settings({ gridsense: bridge });
  const flow = [
    { id: 'in', type: 'gridsense-readings', device: GAUGE, point: 'water_level', wires: [['sw']] },
    {
      id: 'sw', type: 'switch', property: 'payload', propertyType: 'msg', checkall: 'true', outputs: 2,
      rules: [{ t: 'gt', v: '3.5', vt: 'num' }, { t: 'lt', v: '3.3', vt: 'num' }],
      wires: [['up'], ['down']],
    },
    { id: 'up', type: 'gridsense-alarm', action: 'raise', alarmType: 'water_level_high', severity: 'major', wires: [['out']] },
    { id: 'down', type: 'gridsense-alarm', action: 'clear', alarmType: 'water_level_high', severity: 'major', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load([readings, switchNode, alarm], flow);
  t.teardown(() => helper.unload());
  const sent: Array<{ alarm: { action: string; seq: number } }> = [];
  helper.getNode('out').on('input', ((msg: { alarm: { action: string; seq: number } }) => void sent.push(msg)) as never);
  const seen: number[] = [];
  helper.getNode('in').on('call:send', (call) => void seen.push((call.args[0] as { payload: number }).payload));

  for (const level of LEVELS) await edge.publish(level);
  await waitFor('the flow has taken every reading', () => (seen.length === LEVELS.length ? true : undefined));
  await waitFor('two raises and a clear in the outbox', () => (edge.outbox().length === 3 ? true : undefined));
  t.same(seen, LEVELS, 'the readings node sent every reading of the gauge, in order');
  const [raise, clear, again] = edge.outbox();
  t.match(raise, { action: 'raise', seq: 0, type: 'water_level_high', severity: 'major', deviceId: GAUGE, point: 'water_level', value: 3.6, unit: 'm', ruleId: 'node-red', profile: 'test/mqtt-water-level-gauge', site: 'bridge', location: { lon: 100.78, lat: 38.79 } });
  t.match(clear, { action: 'clear', seq: 1, alarmId: raise!.alarmId, value: 3.2, severity: 'major' }, '3.7 and 3.4 changed nothing; 3.2 cleared the same alarm');
  t.match(again, { action: 'raise', seq: 0, value: 3.6 });
  t.not(again!.alarmId, raise!.alarmId, 'a new raise is a new alarm');
  await waitFor('the alarm nodes passed the envelopes on', () => (sent.length === 3 ? true : undefined));
  t.same(sent.map((m) => [m.alarm.action, m.alarm.seq]), [['raise', 0], ['clear', 1], ['raise', 0]]);
  t.match(JSON.parse(edge.state(FLOW_ALARMS_STATE)!), { [`${GAUGE}|water_level_high`]: { alarmId: again!.alarmId, seq: 0 } }, 'the active alarm is saved with the outbox');
});

t.test('the gridsense rule node runs a rule file through the real evaluator; its alarms reach the outbox', async (t) => {
  const edge = await edgeRig(t);
  const bridge = new EdgeBridge(edge.agent);
  bridge.start();
  t.teardown(() => bridge.stop());
  helper.settings({ gridsense: bridge });
  const rules = `
rules:
  - id: flow-water-high
    alarm: water_level_high
    severity: major
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3.5, clearBelow: 3.3 }
    message: "{device}: water {value} {unit} above {threshold} {unit}"
`;
  const flow = [
    { id: 'in', type: 'gridsense-readings', point: 'water_level', wires: [['rule']] },
    { id: 'rule', type: 'gridsense-rule', rules, wires: [['alarm', 'out']] },
    { id: 'alarm', type: 'gridsense-alarm', action: 'msg', wires: [] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load([readings, rule, alarm], flow);
  t.teardown(() => helper.unload());
  const out: Array<{ alarm: { action: string }; rule: { id: string } }> = [];
  helper.getNode('out').on('input', ((msg: (typeof out)[number]) => void out.push(msg)) as never);
  for (const level of LEVELS) await edge.publish(level);
  await waitFor('raise, clear, raise in the outbox', () => (edge.outbox().length === 3 ? true : undefined));
  const got = edge.outbox();
  t.same(got.map((e) => [e.action, e.seq, e.value]), [['raise', 0, 3.6], ['clear', 1, 3.2], ['raise', 0, 3.6]]);
  t.equal(got[0]!.message, `${GAUGE}: water 3.6 m above 3.5 m`, "the rule's own message template");
  t.equal(got[0]!.threshold, 3.5);
  t.same(out.map((m) => [m.alarm.action, m.rule.id]), [['raise', 'flow-water-high'], ['clear', 'flow-water-high'], ['raise', 'flow-water-high']]);
  t.ok(edge.state('node-red:rule:rule'), "the rule's state is saved in the edge's state database");
});

t.test('bad messages: node.error with a GS_ERR code, nothing committed, and the flow keeps running', async (t) => {
  const edge = await edgeRig(t);
  const bridge = new EdgeBridge(edge.agent);
  helper.settings({ gridsense: bridge });
  const flow = [
    { id: 'alarm', type: 'gridsense-alarm', action: 'msg', alarmType: 'water_level_high', severity: 'major', wires: [['out']] },
    { id: 'rule', type: 'gridsense-rule', rules: 'rules:\n  - id: Not_Kebab\n    alarm: x\n', wires: [[]] },
    { id: 'rule2', type: 'gridsense-rule', rules: 'rules:\n  - id: ok-rule\n    alarm: water_level_high\n    severity: major\n    match: { kind: water_level }\n    point: water_level\n    threshold: { above: 3.5 }\n', wires: [['out']] },
    { id: 'out', type: 'helper' },
  ];
  await helper.load([rule, alarm], flow);
  t.teardown(() => helper.unload());
  const alarmNode = helper.getNode('alarm');
  const errors = errorsOf(alarmNode);
  const bad: Array<[string, object, RegExp]> = [
    ['no action', { topic: `${GAUGE}/water_level`, payload: 3.6 }, /^GS_ERR_NODE_RED_MSG: .*\/alarm\/action is missing/],
    ['unknown action', { topic: `${GAUGE}/water_level`, alarm: { action: 'explode' } }, /^GS_ERR_NODE_RED_MSG: msg\.alarm is not valid: \/alarm\/action/],
    ['not snake_case type', { topic: `${GAUGE}/water_level`, alarm: { action: 'raise', type: 'Water High' } }, /^GS_ERR_NODE_RED_MSG: .*\/alarm\/type/],
    ['unknown field', { topic: `${GAUGE}/water_level`, alarm: { action: 'raise', sevrity: 'major' } }, /^GS_ERR_NODE_RED_MSG: .*\/alarm\/sevrity is not a known field/],
    ['no device', { payload: 3.6, alarm: { action: 'raise' } }, /^GS_ERR_NODE_RED_MSG: .*\/alarm\/deviceId is missing/],
    ['unknown device', { topic: 'wl-nowhere/water_level', alarm: { action: 'raise' } }, /^GS_ERR_NODE_RED_MSG: device "wl-nowhere" is not one of this edge's devices/],
    ['message too long', { topic: `${GAUGE}/water_level`, alarm: { action: 'raise', message: 'x'.repeat(2000) } }, /^GS_ERR_NODE_RED_MSG: .*\/alarm\/message/],
    ['alarm not an object', { topic: `${GAUGE}/water_level`, alarm: 'raise' }, /^GS_ERR_NODE_RED_MSG: msg\.alarm is not valid/],
  ];
  for (const [, msg] of bad) alarmNode.receive(msg);
  await waitFor('every bad message reported', () => (errors.length === bad.length ? true : undefined));
  bad.forEach(([what, , re], i) => t.match(errors[i], re, what));
  t.same(edge.outbox(), [], 'nothing reached the outbox');

  alarmNode.receive({ topic: `${GAUGE}/water_level`, payload: 3.9, alarm: { action: 'raise' } });
  await waitFor('the next good message still raises', () => (edge.outbox().length === 1 ? true : undefined));
  t.match(edge.outbox()[0], { action: 'raise', type: 'water_level_high', value: 3.9 });

  const ruleErrors = errorsOf(helper.getNode('rule'));
  helper.getNode('rule').receive({ topic: `${GAUGE}/water_level`, payload: 3.9 });
  await waitFor('the broken rule node reports its rule file', () => (ruleErrors.length > 0 ? true : undefined));
  t.match(ruleErrors[0], /^GS_ERR_RULE_INVALID: rule file node-red:rule: /);

  const rule2 = helper.getNode('rule2');
  const rule2Errors = errorsOf(rule2);
  rule2.receive({ payload: 3.9 });
  rule2.receive({ topic: 'wl-nowhere/water_level', payload: 3.9 });
  rule2.receive({ reading: { deviceId: GAUGE } });
  await waitFor('the rule node reports messages without a reading', () => (rule2Errors.length === 3 ? true : undefined));
  t.match(rule2Errors, [/^GS_ERR_NODE_RED_MSG: the message carries no reading/, /^GS_ERR_NODE_RED_MSG: device "wl-nowhere"/, /^GS_ERR_NODE_RED_MSG: msg\.reading is not a reading/]);
});

t.test('without a gridsense edge the nodes say so (GS_ERR_NODE_RED_NO_EDGE) instead of failing the deploy', async (t) => {
  helper.settings({ gridsense: undefined });
  await helper.load([readings, alarm], [
    { id: 'in', type: 'gridsense-readings', wires: [[]] },
    { id: 'alarm', type: 'gridsense-alarm', action: 'raise', wires: [[]] },
  ]);
  t.teardown(() => helper.unload());
  const errors = errorsOf(helper.getNode('alarm'));
  helper.getNode('alarm').receive({ topic: 'a/b', payload: 1 });
  await waitFor('the alarm node reports no edge', () => (errors.length > 0 ? true : undefined));
  t.match(errors[0], /^GS_ERR_NODE_RED_NO_EDGE: /);
});

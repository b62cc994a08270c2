// The edge persists rule state and restores it after a restart. These tests cut a run in two at
// awkward moments, push the state through JSON text, and check the second half behaves exactly as
// an uninterrupted run.
import t from 'tap';
import { feed, MIN, ruleFrom, SEC, steady, WARNING, type Step } from './test-support.js';
import type { RuleState } from './types.js';

const warning = ruleFrom(WARNING);
const viaJson = (s: RuleState): RuleState => JSON.parse(JSON.stringify(s)) as RuleState;

const history: Step[] = [...steady(3.8, 0, 4 * MIN), ...steady(3.1, 5 * MIN, 7 * MIN)];
const uninterrupted = feed(warning, history).alarms;

function resumedAt(offset: number) {
  const cut = history.findIndex(([ts]) => ts >= offset);
  const first = feed(warning, history.slice(0, cut));
  const second = feed(warning, history.slice(cut), { state: viaJson(first.state) });
  return { before: first, alarms: [...first.alarms, ...second.alarms] };
}

t.test('the uninterrupted run raises and clears', async (t) => {
  t.same(uninterrupted.map((a) => a.action), ['raise', 'clear']);
});

t.test('restart mid-hold: the half-run hold timer survives', async (t) => {
  const { before, alarms } = resumedAt(1 * MIN);
  t.same(before.alarms, [], 'nothing raised before the restart');
  t.ok(Object.keys(before.state).length > 0, 'a pending hold is in the state');
  t.same(alarms, uninterrupted, 'raised at the same moment with the same id, as if never restarted');
});

t.test('restart mid-alarm: the active alarm clears with its own id and next seq', async (t) => {
  const { before, alarms } = resumedAt(4 * MIN + 30 * SEC);
  t.same(before.alarms.map((a) => a.action), ['raise']);
  t.same(alarms, uninterrupted);
});

t.test('restart mid-clear-hold: the clear timer survives', async (t) => {
  const { before, alarms } = resumedAt(5 * MIN + 20 * SEC);
  t.same(before.alarms.map((a) => a.action), ['raise'], 'clear still pending at the cut');
  t.same(alarms, uninterrupted);
});

t.test('state is plain JSON at every step', async (t) => {
  let state: RuleState = {};
  for (const step of history) {
    state = feed(warning, [step], { state }).state;
    t.same(viaJson(state), state, `after ${step[0] / SEC} s`);
  }
});

t.test('a garbled saved state is ignored, not trusted', async (t) => {
  const garbled = { since: 'yesterday', active: { alarmId: 42, seq: -1 } };
  const { alarms } = feed(warning, steady(3.8, 0, 2 * MIN), { state: garbled });
  t.equal(alarms.length, 1, 'starts from scratch: raises after a full hold');
  t.equal(alarms[0]!.seq, 0);
});

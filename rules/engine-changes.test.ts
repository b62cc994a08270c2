// takeChanges: the engine tells its caller which state keys changed since the last take, so the edge
// persists only those; an importState replaces everything, so the next take is the whole state.
import t from 'tap';
import { parseRuleFile } from './compile.js';
import { RuleEngine, stateKey } from './engine.js';
import { gauge, level, MIN, SEC, T0, WARNING } from './test-support.js';
import type { RuleDevice } from './types.js';

const flood = parseRuleFile(`rules:\n${WARNING}`, 'flood.yaml');
const gauge2: RuleDevice = { ...gauge, id: 'wl-002' };
const keysOf = (c: ReturnType<RuleEngine['takeChanges']>) => ({ all: c.all, set: [...c.set.keys()].sort(), deleted: [...c.deleted].sort() });

t.test('only the keys a reading changed, each once; a take forgets them', async (t) => {
  const engine = new RuleEngine([flood]);
  t.same(keysOf(engine.takeChanges()), { all: false, set: [], deleted: [] }, 'nothing at first');
  engine.process(level(3.8, T0, 'good', gauge.id), gauge, T0);
  engine.process(level(3.8, T0, 'good', gauge2.id), gauge2, T0);
  engine.process(level(3.9, T0 + SEC, 'good', gauge.id), gauge, T0 + SEC);
  const first = engine.takeChanges();
  t.same(keysOf(first), { all: false, set: [stateKey('wl-warning', 'wl-001'), stateKey('wl-warning', 'wl-002')], deleted: [] });
  t.same(first.set.get(stateKey('wl-warning', 'wl-001')), engine.getState('wl-warning', 'wl-001'), 'the live state');
  t.same(keysOf(engine.takeChanges()), { all: false, set: [], deleted: [] }, 'taken: forgotten');
  engine.process(level(3.0, T0 + MIN, 'good', gauge2.id), gauge2, T0 + MIN);
  t.same(keysOf(engine.takeChanges()), { all: false, set: [], deleted: [stateKey('wl-warning', 'wl-002')] }, 'a hold given up leaves no state: deleted');
  engine.process(level(3.0, T0 + 2 * MIN, 'good', gauge2.id), gauge2, T0 + 2 * MIN);
  t.same(keysOf(engine.takeChanges()), { all: false, set: [], deleted: [] }, 'no state before or after: no change');
});

t.test('after importState the next take is everything, marked `all`', async (t) => {
  const engine = new RuleEngine([flood]);
  engine.process(level(3.8, T0, 'good', gauge.id), gauge, T0);
  const copy = new RuleEngine([flood]);
  copy.importState(engine.exportState());
  const c = copy.takeChanges();
  t.same(keysOf(c), { all: true, set: [stateKey('wl-warning', 'wl-001')], deleted: [] });
  t.same(keysOf(copy.takeChanges()), { all: false, set: [], deleted: [] });
  copy.importState({});
  t.same(keysOf(copy.takeChanges()), { all: true, set: [], deleted: [] }, 'an empty import still means: rewrite everything');
});

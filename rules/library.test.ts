import t from 'tap';
import { isAbsolute, join, sep } from 'node:path';
import { ProfileLibrary } from '../device-profiles/library.js';
import { loadRuleFile, loadRuleFiles } from './compile.js';
import { ruleSpecOf } from './evaluate.js';
import { RuleEngine } from './engine.js';
import { listLibraryRuleFiles, resolveRuleFile, RULES_LIBRARY_DIR } from './library.js';
import { gauge, gsErrorOf, level, MIN, SEC, T0 } from './test-support.js';

t.test('RULES_LIBRARY_DIR is the absolute rules/library folder', async (t) => {
  t.ok(isAbsolute(RULES_LIBRARY_DIR));
  t.ok(RULES_LIBRARY_DIR.endsWith(`${sep}rules${sep}library`));
  t.ok(listLibraryRuleFiles().includes(join(RULES_LIBRARY_DIR, 'water-level.yaml')));
});

t.test('every shipped rule file compiles, and ids are unique across the library', async (t) => {
  const sets = loadRuleFiles(listLibraryRuleFiles());
  for (const set of sets) t.ok(set.rules.length > 0, set.file);
  t.doesNotThrow(() => new RuleEngine(sets));
});

t.test('resolveRuleFile', async (t) => {
  const lib = join(RULES_LIBRARY_DIR, 'water-level.yaml');
  t.equal(resolveRuleFile('water-level.yaml'), lib, 'bare name → library');
  t.equal(resolveRuleFile('water-level'), lib, 'extension optional');
  const dir = t.testdir({ 'local.yaml': 'rules: []\n', sub: { 'x.yaml': '' } });
  t.equal(resolveRuleFile('local.yaml', dir), join(dir, 'local.yaml'), 'bare name not in the library → base');
  t.equal(resolveRuleFile('sub/x.yaml', dir), join(dir, 'sub', 'x.yaml'), 'a relative path is relative to base');
  t.equal(resolveRuleFile(join(dir, 'local.yaml')), join(dir, 'local.yaml'), 'absolute stays');
  const e = gsErrorOf(() => resolveRuleFile('water-levle.yaml', dir));
  t.equal(e?.code, 'GS_ERR_RULE_INVALID');
  t.match(e?.details[0]?.message, /water-level\.yaml/, 'lists what the library has');
});

t.test('water-level.yaml: the warning and guarantee lines', async (t) => {
  const set = loadRuleFile(resolveRuleFile('water-level.yaml'));
  const [warning, critical] = set.rules.map((r) => ruleSpecOf(r)!);
  t.match(warning, { id: 'water-level-warning', alarm: 'water_level_warning', severity: 'major', match: { kind: 'water_level' }, point: 'water_level', threshold: { above: 3.5, clearBelow: 3.3, hold: '2m' } });
  t.match(critical, { id: 'water-level-critical', alarm: 'water_level_critical', severity: 'critical', match: { kind: 'water_level' }, point: 'water_level', threshold: { above: 4.5, clearBelow: 4.3, hold: '30s' } });
});

t.test('water-level.yaml over a flood: warning, then critical, then both clear', async (t) => {
  const engine = new RuleEngine([loadRuleFile(resolveRuleFile('water-level.yaml'))]);
  // One reading every 10 s: 3.0 m, rising to 3.8 m at 1 min, 4.7 m at 5 min, back to 3.0 m at 10 min.
  const at = (ms: number) => (ms < MIN ? 3.0 : ms < 5 * MIN ? 3.8 : ms < 10 * MIN ? 4.7 : 3.0);
  const seen: string[] = [];
  for (let ms = 0; ms <= 15 * MIN; ms += 10 * SEC) {
    for (const a of engine.process(level(at(ms), T0 + ms), gauge, T0 + ms)) {
      seen.push(`${(a.ts - T0) / SEC}s ${a.type} ${a.action} ${a.severity}`);
    }
  }
  t.same(seen, [
    '180s water_level_warning raise major',
    '330s water_level_critical raise critical',
    '630s water_level_warning clear major',
    '660s water_level_critical clear critical',
  ]);
});

t.test('the bundled profiles and the library agree', async (t) => {
  const profiles = ProfileLibrary.load().all();
  const rules = loadRuleFiles(listLibraryRuleFiles()).flatMap((s) => s.rules);
  for (const p of profiles) {
    for (const name of p.defaultRules ?? []) {
      t.doesNotThrow(() => loadRuleFile(resolveRuleFile(name)), `${p.id}: default rule file ${name} resolves and compiles`);
    }
    const device = { id: 'probe', profile: p.id, kind: p.kind };
    for (const r of rules.filter((r) => r.appliesTo(device))) {
      const point = ruleSpecOf(r)!.point;
      t.ok(p.points.some((x) => x.name === point), `${r.id} watches ${point}, which ${p.id} has`);
    }
  }
  t.ok(profiles.some((p) => rules.some((r) => r.appliesTo({ id: 'probe', profile: p.id, kind: p.kind }))), 'the water-level rules match the radar gauge');
});

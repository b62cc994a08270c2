import t from 'tap';
import { isAbsolute, join, sep } from 'node:path';
import { ProfileLibrary } from '../device-profiles/library.js';
import { loadRuleFile, loadRuleFiles } from './compile.js';
import { ruleSpecOf } from './evaluate.js';
import { RuleEngine } from './engine.js';
import { listLibraryRuleFiles, resolveRuleFile, RULES_LIBRARY_DIR } from './library.js';
import { gauge, gsErrorOf, level, MIN, SEC, T0 } from './test-support.js';
import { categoryFor, DEFAULT_POLICY } from '../cloud/events/policy.js';
import type { DeviceProfile, ProfilePoint } from '../contracts/profile.js';
import { memberMatches, memberTest } from './conditions/all.js';
import type { ValueTest } from './conditions/value-test.js';
import type { RuleSpec } from './schema.js';
import type { Quality, ReadingValue } from '../contracts/reading.js';
import type { CompiledRule, RuleAlarm, RuleDevice } from './types.js';

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

const profiles = ProfileLibrary.load().all();
const sets = loadRuleFiles(listLibraryRuleFiles());
const library = sets.flatMap((set) => set.rules.map((rule) => ({ file: set.file.slice(RULES_LIBRARY_DIR.length + 1), rule, spec: ruleSpecOf(rule)! })));
const probe = (p: DeviceProfile): RuleDevice => ({ id: 'probe', profile: p.id, kind: p.kind, site: 'probe-site' });

/** Every (device-match, point, test) a rule uses: one for a point rule, one per member for `all:`. */
function usesOf(spec: RuleSpec): Array<{ where: string; applies: (p: DeviceProfile) => boolean; point: string; test?: ValueTest; numeric: boolean; lines: number[] }> {
  if (spec.all) {
    return spec.all.of.map((m, i) => ({ where: `all.of[${i}]`, applies: (p) => memberMatches(m, probe(p)), point: m.point, test: memberTest(m), numeric: false, lines: [] }));
  }
  const applies = (p: DeviceProfile) => ruleSpec(spec).appliesTo(probe(p));
  const th = spec.threshold;
  const test = spec.value ?? spec.count;
  return [{
    where: 'point',
    applies,
    point: spec.point!,
    ...(test ? { test: test as ValueTest } : {}),
    numeric: Boolean(th || spec.rate),
    lines: th ? [th.above, th.below, th.clearBelow, th.clearAbove].filter((x): x is number => x !== undefined) : [],
  }];
}
const byId = new Map(library.map((e) => [e.spec.id, e.rule]));
const ruleSpec = (spec: RuleSpec): CompiledRule => byId.get(spec.id)!;

/** Does a test's value fit a point of this type? */
function fits(test: ValueTest, point: ProfilePoint): boolean {
  if (test.above !== undefined || test.below !== undefined) return point.type === 'number';
  if (test.in !== undefined) return test.in.every((v) => typeof v === point.type);
  return typeof test.equals === point.type;
}

t.test('the bundled profiles and the library agree: points, types, ranges', async (t) => {
  for (const p of profiles) {
    for (const name of p.defaultRules ?? []) {
      t.doesNotThrow(() => loadRuleFile(resolveRuleFile(name)), `${p.id}: default rule file ${name} resolves and compiles`);
    }
  }
  for (const { file, spec } of library) {
    for (const use of usesOf(spec)) {
      const matched = profiles.filter(use.applies);
      t.ok(matched.length > 0, `${file} ${spec.id} ${use.where}: applies to at least one shipped profile`);
      for (const p of matched) {
        const point = p.points.find((x) => x.name === use.point);
        if (!t.ok(point, `${spec.id} ${use.where} watches ${use.point}, which ${p.id} has`) || !point) continue;
        if (use.numeric) t.equal(point.type, 'number', `${spec.id}: ${use.point} of ${p.id} is a number`);
        if (use.test) t.ok(fits(use.test, point), `${spec.id} ${use.where}: the test fits ${use.point} (${point.type}) of ${p.id}`);
        for (const line of [...use.lines, ...(use.test?.above !== undefined ? [use.test.above] : []), ...(use.test?.below !== undefined ? [use.test.below] : [])]) {
          if (point.range) t.ok(line >= point.range.min && line <= point.range.max, `${spec.id}: line ${line} within ${p.id} ${use.point} range ${point.range.min}..${point.range.max}`);
        }
      }
    }
  }
});

/** The scene each library file is for, as the cloud's category; exceptions by alarm type. A new library file adds its line. */
const SCENE: Record<string, string> = {
  'water-level.yaml': 'flood_control',
  'water-level-rise.yaml': 'flood_control',
  'rain.yaml': 'flood_control',
  'pumping-station.yaml': 'flood_control',
  'fire.yaml': 'fire_safety',
  'security.yaml': 'public_security',
  'facilities.yaml': 'public_facilities',
  'camera.yaml': 'public_facilities',
};
const BY_TYPE: Record<string, string> = {
  // The cloud files water under a manhole cover as a flooding street (cloud/events/policy.ts).
  manhole_water_under_cover: 'flood_control',
};
t.test('every library alarm type files under its scene in the cloud', async (t) => {
  for (const { file, spec } of library) {
    t.ok(Object.hasOwn(SCENE, file), `${file} has a scene`);
    const expected = BY_TYPE[spec.alarm] ?? SCENE[file];
    const kinds = [...new Set(profiles.filter((p) => usesOf(spec).some((u) => u.applies(p))).map((p) => p.kind))];
    for (const kind of kinds) t.equal(categoryFor(DEFAULT_POLICY, spec.alarm, kind), expected, `${spec.alarm} (${spec.id}) on a ${kind} → ${expected}`);
  }
});

/** An engine with the whole library and a way to feed it. */
function libraryEngine() {
  const engine = new RuleEngine(loadRuleFiles(listLibraryRuleFiles()));
  const seen: RuleAlarm[] = [];
  const read = (device: RuleDevice, at: number, point: string, value: ReadingValue, quality: Quality = 'good') => {
    seen.push(...engine.process({ deviceId: device.id, point, value, quality, ts: T0 + at }, device, T0 + at));
  };
  const tick = (devices: RuleDevice[], at: number) => {
    for (const d of devices) seen.push(...engine.tick(d, T0 + at));
  };
  const show = () => seen.map((a) => `${Math.round((a.ts - T0) / SEC)}s ${a.deviceId} ${a.type} ${a.action} ${a.severity}`);
  return { engine, seen, read, tick, show };
}
const dev = (id: string, profile: string, kind: string, site?: string): RuleDevice => ({ id, profile: `generic/${profile}`, kind, ...(site ? { site } : {}) });

t.test('flood scene: a flash flood rises 0.4 m in 6 minutes, well under the warning line', async (t) => {
  const { read, show } = libraryEngine();
  for (let ms = 0; ms <= 20 * MIN; ms += MIN) read(gauge, ms, 'water_level', ms < 4 * MIN ? 2.0 : ms < 10 * MIN ? 2.0 + (0.4 * (ms - 4 * MIN)) / (6 * MIN) : 2.4);
  t.same(show(), ['540s wl-001 water_level_rising raise major', '1140s wl-001 water_level_rising clear major'], 'raised at +0.33 m (9 min); cleared once the last 10 min rose < 0.1 m');
});

t.test('rain scene: a storm of 60 mm in 2.5 hours', async (t) => {
  const rg = dev('rg-1', 'tipping-bucket-rain-gauge', 'rain_gauge');
  const { read, show } = libraryEngine();
  for (let ms = 0; ms <= 150 * MIN; ms += 5 * MIN) {
    const total = 100 + (60 * ms) / (150 * MIN);
    read(rg, ms, 'rainfall_total', total);
    read(rg, ms, 'rainfall_1h', Math.min(24, (24 * ms) / (60 * MIN)));
    read(rg, ms, 'rainfall_today', total - 100);
  }
  t.same(show(), ['3300s rg-1 rain_heavy_1h raise major', '7500s rg-1 rain_accumulation_3h raise major', '7800s rg-1 rain_storm_day raise major'], '20 mm in the hour at 55 min; 50 mm within 3 h at 125 min; over 50 mm for the day at 130 min');
});

t.test('fire scene: a nursing home — smoke, then heat from another sensor in the building', async (t) => {
  const home = 'xinhe-nursing-home';
  const sd = dev('sd-1', 'photoelectric-smoke-detector', 'smoke_detector', home);
  const th = dev('th-1', 'temperature-humidity-sensor', 'temperature_humidity', home);
  const next = dev('th-2', 'temperature-humidity-sensor', 'temperature_humidity', 'school-3');
  const { read, show, seen } = libraryEngine();
  read(sd, 0, 'smoke_alarm', true);
  read(next, 5 * SEC, 'temperature', 80);
  read(next, 10 * SEC, 'temperature', 80);
  read(th, 20 * SEC, 'temperature', 61);
  read(th, 30 * SEC, 'temperature', 63);
  t.same(show(), [
    '0s sd-1 smoke_alarm raise critical',
    '10s th-2 temperature_high raise major',
    '20s sd-1 smoke_fire_confirmed raise critical',
    '30s th-1 temperature_high raise major',
  ], 'the combination at the first hot reading of this building (not the school), on the smoke detector; temperature_high needs 2 readings');
  t.equal(seen[2]!.site, home);
});

t.test('fire scene: gas low escalates after 10 minutes, then high', async (t) => {
  const gd = dev('gd-1', 'combustible-gas-detector', 'gas_detector');
  const { read, tick, show } = libraryEngine();
  for (let ms = 0; ms <= 8 * MIN; ms += 10 * SEC) read(gd, ms, 'gas_concentration', 25);
  tick([gd], 12 * MIN);
  read(gd, 13 * MIN, 'gas_concentration', 55);
  t.same(show(), ['10s gd-1 gas_low raise major', '610s gd-1 gas_low update critical', '780s gd-1 gas_high raise critical']);
});

t.test('security scene: card attempts, a forced door, a door opened at night', async (t) => {
  const acs = dev('acs-1', 'access-controller', 'access_control');
  const { read, tick, show } = libraryEngine();
  for (let i = 0; i < 6; i++) read(acs, i * 15 * SEC, 'card_granted', false);
  read(acs, 2 * MIN, 'door_forced_open', true);
  read(acs, 3 * MIN, 'door_forced_open', false);
  tick([acs], 30 * MIN);
  // T0 is 16:00 Beijing time; 22:30 is 6.5 h later.
  read(acs, 6.5 * 60 * MIN, 'door_open', true);
  read(acs, 6.5 * 60 * MIN + 5 * MIN, 'door_open', false);
  t.same(show(), [
    '60s acs-1 access_denied_repeated raise major',
    '120s acs-1 door_forced_open raise major',
    '180s acs-1 door_forced_open clear major',
    '675s acs-1 access_denied_repeated clear major',
    '23400s acs-1 door_open_at_night raise minor',
    '23700s acs-1 door_open_at_night clear minor',
  ], 'the denials clear 10 quiet minutes after the last one, by the tick');
});

t.test('facilities scene: an NB smoke detector misses its daily report; a manhole sensor fault', async (t) => {
  const nb = dev('nb-1', 'nb-smoke-detector', 'smoke_detector', 'xinhe-nursing-home');
  const mc = dev('mc-1', 'manhole-cover-tilt-sensor', 'manhole_cover');
  const { read, tick, show, engine } = libraryEngine();
  read(nb, 0, 'battery_percent', 80);
  read(mc, 0, 'sensor_fault', true);
  read(mc, 2 * MIN, 'sensor_fault', true);
  t.equal(engine.nextDue(nb), T0 + 25 * 60 * MIN, 'the edge knows when to tick');
  tick([nb, mc], 26 * 60 * MIN);
  read(nb, 27 * 60 * MIN, 'battery_percent', 79);
  t.same(show(), [
    '120s mc-1 sensor_fault raise minor',
    '90000s nb-1 data_stale raise minor',
    '86520s mc-1 sensor_fault update major',
    '90000s mc-1 data_stale raise minor',
    '97200s nb-1 data_stale clear minor',
  ], 'per tick call in time order: the manhole’s day-old fault escalated at 1 d + 2 min, then its silence');
});

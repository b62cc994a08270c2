// One test over every bundled profile (zigbee-herdsman-converters' habit): adding a model is adding
// a file, and this test is what keeps the library sane.
import t from 'tap';
import { ProfileLibrary, listProfileFiles, BUNDLED_PROFILES_DIR } from './library.js';
import { parseProfile, readProfileFile } from './validate.js';
import { isKnownUnit } from '../contracts/units.js';
import { GsError } from '../contracts/errors.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileJsonSchema } from './json-schema.js';

const files = listProfileFiles(BUNDLED_PROFILES_DIR);

t.test('the library has profiles and loads as a whole (unique ids)', async (t) => {
  t.ok(files.length >= 1, 'at least one profile ships');
  const lib = ProfileLibrary.load();
  t.equal(lib.all().length, files.length, 'every file is one profile');
  t.ok(lib.has('generic/radar-water-level-gauge'));
});

for (const file of files) {
  t.test(`profile ${file.slice(BUNDLED_PROFILES_DIR.length + 1)}`, async (t) => {
    const p = readProfileFile(file);
    t.match(p.id, /^[a-z0-9-]+\/[a-z0-9._-]+$/, 'id is vendor/model');
    t.ok(file.includes(`${p.id.split('/')[0]}/`), 'file lives in its vendor folder');
    const names = p.points.map((x) => x.name);
    t.equal(new Set(names).size, names.length, 'point names are unique');
    for (const pt of p.points) {
      t.match(pt.name, /^[a-z][a-z0-9_]*$/, `${pt.name} is snake_case`);
      if (pt.unit !== undefined) t.ok(isKnownUnit(pt.unit), `${pt.name} unit ${pt.unit} is known`);
      if (pt.type === 'number') t.ok(pt.range, `${pt.name} states a sane range`);
      if (pt.range) t.ok(pt.range.min < pt.range.max, `${pt.name} range is ordered`);
    }
  });
}

const GOOD = `
id: acme/x1
vendor: acme
model: X1
name: X1
kind: water_level
protocol: modbus
points:
  - name: level
    type: number
    unit: m
    range: { min: 0, max: 10 }
    modbus: { table: holding_register, address: 0, dataType: uint16 }
`;

t.test('a valid profile parses', async (t) => {
  t.equal(parseProfile(GOOD, 'x.yaml').points[0]!.name, 'level');
});

t.test('broken profiles report every problem with its path', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['broken YAML', 'id: x\npoints: [unclosed', /^$/],
    ['unknown unit', GOOD.replace('unit: m', 'unit: metre'), /^\/points\/0\/unit$/],
    ['bad point name', GOOD.replace('name: level', 'name: Level'), /^\/points\/0\/name$/],
    ['inverted range', GOOD.replace('min: 0, max: 10', 'min: 10, max: 0'), /^\/points\/0\/range$/],
    ['unknown field', GOOD.replace('kind: water_level', 'kind: water_level\ncolour: red'), /^\/colour$/],
    ['string without length', GOOD.replace('dataType: uint16', 'dataType: string').replace('type: number', 'type: string'), /^\/points\/0\/modbus\/length$/],
    ['bool in register without bit', GOOD.replace('dataType: uint16', 'dataType: bool').replace('type: number', 'type: boolean'), /^\/points\/0\/modbus\/bit$/],
    ['write to input register', GOOD.replace('table: holding_register', 'table: input_register').replace('type: number', 'type: number\n    access: readwrite'), /^\/points\/0\/access$/],
    ['missing modbus block', GOOD.replace(/\n {4}modbus: .*\n/, '\n'), /^\/points\/0$/],
  ];
  for (const [name, text, path] of cases) {
    const err = t.throws(() => parseProfile(text, 'bad.yaml'), name) as unknown as GsError;
    t.equal(err.code, 'GS_ERR_PROFILE_INVALID', `${name}: code`);
    t.ok(err.details.some((d) => path.test(d.path) && d.file === 'bad.yaml'), `${name}: path matches ${path}`);
  }
  const yamlErr = t.throws(() => parseProfile('id: x\npoints: [unclosed', 'bad.yaml')) as unknown as GsError;
  t.match(yamlErr.details[0]!.message, /^line \d+, column \d+: /, 'YAML errors say where');
});

t.test('a missing file is a clear error, not a crash', async (t) => {
  const err = t.throws(() => readProfileFile('/nonexistent/p.yaml')) as unknown as GsError;
  t.equal(err.code, 'GS_ERR_PROFILE_INVALID');
});

t.test('profile.schema.json is the schema generated from contracts/profile.ts', async (t) => {
  const committed = JSON.parse(readFileSync(join(BUNDLED_PROFILES_DIR, 'profile.schema.json'), 'utf8')) as unknown;
  t.same(committed, profileJsonSchema(), 'regenerate with: gridsense profiles schema > device-profiles/profile.schema.json');
});

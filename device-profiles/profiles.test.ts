// One test over every bundled profile (zigbee-herdsman-converters' habit): adding a model is adding
// a file, and this test is what keeps the library sane. Sections:
//   1. the library as a whole (unique ids) and each profile alone (names, units, ranges, kinds, layout)
//   2. each profile read back through its protocol's real driver (Modbus now; MQTT and OPC UA to come)
//   3. the validator on broken profiles, and the committed JSON Schema
import t from 'tap';
import type { Test } from 'tap';
import ModbusRTU from 'modbus-serial';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ProfileLibrary, listProfileFiles, BUNDLED_PROFILES_DIR } from './library.js';
import { parseProfile, readProfileFile } from './validate.js';
import { profileJsonSchema } from './json-schema.js';
import { isKnownUnit } from '../contracts/units.js';
import { GsError } from '../contracts/errors.js';
import { systemClock } from '../contracts/clock.js';
import type { DeviceProfile, ModbusDataType, ProfilePoint, Protocol } from '../contracts/profile.js';
// Read-only: the cloud's kind → governance category map, so a profile's kind is one the cloud files
// under the right department (消防安全, 防汛, 社会治安, 公共设施 …).
import { DEFAULT_POLICY } from '../cloud/events/policy.js';
import { ModbusTcpDriver } from '../edge/drivers/modbus/driver.js';
import { encodeRegisters, fromWords, isBitTable, pointWidth, toWords } from '../edge/drivers/modbus/codec.js';
import { planReads } from '../edge/drivers/modbus/plan.js';
import type { RawValue, Session } from '../edge/drivers/driver.js';
import { applyProfile, toEngineering } from '../edge/pipeline/apply-profile.js';
import { silentLogger } from '../edge/log.js';
import { systemScheduler } from '../edge/scheduler.js';
import { freePort } from '../demo/sim/free-port.js';

const files = listProfileFiles(BUNDLED_PROFILES_DIR);
const rel = (file: string) => relative(BUNDLED_PROFILES_DIR, file);

// ── 1. The library and each profile ────────────────────────────────────────────────────────────────

/** What a data type can carry on the wire; bool and string have no numeric range. */
const RAW_RANGE: Partial<Record<ModbusDataType, [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
};
const BINARY_BYTES: Record<ModbusDataType, number> = { bool: 2, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8, string: 0 };

/** The wire data type of a point, whichever protocol block carries it (JSON and OPC UA have none). */
function wireType(p: ProfilePoint): ModbusDataType | undefined {
  return p.modbus?.dataType ?? p.mqtt?.binary?.dataType;
}

/** Engineering values the raw data type can produce after scale and offset. */
function reachable(p: ProfilePoint, dataType: ModbusDataType): [number, number] | undefined {
  const raw = RAW_RANGE[dataType];
  if (!raw) return undefined;
  const [a, b] = raw.map((r) => r * (p.scale ?? 1) + (p.offset ?? 0)) as [number, number];
  return [Math.min(a, b), Math.max(a, b)];
}

/**
 * Where each point sits, as cells that must not be shared: whole registers / bytes, or single bits of
 * a status word (which may share their word with other bits, and only with bits). Returns clashes.
 */
function layoutClashes(profile: DeviceProfile): string[] {
  const owner = new Map<string, string>();
  const clashes: string[] = [];
  const claim = (cell: string, name: string) => {
    const prior = owner.get(cell);
    if (prior !== undefined && prior !== name) clashes.push(`${name} overlaps ${prior} at ${cell}`);
    else owner.set(cell, name);
  };
  const jsonPaths = new Map<string, string>();
  const topicStyle = new Map<string, 'json' | 'binary'>();
  for (const p of profile.points) {
    const m = p.modbus;
    if (m) {
      if (isBitTable(m.table)) claim(`${m.table} ${m.address}`, p.name);
      else if (m.bit !== undefined) {
        claim(`${m.table} ${m.address} bit ${m.bit}`, p.name);
        claim(`${m.table} ${m.address} (word)`, 'status bits');
      } else {
        for (let i = 0; i < pointWidth(m); i++) claim(`${m.table} ${m.address + i} (word)`, p.name);
      }
    }
    const q = p.mqtt;
    if (q) {
      const style = q.binary ? 'binary' : 'json';
      if ((topicStyle.get(q.topic) ?? style) !== style) clashes.push(`${p.name}: topic ${q.topic} carries both JSON and binary points`);
      topicStyle.set(q.topic, style);
      if (q.json !== undefined) {
        const key = `${q.topic} ${q.json}`;
        const prior = jsonPaths.get(key);
        if (prior) clashes.push(`${p.name} and ${prior} both read ${q.json} on ${q.topic}`);
        jsonPaths.set(key, p.name);
      }
      const b = q.binary;
      if (b?.bit !== undefined) {
        claim(`${q.topic} byte ${b.offset} bit ${b.bit}`, p.name);
        for (const i of [0, 1]) claim(`${q.topic} byte ${b.offset + i}`, 'status bits');
      } else if (b) {
        const width = b.dataType === 'string' ? (b.length ?? 1) : BINARY_BYTES[b.dataType];
        for (let i = 0; i < width; i++) claim(`${q.topic} byte ${b.offset + i}`, p.name);
      }
    }
  }
  return clashes;
}

t.test('the library has profiles and loads as a whole; ids are unique', async (t) => {
  t.ok(files.length >= 1, 'at least one profile ships');
  const byId = new Map<string, string>();
  for (const file of files) {
    const { id } = readProfileFile(file);
    t.notOk(byId.has(id), `${id} (${rel(file)}) is not also defined in ${byId.get(id) ?? 'another file'}`);
    byId.set(id, rel(file));
  }
  const lib = ProfileLibrary.load();
  t.equal(lib.all().length, files.length, 'every file is one profile');
  t.ok(lib.has('generic/radar-water-level-gauge'), 'the reference profile is there');
});

for (const file of files) {
  t.test(`profile ${rel(file)}`, async (t) => {
    const p = readProfileFile(file);
    t.match(p.id, /^[a-z0-9-]+\/[a-z0-9._-]+$/, 'id is vendor/model');
    t.ok(file.includes(`${p.id.split('/')[0]}/`), 'file lives in its vendor folder');
    const own = (map: Record<string, string>) => (Object.hasOwn(map, p.kind) ? map[p.kind] : undefined);
    const category = own(DEFAULT_POLICY.kindCategories);
    t.ok(category, `kind ${p.kind} is one the cloud policy knows (cloud/events/policy.ts kindCategories): ${category}`);
    // OPC UA subscriptions send only changes (a calm value is silent for hours) and the driver reports a
    // lost session itself, so only polled and heartbeat devices need a silence limit.
    if (p.protocol !== 'opcua') t.ok(p.offlineAfterSeconds, 'states offlineAfterSeconds');
    const names = p.points.map((x) => x.name);
    t.equal(new Set(names).size, names.length, 'point names are unique');
    for (const pt of p.points) {
      t.match(pt.name, /^[a-z][a-z0-9_]*$/, `${pt.name} is snake_case`);
      if (pt.unit !== undefined) t.ok(isKnownUnit(pt.unit), `${pt.name} unit ${pt.unit} is known`);
      if (pt.type !== 'number') {
        t.ok(pt.range === undefined && pt.scale === undefined && pt.offset === undefined && pt.unit === undefined, `${pt.name} (${pt.type}) has no unit, scale, offset or range`);
        continue;
      }
      if (!pt.range) {
        t.fail(`${pt.name} states a sane range`);
        continue;
      }
      const { min, max } = pt.range;
      t.ok(Number.isFinite(min) && Number.isFinite(max) && min < max, `${pt.name} range [${min}, ${max}] is ordered`);
      const dt = wireType(pt);
      const reach = dt && reachable(pt, dt);
      if (reach) {
        t.ok(reach[0] <= min && max <= reach[1], `${pt.name}: ${dt} × ${pt.scale ?? 1} + ${pt.offset ?? 0} reaches [${min}, ${max}] (it spans [${reach[0]}, ${reach[1]}])`);
        if (!dt.startsWith('float')) t.ok((max - min) / Math.abs(pt.scale ?? 1) >= 1, `${pt.name}: the range spans at least one raw step`);
      }
    }
    t.same(layoutClashes(p), [], 'no two points share a register, bit, byte or JSON path');
  });
}

/** Our own register maps and payloads (generic/*) follow firmware-specs/{modbus,mqtt}/conventions.md. */
for (const file of files.filter((f) => rel(f).startsWith('generic/'))) {
  t.test(`${rel(file)} follows firmware-specs/<protocol>/conventions.md`, async (t) => {
    const p = readProfileFile(file);
    if (p.protocol === 'modbus') {
      const requests = planReads(p.points);
      const tables = new Set(p.points.map((x) => x.modbus!.table));
      t.equal(requests.length, tables.size, 'one read request per table: each table is one contiguous block');
      t.same(requests.map((r) => r.address), requests.map(() => 0), 'every block starts at address 0');
      const statusWords = new Set(p.points.filter((x) => x.modbus!.bit !== undefined).map((x) => `${x.modbus!.table} ${x.modbus!.address}`));
      t.ok(statusWords.size <= 1, `status bits live in one register (${[...statusWords].join(', ') || 'none'})`);
      for (const x of p.points.filter((x) => x.access === 'readwrite' && x.type === 'boolean')) {
        t.equal(x.modbus!.table, 'coil', `${x.name}: a command is a coil`);
      }
    } else if (p.protocol === 'mqtt') {
      for (const x of p.points) {
        const b = x.mqtt!.binary;
        if (b) t.ok(b.offset >= 2 && b.offset % 2 === 0, `${x.name}: binary field on a word boundary after the layout-version word (offset ${b.offset})`);
        else t.ok(!/[A-Z]/.test(x.mqtt!.json!), `${x.name}: JSON keys are snake_case (${x.mqtt!.json})`);
      }
    } else {
      t.pass(`no conventions file for ${p.protocol} yet`);
    }
  });
}

// ── 2. Read back through the real driver ───────────────────────────────────────────────────────────
// For every profile: put a value in range for every point where the device would hold it, read every
// point through the protocol's real driver and edge/pipeline/apply-profile.ts, and check each
// engineering value. Each protocol brings its harness; a protocol without one is listed as a TODO.

type Harness = (t: Test, profile: DeviceProfile) => Promise<void>;

const HARNESSES: Record<Protocol, Harness | string> = {
  modbus: readBackModbus,
  // TODO(mqtt): once edge/drivers/mqtt/ (codec + driver) lands: start an aedes broker on a free port,
  // subscribe through the MQTT driver, publish for each topic a payload built from the points' `json`
  // paths (or their `binary` layout, with the Modbus codec's encodeRegisters per field), and compare
  // the engineering values exactly as readBackModbus does.
  mqtt: 'MQTT read-back harness: waits for the MQTT driver (edge/drivers/mqtt/)',
  // TODO(opcua): serve each point's nodeId (with {prefix} filled in) from test/helpers/opcua-server.ts
  // and read it through the OPC UA driver (edge/drivers/opcua/).
  opcua: 'OPC UA read-back harness: waits for the OPC UA driver (edge/drivers/opcua/)',
};

for (const file of files) {
  t.test(`${rel(file)} reads back through its driver`, async (t) => {
    const profile = readProfileFile(file);
    const harness = HARNESSES[profile.protocol];
    if (typeof harness === 'string') t.pass(`${profile.id}: not read back yet`, { todo: harness });
    else await harness(t, profile);
  });
}

/** A Modbus TCP slave on 127.0.0.1 with all four tables, served by modbus-serial's ServerTCP. */
class FourTableSlave {
  readonly coil = new Map<number, boolean>();
  readonly discrete_input = new Map<number, boolean>();
  readonly holding_register = new Map<number, number>();
  readonly input_register = new Map<number, number>();
  port = 0;
  private server?: InstanceType<typeof ModbusRTU.ServerTCP>;

  async start(): Promise<this> {
    // modbus-serial's ServerTCP cannot bind port 0 and report it; a just-freed port can be taken by a
    // test running beside this one, so try a few.
    for (let attempt = 0; ; attempt++) {
      this.port = await freePort();
      const server = new ModbusRTU.ServerTCP(
        {
          getCoil: (a: number) => this.coil.get(a) ?? false,
          getDiscreteInput: (a: number) => this.discrete_input.get(a) ?? false,
          getHoldingRegister: (a: number) => this.holding_register.get(a) ?? 0,
          getInputRegister: (a: number) => this.input_register.get(a) ?? 0,
          setCoil: (a: number, v: boolean) => void this.coil.set(a, v),
          setRegister: (a: number, v: number) => void this.holding_register.set(a, v),
        },
        { host: '127.0.0.1', port: this.port, unitID: 1 },
      );
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('initialized', () => resolve());
          server.once('serverError', reject);
        });
        this.server = server;
        return this;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  clear(): void {
    for (const m of [this.coil, this.discrete_input, this.holding_register, this.input_register]) m.clear();
  }

  /** Puts a raw value where the point lives, as the device's firmware would (bits: only that bit). */
  place(p: ProfilePoint, raw: RawValue): void {
    const m = p.modbus!;
    if (m.table === 'coil' || m.table === 'discrete_input') {
      this[m.table].set(m.address, raw as boolean);
      return;
    }
    const regs = this[m.table];
    const width = pointWidth(m);
    const current = fromWords(Array.from({ length: width }, (_, i) => regs.get(m.address + i) ?? 0));
    toWords(encodeRegisters(raw, m, current)).forEach((w, i) => regs.set(m.address + i, w));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const sock of server.socks.keys()) sock.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * A raw value whose engineering value lies a fraction `f` (0–1) of the way across the point's range,
 * on the raw grid of its data type. Strings fill their whole length, to catch a short read.
 */
function sampleRaw(p: ProfilePoint, f: number): RawValue {
  const dt = wireType(p)!;
  if (p.type === 'boolean') return f >= 0.5;
  if (p.type === 'string') {
    const bytes = (p.modbus?.length ?? 1) * 2;
    return `${p.name}-${Math.round(f * 100)}`.padEnd(bytes, '#').slice(0, bytes);
  }
  const { min, max } = p.range!;
  const scale = p.scale ?? 1;
  const offset = p.offset ?? 0;
  const raw = (min + f * (max - min) - offset) / scale;
  if (dt === 'float32') return Math.fround(raw);
  if (dt === 'float64') return raw;
  const [lo, hi] = [(min - offset) / scale, (max - offset) / scale].sort((a, b) => a - b) as [number, number];
  const [typeLo, typeHi] = RAW_RANGE[dt]!;
  return Math.min(Math.floor(hi + 1e-9), typeHi, Math.max(Math.ceil(lo - 1e-9), typeLo, Math.round(raw)));
}

/** What apply-profile must make of a raw value. */
function engineering(p: ProfilePoint, raw: RawValue): RawValue {
  return typeof raw === 'number' && p.type === 'number' ? toEngineering(raw, p) : raw;
}

async function readBackModbus(t: Test, profile: DeviceProfile): Promise<void> {
  const slave = await new FourTableSlave().start();
  t.teardown(() => slave.stop());
  const driver = new ModbusTcpDriver({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
  // The profile's own transport may be RTU; the points read the same over Modbus TCP.
  const conn = { protocol: 'modbus-tcp', host: '127.0.0.1', port: slave.port, unitId: 1, timeout: '1s', retries: 0 };
  t.same(driver.validateConnection(conn), [], 'test connection is valid');
  const session: Session = driver.open(conn);
  t.teardown(() => session.close());

  // The device's state, as raw values; every point a different value, spread across its range.
  const state = new Map<string, RawValue>();
  profile.points.forEach((p, i) => state.set(p.name, sampleRaw(p, 0.15 + 0.7 * ((i * 0.618034) % 1))));
  const bools = profile.points.filter((p) => p.type === 'boolean');

  const check = async (label: string) => {
    slave.clear();
    for (const p of profile.points) slave.place(p, state.get(p.name)!);
    const readings = applyProfile('probe', profile, await session.read(profile.points), Date.now());
    t.same(
      readings.map((r) => [r.point, r.quality, r.value, r.reason]),
      profile.points.map((p) => [p.name, 'good', engineering(p, state.get(p.name)!), undefined]),
      label,
    );
  };

  for (const b of bools) state.set(b.name, false);
  await check('every point reads its value (bits all clear)');
  // One bit set at a time: a point reading the wrong bit, or two points on one bit, shows up here.
  for (const one of bools) {
    for (const b of bools) state.set(b.name, b === one);
    await check(`only ${one.name} set: it alone reads true`);
  }
  // Writable points take a write through the driver at the address they are read from.
  for (const p of profile.points.filter((x) => x.access === 'readwrite' || x.access === 'write')) {
    const before = state.get(p.name)!;
    const next = p.type === 'boolean' ? !before : sampleRaw(p, 0.9) === before ? sampleRaw(p, 0.1) : sampleRaw(p, 0.9);
    slave.clear();
    for (const x of profile.points) slave.place(x, state.get(x.name)!);
    await session.write(p, next);
    state.set(p.name, next);
    const readings = applyProfile('probe', profile, await session.read(profile.points), Date.now());
    t.same(
      readings.map((r) => [r.point, r.quality, r.value]),
      profile.points.map((x) => [x.name, 'good', engineering(x, state.get(x.name)!)]),
      `${p.name} (readwrite) takes ${JSON.stringify(engineering(p, next))}; its neighbours keep theirs`,
    );
  }
}

// ── 3. The validator, and the committed JSON Schema ────────────────────────────────────────────────

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

t.test('the library checks catch what they are for', async (t) => {
  const profile = (points: string) => parseProfile(GOOD.replace(/points:[\s\S]*$/, `points:\n${points}`), 'x.yaml');
  const point = (name: string, modbus: string, extra = '') => `  - { name: ${name}, type: number, range: { min: 0, max: 10 }${extra}, modbus: ${modbus} }\n`;
  const clashes = layoutClashes(
    profile(
      point('a', '{ table: holding_register, address: 0, dataType: uint32 }') +
        point('b', '{ table: holding_register, address: 1, dataType: uint16 }') +
        '  - { name: c, type: boolean, modbus: { table: holding_register, address: 2, dataType: bool, bit: 0 } }\n' +
        '  - { name: d, type: boolean, modbus: { table: holding_register, address: 2, dataType: bool, bit: 0 } }\n' +
        '  - { name: e, type: boolean, modbus: { table: holding_register, address: 2, dataType: bool, bit: 1 } }\n',
    ),
  );
  t.same(clashes, ['b overlaps a at holding_register 1 (word)', 'd overlaps c at holding_register 2 bit 0'], 'overlaps found; bits of one status word may share it');
  const p = profile(point('a', '{ table: holding_register, address: 0, dataType: uint16 }', ', scale: 0.01'));
  t.same(reachable({ ...p.points[0]!, range: { min: 0, max: 1000 } }, 'uint16'), [0, 655.35], 'uint16 × 0.01 reaches 655.35, short of a 0-1000 range');
  t.same(reachable({ ...p.points[0]!, scale: -1, offset: 5 }, 'int16'), [5 - 32767, 5 + 32768], 'a negative scale turns the raw range round');
  t.equal(sampleRaw({ ...p.points[0]!, range: { min: 0.1, max: 1 } }, 0), 10, 'samples stay on the raw grid, inside the range');
});

t.test('a missing file is a clear error, not a crash', async (t) => {
  const err = t.throws(() => readProfileFile('/nonexistent/p.yaml')) as unknown as GsError;
  t.equal(err.code, 'GS_ERR_PROFILE_INVALID');
});

t.test('profile.schema.json is the schema generated from contracts/profile.ts', async (t) => {
  const committed = JSON.parse(readFileSync(join(BUNDLED_PROFILES_DIR, 'profile.schema.json'), 'utf8')) as unknown;
  t.same(committed, profileJsonSchema(), 'regenerate with: gridsense profiles schema > device-profiles/profile.schema.json');
});

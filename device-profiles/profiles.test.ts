// One test over every bundled profile (zigbee-herdsman-converters' habit): adding a model is adding
// a file, and this test is what keeps the library sane. Sections:
//   1. the library as a whole (unique ids) and each profile alone (names, units, kinds, the validator's
//      checks, the library's own conventions)
//   2. each profile read back through its protocol's real driver: Modbus TCP, MQTT (embedded broker),
//      OPC UA (a node-opcua server), cameras (GStreamer's RTSP server, the ONVIF device simulator)
//   3. the validator on broken profiles (device-profiles/checks/), and the committed JSON Schema
import t from 'tap';
import type { Test } from 'tap';
import { spawnSync } from 'node:child_process';
import ModbusRTU from 'modbus-serial';
import { connectAsync, type MqttClient } from 'mqtt';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ProfileLibrary, listProfileFiles, BUNDLED_PROFILES_DIR } from './library.js';
import { parseProfile, readProfileFile, semanticErrors } from './validate.js';
import { profileJsonSchema } from './json-schema.js';
import { RAW_RANGE, reachable, wireType } from './checks/wire.js';
import { isKnownUnit } from '../contracts/units.js';
import { GsError } from '../contracts/errors.js';
import { systemClock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import type { ByteOrder, DeviceProfile, ModbusDataType, ProfilePoint, Protocol } from '../contracts/profile.js';
// Read-only: the cloud's kind → governance category map, so a profile's kind is one the cloud files
// under the right department (消防安全, 防汛, 社会治安, 公共设施 …).
import { DEFAULT_POLICY } from '../cloud/events/policy.js';
import { ModbusTcpDriver } from '../edge/drivers/modbus/driver.js';
import { encodeRegisters, fromWords, pointWidth, toWords } from '../edge/drivers/modbus/codec.js';
import { planReads } from '../edge/drivers/modbus/plan.js';
import { MqttDriver } from '../edge/drivers/mqtt/driver.js';
import { samplePayload, sampleRawValue } from '../edge/drivers/mqtt/codec.js';
import { OpcuaDriver } from '../edge/drivers/opcua/driver.js';
import { CameraRuntime, OnvifCameraDriver, RtspCameraDriver } from '../edge/drivers/camera/driver.js';
import { isClockPoint, isEventPoint, isProbePoint } from '../edge/cameras/readings.js';
import { hashPassword } from '../edge/broker/password.js';
import type { DriverDeps, RawPointValue, RawValue, Session } from '../edge/drivers/driver.js';
import { applyProfile, toEngineering } from '../edge/pipeline/apply-profile.js';
import { silentLogger } from '../edge/log.js';
import { systemScheduler } from '../edge/scheduler.js';
import { TestOpcuaServer, variablesFor } from '../test/helpers/opcua-server.js';
import { OnvifSimulator } from '../test/helpers/onvif-sim/index.js';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../test/helpers/rtsp-server.js';
import { freePort, needs } from '../test/helpers/services.js';
import { waitFor } from '../test/helpers/wait.js';

const files = listProfileFiles(BUNDLED_PROFILES_DIR);
const rel = (file: string) => relative(BUNDLED_PROFILES_DIR, file);

/** One temp folder per file: the OPC UA server's and client's PKI (certificates made once, reused). */
const TMP = mkdtempSync(join(tmpdir(), 'gridsense-profiles-'));
t.teardown(() => rmSync(TMP, { recursive: true, force: true }));

// ── 1. The library and each profile ────────────────────────────────────────────────────────────────

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
    // What every profile must satisfy, ours or a technician's, is the validator's (checks/): point
    // layout (no shared register, bit, byte, JSON path or node), ranges the wire type reaches, no unit /
    // scale / range on booleans and strings. readProfileFile ran it; say so explicitly.
    t.same(semanticErrors(p, rel(file)), [], 'the validator finds no problem (device-profiles/checks/)');
    t.match(p.id, /^[a-z0-9-]+\/[a-z0-9._-]+$/, 'id is vendor/model');
    t.ok(file.includes(`${p.id.split('/')[0]}/`), 'file lives in its vendor folder');
    const own = (map: Record<string, string>) => (Object.hasOwn(map, p.kind) ? map[p.kind] : undefined);
    const category = own(DEFAULT_POLICY.kindCategories);
    t.ok(category, `kind ${p.kind} is one the cloud policy knows (cloud/events/policy.ts kindCategories): ${category}`);
    // OPC UA subscriptions send only changes (a calm value is silent for hours) and the driver reports a
    // lost session itself, so only polled and heartbeat devices need a silence limit.
    if (p.protocol !== 'opcua') t.ok(p.offlineAfterSeconds, 'states offlineAfterSeconds');
    for (const pt of p.points) {
      t.match(pt.name, /^[a-z][a-z0-9_]*$/, `${pt.name} is snake_case`);
      if (pt.unit !== undefined) t.ok(isKnownUnit(pt.unit), `${pt.name} unit ${pt.unit} is known`);
      // The library's own rule (the schema leaves it optional): every number says what is sane.
      if (pt.type === 'number') t.ok(pt.range, `${pt.name} states a sane range`);
    }
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
// For every profile: put a value in range for every point where the device would hold it (registers,
// a published message, an OPC UA node), read every point through the protocol's real driver and
// edge/pipeline/apply-profile.ts, and check each engineering value. Then each boolean alone is true (a
// point on the wrong bit or path shows up), and each writable point takes a write through the driver.
// Wire images are built here from the firmware specs' rules (big-endian words, `order`, bit 0 the least
// significant), not with the drivers' codecs, so a codec and its inverse cannot agree on the same mistake.

type Harness = (t: Test, profile: DeviceProfile) => Promise<void>;

const HARNESSES: Record<Protocol, Harness> = {
  modbus: readBackModbus,
  mqtt: readBackMqtt,
  opcua: readBackOpcua,
  camera: readBackCamera,
};

for (const file of files) {
  t.test(`${rel(file)} reads back through its driver`, async (t) => {
    const profile = readProfileFile(file);
    await HARNESSES[profile.protocol](t, profile);
  });
}

const driverDeps = (): DriverDeps => ({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });

/** The device's state: a raw value per point. */
type State = Map<string, RawValue>;

/**
 * A raw value whose engineering value lies a fraction `f` (0–1) of the way across the point's range,
 * on the raw grid of its data type. Strings fill their whole field, to catch a short read.
 */
function sampleRaw(p: ProfilePoint, f: number): RawValue {
  if (p.type === 'boolean') return f >= 0.5;
  if (p.type === 'string') {
    const bytes = p.modbus ? (p.modbus.length ?? 1) * 2 : (p.mqtt?.binary?.length ?? 0);
    const text = `${p.name}-${Math.round(f * 100)}`;
    return bytes > 0 ? text.padEnd(bytes, '#').slice(0, bytes) : text;
  }
  const { min, max } = p.range ?? { min: 0, max: 100 };
  const scale = p.scale ?? 1;
  const offset = p.offset ?? 0;
  const raw = (min + f * (max - min) - offset) / scale;
  const dt = wireType(p);
  // JSON and OPC UA values carry their own type: any number, here a short one.
  if (dt === undefined) return Number(raw.toPrecision(6));
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

/**
 * The device states a read-back walks through: every point a different value spread across its range
 * with every boolean false, then each boolean true alone.
 */
function stateRounds(profile: DeviceProfile): Array<[string, State]> {
  const state: State = new Map();
  profile.points.forEach((p, i) => state.set(p.name, sampleRaw(p, 0.15 + 0.7 * ((i * 0.618034) % 1))));
  const bools = profile.points.filter((p) => p.type === 'boolean');
  for (const b of bools) state.set(b.name, false);
  const rounds: Array<[string, State]> = [['every point reads its value (booleans all false)', new Map(state)]];
  for (const one of bools) {
    for (const b of bools) state.set(b.name, b === one);
    rounds.push([`only ${one.name} true: it alone reads true`, new Map(state)]);
  }
  return rounds;
}

/** The value a writable point takes in a write test: another one in its range, or the other boolean. */
function nextValue(p: ProfilePoint, before: RawValue): RawValue {
  if (p.type === 'boolean') return !before;
  const high = sampleRaw(p, 0.9);
  return high === before ? sampleRaw(p, 0.1) : high;
}

/** Readings as comparable rows. */
const rows = (readings: readonly Reading[]) => readings.map((r) => [r.point, r.quality, r.value, r.reason]);
/** The rows a state must read as: good, each value through scale and offset. */
const expectedRows = (points: readonly ProfilePoint[], value: (p: ProfilePoint) => RawValue) => points.map((p) => [p.name, 'good', engineering(p, value(p)), undefined]);

/** A value's big-endian bytes as its data type holds it (strings: UTF-8, NUL-padded to `bytes`). */
function bigEndian(dataType: ModbusDataType, value: RawValue, bytes = 0): Buffer {
  if (dataType === 'string') {
    const b = Buffer.alloc(bytes);
    b.write(value as string, 'utf8');
    return b;
  }
  const n = value as number;
  const b = Buffer.alloc({ bool: 2, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8 }[dataType]);
  if (dataType === 'int16') b.writeInt16BE(n);
  else if (dataType === 'uint16') b.writeUInt16BE(n);
  else if (dataType === 'int32') b.writeInt32BE(n);
  else if (dataType === 'uint32') b.writeUInt32BE(n);
  else if (dataType === 'float32') b.writeFloatBE(n);
  else if (dataType === 'float64') b.writeDoubleBE(n);
  return b;
}

/**
 * Big-endian bytes laid out in a byte order (contracts/profile.ts): CDAB and DCBA reverse the 16-bit
 * words (a string keeps its word order), BADC and DCBA swap the bytes of each word. Its own inverse.
 */
function inOrder(be: Buffer, order: ByteOrder = 'ABCD', text = false): Buffer {
  const words: number[][] = [];
  for (let i = 0; i < be.length; i += 2) words.push([...be.subarray(i, i + 2)]);
  if (!text && (order === 'CDAB' || order === 'DCBA')) words.reverse();
  if (order === 'BADC' || order === 'DCBA') words.forEach((w) => w.reverse());
  return Buffer.from(words.flat());
}

// ── Modbus ──

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
      if (m.dataType === 'bool') {
        this[m.table].set(m.address, raw as boolean);
        return;
      }
      // A bank: the value's register image, 16 coils per word, the first coil its least significant bit.
      const wire = inOrder(bigEndian(m.dataType, raw), m.order);
      for (let i = 0; i < wire.length * 8; i++) this[m.table].set(m.address + i, ((wire.readUInt16BE((i >> 4) * 2) >> (i & 15)) & 1) === 1);
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

async function readBackModbus(t: Test, profile: DeviceProfile): Promise<void> {
  const slave = await new FourTableSlave().start();
  t.teardown(() => slave.stop());
  const driver = new ModbusTcpDriver(driverDeps());
  // The profile's own transport may be RTU; the points read the same over Modbus TCP.
  const conn = { protocol: 'modbus-tcp', host: '127.0.0.1', port: slave.port, unitId: 1, timeout: '1s', retries: 0 };
  t.same(driver.validateConnection(conn), [], 'test connection is valid');
  const session: Session = driver.open(conn);
  t.teardown(() => session.close());

  const check = async (label: string, state: State) => {
    slave.clear();
    for (const p of profile.points) slave.place(p, state.get(p.name)!);
    const readings = applyProfile('probe', profile, await session.read(profile.points), Date.now());
    t.same(rows(readings), expectedRows(profile.points, (p) => state.get(p.name)!), label);
  };

  const rounds = stateRounds(profile);
  for (const [label, state] of rounds) await check(label, state);
  // Writable points take a write through the driver at the address they are read from.
  const state = new Map(rounds[0]![1]);
  for (const p of profile.points.filter((x) => x.access === 'readwrite' || x.access === 'write')) {
    const next = nextValue(p, state.get(p.name)!);
    slave.clear();
    for (const x of profile.points) slave.place(x, state.get(x.name)!);
    await session.write(p, next);
    state.set(p.name, next);
    const readings = applyProfile('probe', profile, await session.read(profile.points), Date.now());
    t.same(rows(readings), expectedRows(profile.points, (x) => state.get(x.name)!), `${p.name} (readwrite) takes ${JSON.stringify(engineering(p, next))}; its neighbours keep theirs`);
  }
}

// ── MQTT ──

const MQTT_PASSWORD = 'profile-read-back';
let mqttPasswordHash: Promise<string> | undefined;
// Cheap scrypt parameters: the read-back checks payloads, not the login's cost.
const devicePasswordHash = () => (mqttPasswordHash ??= hashPassword(MQTT_PASSWORD, { N: 1024 }));

/** Sets `value` at a profile JSON path (`a.b`, `a[0].b`) in `doc`. */
function putPath(doc: Record<string, unknown>, path: string, value: unknown): void {
  const steps = path.match(/[^.[\]]+|\[\d+\]/g)!.map((s) => (s.startsWith('[') ? Number(s.slice(1, -1)) : s));
  let node = doc as Record<string | number, unknown>;
  steps.forEach((step, i) => {
    if (i === steps.length - 1) {
      node[step] = value;
      return;
    }
    node[step] ??= typeof steps[i + 1] === 'number' ? [] : {};
    node = node[step] as Record<string | number, unknown>;
  });
}

/**
 * The message a device publishes on one topic for these points (firmware-specs/mqtt/conventions.md):
 * a JSON object with each value at its path and the device's `ts`, or a binary frame of big-endian
 * words with the layout version 1 in its first word, each field at its offset and bit.
 */
function deviceMessage(points: readonly ProfilePoint[], state: State): Buffer {
  if (!points[0]!.mqtt!.binary) {
    const doc: Record<string, unknown> = {};
    if (!points.some((p) => p.mqtt!.json === 'ts')) doc.ts = new Date().toISOString();
    for (const p of points) putPath(doc, p.mqtt!.json!, state.get(p.name));
    return Buffer.from(JSON.stringify(doc));
  }
  const fields = points.map((p) => ({ p, f: p.mqtt!.binary! }));
  const bytes = (f: (typeof fields)[number]['f']) => (f.dataType === 'string' ? (f.length ?? 1) : bigEndian(f.dataType, 0).length);
  const frame = Buffer.alloc(Math.max(...fields.map(({ f }) => f.offset + bytes(f))));
  if (fields.every(({ f }) => f.offset >= 2)) frame.writeUInt16BE(1, 0);
  for (const { p, f } of fields) {
    const v = state.get(p.name)!;
    if (f.bit !== undefined || f.dataType === 'bool') {
      const word = inOrder(frame.subarray(f.offset, f.offset + 2), f.order).readUInt16BE(0);
      const mask = 1 << (f.bit ?? 0);
      inOrder(bigEndian('uint16', v ? word | mask : word & ~mask & 0xffff), f.order).copy(frame, f.offset);
    } else {
      inOrder(bigEndian(f.dataType, v, f.length), f.order, f.dataType === 'string').copy(frame, f.offset);
    }
  }
  return frame;
}

/**
 * The real MQTT driver with its embedded broker on 127.0.0.1 and a free port; the device is an MQTT.js
 * client logging in with its own username and password and publishing each topic's message.
 */
async function readBackMqtt(t: Test, profile: DeviceProfile): Promise<void> {
  const deviceId = `probe-${profile.id.replace('/', '-')}`;
  const driver = new MqttDriver(driverDeps(), { broker: { enabled: true, host: '127.0.0.1', port: await freePort(), maxPayload: 64 * 1024 } });
  const conn = { protocol: 'mqtt', deviceId, username: deviceId, passwordHash: await devicePasswordHash() };
  t.same(driver.validateConnection(conn), [], 'test connection is valid (embedded broker)');
  const session = driver.open(conn);
  t.teardown(() => session.close());
  t.ok(profile.points.every((p) => session.subscribes!(p)), 'every point is pushed, none polled');
  const pushed: RawPointValue[] = [];
  session.subscribe!(profile.points, (v) => void pushed.push(v));
  const broker = (await driver.embeddedBroker())!;
  t.equal(broker.address().host, '127.0.0.1', `the embedded broker listens on 127.0.0.1:${broker.address().port}`);
  const device: MqttClient = await connectAsync(`mqtt://127.0.0.1:${broker.address().port}`, { username: deviceId, password: MQTT_PASSWORD, clientId: deviceId, reconnectPeriod: 0 });
  t.teardown(() => device.endAsync(true));

  const byTopic = new Map<string, ProfilePoint[]>();
  for (const p of profile.points) byTopic.set(p.mqtt!.topic, [...(byTopic.get(p.mqtt!.topic) ?? []), p]);
  const inTopicOrder = [...byTopic.values()].flat();

  /** Publishes one message per topic; each must push exactly its points' values, read as expected. */
  const round = async (label: string, message: (points: readonly ProfilePoint[]) => Buffer, raw: (p: ProfilePoint) => RawValue) => {
    const got: RawPointValue[] = [];
    for (const [topic, points] of byTopic) {
      const before = pushed.length;
      await device.publishAsync(`devices/${deviceId}/${topic}`, message(points), { qos: 1 });
      got.push(...(await waitFor(`${points.length} value(s) pushed from ${topic}`, () => (pushed.length >= before + points.length ? pushed.slice(before) : undefined), 10_000, 5)));
    }
    t.same(rows(applyProfile(deviceId, profile, got, Date.now())), expectedRows(inTopicOrder, raw), `${label}: pushed`);
    const read = applyProfile(deviceId, profile, await session.read(profile.points), Date.now());
    t.same(rows(read), expectedRows(profile.points, raw), `${label}: read answers from the last message of each topic`);
  };

  // The codec's own sample message (what the driver's tests and the simulator publish) …
  await round("the codec's sample message (samplePayload)", (points) => samplePayload(points), (p) => sampleRawValue(p));
  // … then messages written from the firmware specs' rules.
  for (const [label, state] of stateRounds(profile)) await round(label, (points) => deviceMessage(points, state), (p) => state.get(p.name)!);
  // MQTT profile points are what the device reports; commands go out on cmd/<point> (driver.test.ts).
}

// ── OPC UA ──

/** A node-opcua server (mini nodeset: quick to start) on a free port, with its PKI under TMP. */
async function startOpcuaServer(variables: ReturnType<typeof variablesFor>): Promise<TestOpcuaServer> {
  for (let attempt = 0; ; attempt++) {
    const server = new TestOpcuaServer({ port: await freePort(), pkiFolder: join(TMP, 'opcua-server-pki'), variables, nodeset: 'mini' });
    try {
      return await server.start();
    } catch (err) {
      await server.stop().catch(() => undefined);
      if (attempt >= 2) throw err; // a just-freed port taken by a test running beside this one
    }
  }
}

/**
 * The real OPC UA driver (security None) against a node-opcua server serving every point's node
 * (variablesFor: numbers as Double, booleans as Boolean, strings as String). Each state is checked
 * through a Read service call and through the subscription the poller uses; writable points are
 * written through the driver and read back.
 */
async function readBackOpcua(t: Test, profile: DeviceProfile): Promise<void> {
  const prefix = 'PROBE1';
  const nodeOf = (p: ProfilePoint) => p.opcua!.nodeId.replaceAll('{prefix}', prefix);
  const rounds = stateRounds(profile);
  const server = await startOpcuaServer(variablesFor(profile.points, prefix, (p) => rounds[0]![1].get(p.name)!));
  const driver = new OpcuaDriver(driverDeps(), { pkiFolder: join(TMP, 'opcua-client-pki') });
  const conn = { protocol: 'opcua', endpoint: server.endpoint, nodePrefix: prefix, timeout: '5s', samplingInterval: '50ms', publishingInterval: '50ms' };
  t.same(driver.validateConnection(conn), [], 'test connection is valid (security None)');
  const session = driver.open(conn);
  t.teardown(async () => {
    await session.close();
    await server.stop();
  });
  t.ok(profile.points.every((p) => session.subscribes!(p)), 'every point is pushed, none polled');
  const latest = new Map<string, RawPointValue>();
  session.subscribe!(profile.points, (v) => void latest.set(v.point, v));

  const check = async (label: string, state: State) => {
    const want = expectedRows(profile.points, (p) => state.get(p.name)!);
    t.same(rows(applyProfile(prefix, profile, await session.read(profile.points), Date.now())), want, `${label}: read`);
    const pushedRows = () => rows(applyProfile(prefix, profile, profile.points.map((p) => latest.get(p.name) ?? { point: p.name, ok: false, reason: 'nothing_pushed', unreachable: false }), Date.now()));
    const same = () => (JSON.stringify(pushedRows()) === JSON.stringify(want) ? true : undefined);
    await waitFor(`${label}: pushed`, same, 10_000, 10).catch(() => undefined);
    t.same(pushedRows(), want, `${label}: pushed by the subscription`);
  };

  for (const [i, [label, state]] of rounds.entries()) {
    if (i > 0) for (const p of profile.points) server.set(nodeOf(p), state.get(p.name)!);
    await check(label, state);
  }
  const state = new Map(rounds.at(-1)![1]);
  for (const p of profile.points.filter((x) => x.access === 'readwrite' || x.access === 'write')) {
    const next = nextValue(p, state.get(p.name)!);
    await session.write(p, next);
    t.equal(server.get(nodeOf(p)), next, `${p.name}: the server holds the written ${JSON.stringify(next)}`);
    state.set(p.name, next);
    await check(`${p.name} (readwrite) takes ${JSON.stringify(engineering(p, next))}; its neighbours keep theirs`, state);
  }
}

// ── Cameras ──

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);
const CAMERA_PASSWORD = 'profile-read-back';
/** One GStreamer RTSP server for every camera profile (320×240, 10 fps, a keyframe every 0.5 s), stopped with the file. */
let gstServer: Promise<GstRtspServer> | undefined;
t.teardown(async () => (await gstServer?.catch(() => undefined))?.stop());
const rtspServer = () => (gstServer ??= new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 5 }).start());

/**
 * The real camera drivers against a real stream: GStreamer's RTSP server serving a moving test pattern,
 * a black picture and a frozen one, probed by the real ffprobe / ffmpeg. A profile with ONVIF event
 * points is read through the ONVIF driver and the device simulator (its stream URI points at the live
 * mount; its PullPoint delivers the events), then each event alone is on. One without is read through
 * the RTSP driver, on the live, black and frozen pictures at once. Every point must read good: the exact
 * facts exactly (codec, size, flags), the measured ones near what the server sends (frame rate,
 * bitrate, keyframe interval).
 */
async function readBackCamera(t: Test, profile: DeviceProfile): Promise<void> {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const server = await rtspServer();
  const events = profile.points.filter((p) => isEventPoint(p.name));
  t.ok(profile.points.every((p) => isProbePoint(p.name) || isEventPoint(p.name) || isClockPoint(p.name)), 'every point is one the camera driver reads');
  const runtime = new CameraRuntime({ concurrency: 3, probe: { picture: { freezeMinSeconds: 1 } }, events: { pullTimeoutS: 2, backoff: { baseMs: 100, capMs: 400 } } });
  // Short windows: 1.5 s of packets span three keyframes; 2 s of picture hold a 1 s freeze.
  const win = { sample: '1.5s', analyse: '2s' };
  const deviceId = `probe-${profile.id.replace('/', '-')}`;
  const flag = (p: ProfilePoint, on: boolean): RawValue => (p.type === 'number' ? Number(on) : on);

  let sim: OnvifSimulator | undefined;
  let live: Session;
  const pictures: Array<[string, Session, Record<string, boolean>]> = [];
  if (events.length > 0) {
    sim = await new OnvifSimulator({ password: CAMERA_PASSWORD, vendor: 'hikvision', streamUri: () => server.url('live') }).start();
    const s = sim;
    t.teardown(() => s.stop());
    const driver = new OnvifCameraDriver(driverDeps(), runtime);
    const conn = { protocol: 'onvif', host: '127.0.0.1', port: s.port, username: 'admin', password: CAMERA_PASSWORD, vendor: 'hikvision', ...win };
    t.same(driver.validateConnection(conn), [], 'test connection is valid (ONVIF)');
    live = driver.open({ ...conn, deviceId });
  } else {
    const driver = new RtspCameraDriver(runtime);
    const conn = (mount: string) => ({ protocol: 'rtsp', url: server.url(mount), ...win });
    t.same(driver.validateConnection(conn('live')), [], 'test connection is valid (RTSP)');
    live = driver.open({ ...conn('live'), deviceId });
    pictures.push(['the black picture reads black (and still)', driver.open({ ...conn('black'), deviceId: `${deviceId}-black` }), { online: true, black: true, frozen: true }]);
    pictures.push(['the frozen picture reads frozen, not black', driver.open({ ...conn('frozen'), deviceId: `${deviceId}-frozen` }), { online: true, black: false, frozen: true }]);
  }
  t.teardown(() => Promise.all([live, ...pictures.map(([, s]) => s)].map((s) => s.close())));
  t.ok(events.every((p) => live.subscribes?.(p)) && profile.points.filter((p) => !isEventPoint(p.name)).every((p) => !live.subscribes?.(p)), 'events pushed, the probe polled');

  const latest = new Map<string, RawPointValue>();
  if (events.length > 0) {
    live.subscribe!(events, (v) => void latest.set(v.point, v));
    await waitFor('every event state reported', () => (events.every((p) => latest.has(p.name)) ? true : undefined), 10_000, 20);
  }
  const picture = profile.points.filter((p) => ['online', 'black', 'frozen'].includes(p.name));
  const [all, ...others] = await Promise.all([live.read(profile.points), ...pictures.map(([, s]) => s.read(picture))]);
  const read = applyProfile(deviceId, profile, all!, Date.now());
  const by = new Map(read.map((r) => [r.point, r]));
  t.same(read.filter((r) => r.quality !== 'good').map((r) => `${r.point}: ${r.reason}`), [], 'every point reads good from the live pattern');
  const exact: Record<string, (p: ProfilePoint) => RawValue> = {
    online: (p) => flag(p, true), codec: () => 'h264', width: () => 320, height: () => 240, black: (p) => flag(p, false), frozen: (p) => flag(p, false),
    motion: (p) => flag(p, false), tamper: (p) => flag(p, false), video_loss: (p) => flag(p, false),
  };
  for (const p of profile.points.filter((x) => exact[x.name])) t.equal(by.get(p.name)?.value, engineering(p, exact[p.name]!(p)), `${p.name} reads ${JSON.stringify(exact[p.name]!(p))}`);
  const near: Record<string, [number, number]> = { fps: [8.5, 11.5], bitrate_kbps: [20, 2000], keyframe_interval_s: [0.35, 0.65] };
  for (const p of profile.points.filter((x) => near[x.name])) {
    const v = by.get(p.name)?.value as number;
    t.ok(v >= near[p.name]![0] && v <= near[p.name]![1], `${p.name} ${v} is what the server sends (${near[p.name]!.join('–')})`);
  }
  pictures.forEach(([label, , on], i) => {
    t.same(rows(applyProfile(deviceId, profile, others[i]!, Date.now())), picture.map((p) => [p.name, 'good', flag(p, on[p.name]!), undefined]), label);
  });

  // Each event alone on: pushed by the subscription, and read back as the last state.
  for (const one of events) {
    sim!.emit(one.name as 'motion' | 'tamper' | 'video_loss', true);
    const pushedRows = () => rows(applyProfile(deviceId, profile, events.map((p) => latest.get(p.name)!), Date.now()));
    const expected = events.map((p) => [p.name, 'good', flag(p, p.name === one.name), undefined]);
    await waitFor(`${one.name} pushed`, () => (JSON.stringify(pushedRows()) === JSON.stringify(expected) ? true : undefined), 10_000, 20).catch(() => undefined);
    t.same(pushedRows(), expected, `only ${one.name} on: pushed`);
    t.same(rows(applyProfile(deviceId, profile, await live.read(events), Date.now())), expected, `only ${one.name} on: read`);
    sim!.emit(one.name as 'motion' | 'tamper' | 'video_loss', false);
  }
}

// A Modbus device that reads whole words as banks of coils (a 16-channel relay module, a digital-input
// card): integer data types on coil / discrete_input tables, 16 bits per register.
const RELAY_MODULE = `
id: acme/relay-16
vendor: acme
model: R16
name: Relay module
kind: water_level
protocol: modbus
offlineAfterSeconds: 60
points:
  - { name: outputs, type: number, access: readwrite, range: { min: 0, max: 65535 }, modbus: { table: coil, address: 0, dataType: uint16 } }
  - { name: spare_relay, type: boolean, access: readwrite, modbus: { table: coil, address: 16, dataType: bool } }
  - { name: inputs, type: number, range: { min: 0, max: 4294967295 }, modbus: { table: discrete_input, address: 0, dataType: uint32, order: CDAB } }
  - { name: counter, type: number, range: { min: -1000, max: 1000 }, modbus: { table: discrete_input, address: 32, dataType: int16, order: BADC } }
  - { name: door_closed, type: boolean, modbus: { table: discrete_input, address: 48, dataType: bool } }
`;

t.test('integer points on coil and discrete-input tables validate and read back as banks of bits', async (t) => {
  const profile = parseProfile(RELAY_MODULE, 'relay.yaml');
  t.same(semanticErrors(profile), [], 'the validator accepts integer banks on coils and discrete inputs');
  t.same(planReads(profile.points).map((r) => [r.table, r.address, r.count]), [['coil', 0, 17], ['discrete_input', 0, 49]], 'a bank is 16 bits per register');
  await readBackModbus(t, profile);
});

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

/** A one-off profile of `protocol` with these points (YAML list items). */
const withPoints = (protocol: Protocol, points: string) => GOOD.replace('protocol: modbus', `protocol: ${protocol}`).replace(/points:[\s\S]*$/, `points:\n${points}`);

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
    ['string without length', GOOD.replace('dataType: uint16', 'dataType: string').replace('type: number', 'type: string').replace(/\n {4}(unit|range): .*/g, ''), /^\/points\/0\/modbus\/length$/],
    ['bool in register without bit', GOOD.replace('dataType: uint16', 'dataType: bool').replace('type: number', 'type: boolean').replace(/\n {4}(unit|range): .*/g, ''), /^\/points\/0\/modbus\/bit$/],
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

/** The problems the validator reports for a profile, as [path, message]; [] when it parses. */
function problems(text: string): Array<[string, string]> {
  try {
    parseProfile(text, 'bad.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof GsError)) throw err;
    return err.details.map((d) => [d.path, d.message]);
  }
}

t.test('the validator checks every point\'s layout, value and range (device-profiles/checks/)', async (t) => {
  const num = (name: string, modbus: string, extra = '') => `  - { name: ${name}, type: number, range: { min: 0, max: 10 }${extra}, modbus: ${modbus} }\n`;
  const bit = (name: string, address: number, b: number, extra = '') => `  - { name: ${name}, type: boolean${extra}, modbus: { table: holding_register, address: ${address}, dataType: bool, bit: ${b} } }\n`;
  const mq = (name: string, type: string, mqtt: string, extra = '') => `  - { name: ${name}, type: ${type}${type === 'number' ? ', range: { min: 0, max: 10 }' : ''}${extra}, mqtt: ${mqtt} }\n`;
  const ua = (name: string, nodeId: string) => `  - { name: ${name}, type: number, range: { min: 0, max: 10 }, opcua: { nodeId: "${nodeId}" } }\n`;

  // Each broken profile has exactly one problem: at this path, saying this.
  const bad: Array<[string, string, string, RegExp]> = [
    // Modbus layout
    ['a register read by two points', withPoints('modbus', num('a', '{ table: holding_register, address: 0, dataType: uint32 }') + num('b', '{ table: holding_register, address: 1, dataType: uint16 }')),
      '/points/1/modbus/address', /^overlaps point "a" \(\/points\/0\) at holding_register 1$/],
    ['one status bit read twice', withPoints('modbus', bit('c', 2, 0) + bit('d', 2, 1) + bit('e', 2, 0)),
      '/points/2/modbus/bit', /^overlaps point "c" \(\/points\/0\) at bit 0 of holding_register 2$/],
    ['a whole register over a status word', withPoints('modbus', bit('c', 2, 0) + num('w', '{ table: holding_register, address: 1, dataType: uint32 }')),
      '/points/1/modbus/address', /^overlaps point "c" \(\/points\/0\) at holding_register 2, a word of status bits$/],
    ['a coil inside a bank of coils', withPoints('modbus', num('bank', '{ table: coil, address: 0, dataType: uint16 }') + '  - { name: relay, type: boolean, modbus: { table: coil, address: 15, dataType: bool } }\n'),
      '/points/1/modbus/address', /^overlaps point "bank" \(\/points\/0\) at coil 15$/],
    // Modbus: integer banks on bit tables, and what stays refused there
    ['a float on coils', withPoints('modbus', num('f', '{ table: coil, address: 0, dataType: float32 }')),
      '/points/0/modbus/dataType', /coil holds single bits: dataType must be bool, or an integer type \(int16, uint16, int32, uint32\)/],
    ['a bank of discrete inputs read as a boolean', withPoints('modbus', '  - { name: b, type: boolean, modbus: { table: discrete_input, address: 0, dataType: uint16 } }\n'),
      '/points/0/type', /^dataType uint16 reads as type number$/],
    ['a bank of coils past coil 65535', withPoints('modbus', num('b', '{ table: coil, address: 65530, dataType: uint16 }')),
      '/points/0/modbus/address', /^point runs past bit 65535$/],
    ['a write to a bank of discrete inputs', withPoints('modbus', num('b', '{ table: discrete_input, address: 0, dataType: uint16 }', ', access: readwrite')),
      '/points/0/access', /^discrete_input is read-only in Modbus$/],
    // Values and ranges
    ['a range the scaled data type cannot reach', GOOD.replace('max: 10 }', 'max: 1000 }\n    scale: 0.01'),
      '/points/0/range', /^range \[0, 1000\] cannot be reached: uint16 × 0\.01 \+ 0 spans \[0, 655\.35\]/],
    ['a range below the offset', GOOD.replace('max: 10 }', 'max: 10 }\n    offset: 5'),
      '/points/0/range', /^range \[0, 10\] cannot be reached: uint16 × 1 \+ 5 spans \[5, 65540\]/],
    ['a negative range on an unsigned type', withPoints('modbus', '  - { name: t, type: number, range: { min: -40, max: 125 }, scale: 0.1, modbus: { table: input_register, address: 0, dataType: uint16 } }\n'),
      '/points/0/range', /cannot be reached: uint16 × 0\.1 \+ 0 spans \[0, 6553\.5\]/],
    ['a range narrower than one raw step (a forgotten scale)', GOOD.replace('max: 10 }', 'max: 0.5 }'),
      '/points/0/range', /^range \[0, 0\.5\] is narrower than one raw step of uint16 × 1 \(1\)/],
    ['a boolean with a unit', withPoints('modbus', bit('b', 0, 0, ', unit: m')), '/points/0/unit', /^a boolean point has no unit/],
    ['a boolean with a scale', withPoints('modbus', bit('b', 0, 0, ', scale: 2')), '/points/0/scale', /^a boolean point has no scale/],
    ['a boolean with a range', withPoints('modbus', bit('b', 0, 0, ', range: { min: 0, max: 1 }')), '/points/0/range', /^a boolean point has no range/],
    ['a string with an offset', withPoints('mqtt', mq('s', 'string', '{ topic: t, json: s }', ', offset: 1')), '/points/0/offset', /^a string point has no offset/],
    // MQTT layout
    ['one JSON path read twice on a topic', withPoints('mqtt', mq('a', 'number', '{ topic: telemetry, json: battery.percent }') + mq('b', 'number', '{ topic: telemetry, json: battery.percent }')),
      '/points/1/mqtt/json', /^point "a" \(\/points\/0\) already reads "battery\.percent" on topic "telemetry"$/],
    ['a JSON path inside another point\'s value', withPoints('mqtt', mq('a', 'number', '{ topic: telemetry, json: battery }') + mq('b', 'number', '{ topic: telemetry, json: "battery.percent" }')),
      '/points/1/mqtt/json', /^"battery\.percent" lies inside "battery", the value of point "a"/],
    ['a JSON path holding another point\'s value', withPoints('mqtt', mq('a', 'number', '{ topic: t, json: "sensors[0].t" }') + mq('b', 'string', '{ topic: t, json: sensors }')),
      '/points/1/mqtt/json', /^"sensors" holds "sensors\[0\]\.t", the value of point "a"/],
    ['bytes read by two binary fields', withPoints('mqtt', mq('a', 'number', '{ topic: t, binary: { offset: 2, dataType: uint32 } }') + mq('b', 'number', '{ topic: t, binary: { offset: 4, dataType: uint16 } }')),
      '/points/1/mqtt/binary/offset', /^overlaps point "a" \(\/points\/0\) at byte 4 of topic "t"$/],
    ['a binary bit read twice', withPoints('mqtt', mq('a', 'boolean', '{ topic: t, binary: { offset: 4, dataType: bool, bit: 3 } }') + mq('b', 'boolean', '{ topic: t, binary: { offset: 4, dataType: bool, bit: 3 } }')),
      '/points/1/mqtt/binary/bit', /^overlaps point "a" \(\/points\/0\) at bit 3 of the status word at bytes 4-5 of topic "t"$/],
    ['a field over a binary status word', withPoints('mqtt', mq('a', 'boolean', '{ topic: t, binary: { offset: 4, dataType: bool, bit: 0 } }') + mq('b', 'number', '{ topic: t, binary: { offset: 5, dataType: uint16 } }')),
      '/points/1/mqtt/binary/offset', /^overlaps point "a" \(\/points\/0\) at byte 5 of topic "t", a word of status bits$/],
    ['JSON and binary points on one topic', withPoints('mqtt', mq('a', 'number', '{ topic: t, json: a }') + mq('b', 'number', '{ topic: t, binary: { offset: 2, dataType: uint16 } }')),
      '/points/1/mqtt', /^topic "t" already carries JSON \(point "a", \/points\/0\)/],
    ['an odd-length string in byte order BADC', withPoints('mqtt', mq('s', 'string', '{ topic: t, binary: { offset: 2, dataType: string, length: 5, order: BADC } }')),
      '/points/0/mqtt/binary/length', /^order BADC swaps the two bytes of each 16-bit word: a string in it needs an even "length" \(got 5\)$/],
    ['an odd-length string in byte order DCBA', withPoints('mqtt', mq('s', 'string', '{ topic: t, binary: { offset: 2, dataType: string, length: 3, order: DCBA } }')),
      '/points/0/mqtt/binary/length', /^order DCBA swaps/],
    // OPC UA layout
    ['one node read twice', withPoints('opcua', ua('a', 'ns=2;s={prefix}.Level') + ua('b', 'ns=2;s={prefix}.Level')),
      '/points/1/opcua/nodeId', /^point "a" \(\/points\/0\) already reads node ns=2;s=\{prefix\}\.Level$/],
    ['one node written two ways', withPoints('opcua', ua('a', 'i=2258') + ua('b', 'ns=0;i=02258')),
      '/points/1/opcua/nodeId', /^point "a" \(\/points\/0\) already reads node ns=0;i=02258$/],
  ];
  for (const [name, text, path, message] of bad) {
    const got = problems(text);
    t.same(got.map(([p]) => p), [path], `${name}: one problem, at ${path}`);
    // The validator adds the YAML line of the path, for the technician's editor.
    const [, said, line] = /^(.*) \(line (\d+)\)$/s.exec(got[0]?.[1] ?? '') ?? [];
    t.ok(line, `${name}: says the line`);
    t.match(said, message, `${name}: ${said}`);
  }

  // And what is fine: the checks must not refuse a sane profile.
  const good: Array<[string, string]> = [
    ['status bits share their word', withPoints('modbus', bit('c', 2, 0) + bit('d', 2, 1) + num('w', '{ table: holding_register, address: 3, dataType: uint16 }'))],
    ['the same address in another table', withPoints('modbus', num('a', '{ table: holding_register, address: 0, dataType: uint16 }') + num('b', '{ table: input_register, address: 0, dataType: uint16 }') + num('c', '{ table: coil, address: 0, dataType: uint16 }'))],
    ['banks of every integer type on coils and discrete inputs', withPoints('modbus', ['int16', 'uint16', 'int32', 'uint32'].map((dt, i) => num(`c${i}`, `{ table: coil, address: ${i * 32}, dataType: ${dt} }`, ', access: readwrite') + num(`d${i}`, `{ table: discrete_input, address: ${i * 32}, dataType: ${dt}, order: DCBA }`)).join(''))],
    ['a range the full data type spans', withPoints('modbus', '  - { name: t, type: number, range: { min: -3276.8, max: 3276.7 }, scale: 0.1, modbus: { table: holding_register, address: 0, dataType: int16 } }\n')],
    ['a negative scale turns the raw range round', withPoints('modbus', '  - { name: t, type: number, range: { min: -100, max: 5 }, scale: -1, offset: 5, modbus: { table: holding_register, address: 0, dataType: uint16 } }\n')],
    ['a range of exactly one raw step', withPoints('modbus', '  - { name: t, type: number, range: { min: 0.2, max: 0.3 }, scale: 0.1, modbus: { table: holding_register, address: 0, dataType: uint16 } }\n')],
    ['a narrow range on a float', withPoints('modbus', num('f', '{ table: holding_register, address: 0, dataType: float32 }').replace('max: 10', 'max: 0.001'))],
    ['numbers in JSON have no wire range', withPoints('mqtt', mq('a', 'number', '{ topic: t, json: a }').replace('max: 10', 'max: 1e300'))],
    ['one JSON path on two topics; sibling paths on one', withPoints('mqtt', mq('a', 'number', '{ topic: t, json: battery.percent }') + mq('b', 'number', '{ topic: u, json: battery.percent }') + mq('c', 'number', '{ topic: t, json: battery.percent_min }') + mq('d', 'number', '{ topic: t, json: "sensors[0]" }') + mq('e', 'number', '{ topic: t, json: "sensors[1]" }'))],
    ['one offset on two topics; bits of one binary status word', withPoints('mqtt', mq('a', 'number', '{ topic: t, binary: { offset: 2, dataType: uint16 } }') + mq('b', 'number', '{ topic: u, binary: { offset: 2, dataType: uint16 } }') + mq('c', 'boolean', '{ topic: t, binary: { offset: 4, dataType: bool, bit: 0 } }') + mq('d', 'boolean', '{ topic: t, binary: { offset: 4, dataType: bool, bit: 15 } }'))],
    ['odd-length strings in ABCD and CDAB; even ones in BADC', withPoints('mqtt', mq('a', 'string', '{ topic: t, binary: { offset: 2, dataType: string, length: 5 } }') + mq('b', 'string', '{ topic: t, binary: { offset: 7, dataType: string, length: 3, order: CDAB } }') + mq('c', 'string', '{ topic: t, binary: { offset: 10, dataType: string, length: 6, order: BADC } }'))],
    ['different nodes', withPoints('opcua', ua('a', 'ns=2;s={prefix}.Level') + ua('b', 'ns=3;s={prefix}.Level') + ua('c', 'i=2258') + ua('d', 'ns=1;i=2258'))],
  ];
  for (const [name, text] of good) t.same(problems(text), [], `${name}: no problem`);
});

t.test('camera profiles: points are named after what the camera driver reads (device-profiles/checks/camera.ts)', async (t) => {
  const cam = (points: string) => withPoints('camera', points);
  const bad: Array<[string, string, string, RegExp]> = [
    ['a name the driver does not read', cam('  - { name: brightness, type: number, range: { min: 0, max: 1 } }\n'), '/points/0/name', /^"brightness" is not a camera point; camera points are named after what they read: online, codec/],
    ['a protocol block on a camera point', cam('  - { name: width, type: number, range: { min: 0, max: 9000 }, modbus: { table: holding_register, address: 0, dataType: uint16 } }\n'), '/points/0/modbus', /^a camera point has no "modbus" block/],
    ['the codec as a number', cam('  - { name: codec, type: number, range: { min: 0, max: 1 } }\n'), '/points/0/type', /^codec reads as type string \(video codec: h264/],
    ['a flag with a range past 1', cam('  - { name: black, type: number, range: { min: 0, max: 100 } }\n'), '/points/0/range', /^black is a flag read as 1 or 0/],
    ['a flag as a string', cam('  - { name: motion, type: string }\n'), '/points/0/type', /^motion is a flag: type boolean, or number/],
    ['a writable camera point', cam('  - { name: online, type: boolean, access: readwrite }\n'), '/points/0/access', /^camera points are read-only/],
  ];
  for (const [name, text, path, message] of bad) {
    const got = problems(text);
    t.same(got.map(([p]) => p), [path], `${name}: one problem, at ${path}`);
    t.match(got[0]?.[1], message, `${name}: ${got[0]?.[1]}`);
  }
  t.same(problems(cam('  - { name: online, type: boolean }\n  - { name: tamper, type: boolean }\n  - { name: fps, type: number, range: { min: 0, max: 60 } }\n')), [], 'flags may be booleans too');
});

t.test('the checks\' helpers: reachable ranges, samples on the raw grid', async (t) => {
  const p = parseProfile(GOOD, 'x.yaml').points[0]!;
  t.same(reachable({ ...p, scale: 0.01 }, 'uint16'), [0, 655.35], 'uint16 × 0.01 reaches 655.35');
  t.same(reachable({ ...p, scale: -1, offset: 5 }, 'int16'), [5 - 32767, 5 + 32768], 'a negative scale turns the raw range round');
  t.equal(reachable(p, 'string'), undefined, 'a string has no numeric range');
  t.equal(sampleRaw({ ...p, scale: 0.01, range: { min: 0.1, max: 1 } }, 0), 10, 'samples stay on the raw grid, inside the range');
  t.same(inOrder(Buffer.from([1, 2, 3, 4]), 'DCBA'), Buffer.from([4, 3, 2, 1]), 'DCBA is little-endian');
  t.same(inOrder(Buffer.from('abcd'), 'DCBA', true), Buffer.from('badc'), 'a string keeps its word order');
});

t.test('a missing file is a clear error, not a crash', async (t) => {
  const err = t.throws(() => readProfileFile('/nonexistent/p.yaml')) as unknown as GsError;
  t.equal(err.code, 'GS_ERR_PROFILE_INVALID');
});

t.test('profile.schema.json is the schema generated from contracts/profile.ts', async (t) => {
  const committed = JSON.parse(readFileSync(join(BUNDLED_PROFILES_DIR, 'profile.schema.json'), 'utf8')) as unknown;
  t.same(committed, profileJsonSchema(), 'regenerate with: gridsense profiles schema > device-profiles/profile.schema.json');
});

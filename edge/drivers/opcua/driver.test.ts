// The OPC UA driver against a real node-opcua server on 127.0.0.1: subscriptions, Read and Write
// service calls, security None and SignAndEncrypt with a user, and a server that goes away and comes
// back. Certificates (the server's and the edge's) are made once for the file, in a temp PKI folder.
// The shared server carries four stations: PS1 and PS2 change in the subscription test, PS4 is
// written to, PS3 is only read (its fault status turns Bad and back once).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { systemClock } from '../../../contracts/clock.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import type { Reading } from '../../../contracts/reading.js';
import { ProfileLibrary } from '../../../device-profiles/library.js';
import { ManualScheduler } from '../../../test/helpers/manual-scheduler.js';
import { FreezingProxy, PUMP_STATION, TestOpcuaServer, variablesFor, type TestVariable } from '../../../test/helpers/opcua-server.js';
import { freePort } from '../../../test/helpers/services.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { silentLogger } from '../../log.js';
import { applyProfile } from '../../pipeline/apply-profile.js';
import { DevicePoller } from '../../poller.js';
import { systemScheduler } from '../../scheduler.js';
import type { RawPointValue, Session } from '../driver.js';
import { fromHighLow } from './codec.js';
import { OpcuaDriver } from './driver.js';

const station = ProfileLibrary.load().get('generic/opcua-pumping-station');
const point = (name: string) => station.points.find((p) => p.name === name)!;
const dir = mkdtempSync(join(tmpdir(), 'gridsense-opcua-'));
const SERVER_PKI = join(dir, 'server-pki');
const CLIENT_PKI = join(dir, 'client-pki');
const USER = { username: 'edge', password: 'pumping-station-1' };
const FAST_RECONNECT = { baseMs: 100, capMs: 1000 };
const EXTRA: TestVariable[] = [
  { nodeId: 'ns=3;s=Test.Int16', browseName: 'Int16', dataType: 'Int16', value: 0, writable: true },
  { nodeId: 'ns=3;s=Test.Int64', browseName: 'Int64', dataType: 'Int64', value: 0, writable: true },
  { nodeId: 'ns=3;s=Test.Bool', browseName: 'Bool', dataType: 'Boolean', value: false, writable: true },
];
const INITIAL = { sump_level: 2.5, river_level: 3.1, pump_1_running: true, pump_1_current: 85.5, pump_2_running: false, pump_2_current: 0, flow_rate: 1250, gate_position: 40, gate_setpoint: 40, fault: false, remote_mode: true };

const deps = () => ({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });

let server: TestOpcuaServer;
t.before(async () => {
  server = await new TestOpcuaServer({ port: await freePort(), pkiFolder: SERVER_PKI, variables: [...['PS1', 'PS2', 'PS3', 'PS4'].flatMap((p) => PUMP_STATION(p)), ...EXTRA], user: USER }).start();
});
t.teardown(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const conn = (prefix: string | undefined, extra: object = {}) => ({
  protocol: 'opcua',
  endpoint: server.endpoint,
  ...(prefix !== undefined ? { nodePrefix: prefix } : {}),
  timeout: '3s',
  samplingInterval: '100ms',
  publishingInterval: '100ms',
  ...extra,
});
const secure = (prefix: string, extra: object = {}) => conn(prefix, { securityMode: 'SignAndEncrypt', ...USER, trustServerCertificate: true, ...extra });

/** Collects pushed values; `latest` holds the last one per point. */
function collector() {
  const all: RawPointValue[] = [];
  const latest = new Map<string, RawPointValue>();
  return {
    all,
    latest,
    onValue: (v: RawPointValue) => {
      all.push(v);
      latest.set(v.point, v);
    },
    values: () => Object.fromEntries([...latest].map(([k, v]) => [k, v.ok ? v.value : v.reason])),
  };
}

const closeAll = (...sessions: Session[]) => () => Promise.all(sessions.map((s) => s.close()));

t.test('devices on one endpoint share one session and one subscription; each hears its own changes', async (t) => {
  const driver = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI });
  t.same(driver.validateConnection(conn('PS1')), [], 'the test connection is valid');
  const ps1 = driver.open(conn('PS1'));
  const ps2 = driver.open(conn('PS2'));
  t.teardown(closeAll(ps1, ps2));
  t.equal(driver.openLinks, 1, 'one client for both stations');
  t.equal(ps1.busId, `bus:${server.endpoint}`);
  t.ok(station.points.every((p) => ps1.subscribes!(p)), 'every profile point is pushed, none polled');

  const a = collector();
  const b = collector();
  ps1.subscribe!(station.points, a.onValue);
  ps2.subscribe!(station.points, b.onValue);
  await waitFor('the first value of every point of both stations', () => (a.latest.size === 11 && b.latest.size === 11 ? true : undefined));
  t.same(a.values(), INITIAL, 'PS1 as the server holds it');
  t.same(b.values(), INITIAL, 'PS2 as the server holds it');
  t.equal(server.sessionCount, 1, 'server side: one session');
  t.equal(server.subscriptionCount, 1, 'server side: one subscription');
  t.equal(server.monitoredItemCount, 22, 'server side: a monitored item per point of each station');

  server.set('ns=2;s=PS1.SumpLevel', 3.3);
  server.set('ns=2;s=PS2.Pump1.Running', false);
  server.set('ns=2;s=PS2.Fault', true);
  await waitFor('both changes', () => (a.values().sump_level === 3.3 && b.values().pump_1_running === false && b.values().fault === true ? true : undefined));
  t.equal(a.values().pump_1_running, true, "PS2's pump stopping is not PS1's");
  t.equal(b.values().sump_level, 2.5, "PS1's level is not PS2's");
  const pushed = a.all.filter((v) => v.point === 'sump_level').at(-1)!;
  t.match(applyProfile('ps1', station, [pushed], 1000), [{ point: 'sump_level', value: 3.3, unit: 'm', quality: 'good' }], 'through the profile step as a reading');

  await ps1.close();
  await waitFor("PS1's monitored items deleted on the server", () => (server.monitoredItemCount === 11 ? true : undefined));
  t.equal(driver.openLinks, 1, 'PS2 still holds the session');
  await ps2.close();
  t.equal(driver.openLinks, 0, 'the last device closed the client');
  await waitFor('the server to drop the session', () => (server.sessionCount === 0 ? true : undefined));
});

t.test('read is a Read service call; an unknown node is a bad reading naming the status, pushed or read', async (t) => {
  const driver = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI });
  const ps3 = driver.open(conn('PS3'));
  const bare = driver.open(conn(undefined));
  t.teardown(closeAll(ps3, bare));
  const before = server.requests.length;
  const raws = await ps3.read(station.points);
  t.same(Object.fromEntries(raws.map((r) => [r.point, r.ok ? r.value : r.reason])), INITIAL);
  const reads = server.requests.slice(before).filter((r) => r.type === 'ReadRequest');
  t.equal(reads.length, 1, 'all eleven points in one ReadRequest');
  t.same(reads[0]!.attributeIds, Array(11).fill(13), 'of the Value attribute');

  const ghost: Point = { name: 'ghost', type: 'number', opcua: { nodeId: 'ns=2;s={prefix}.Ghost' } };
  t.same(await ps3.read([ghost, point('sump_level')]), [
    { point: 'ghost', ok: false, reason: 'opcua_bad_node_id_unknown', unreachable: false },
    { point: 'sump_level', ok: true, value: 2.5 },
  ]);
  const c = collector();
  ps3.subscribe!([ghost, point('fault')], c.onValue);
  await waitFor('the ghost refused and the fault value', () => (c.latest.size === 2 ? true : undefined));
  t.same(c.latest.get('ghost'), { point: 'ghost', ok: false, reason: 'opcua_bad_node_id_unknown', unreachable: false }, 'not unreachable: the server answered');
  t.same(c.latest.get('fault'), { point: 'fault', ok: true, value: false });
  server.setStatus('ns=2;s=PS3.Fault', 'BadSensorFailure');
  await waitFor('the bad status pushed', () => (c.latest.get('fault')?.ok === false ? true : undefined));
  t.same(c.latest.get('fault'), { point: 'fault', ok: false, reason: 'opcua_bad_sensor_failure', unreachable: false }, 'a value the PLC does not vouch for');
  t.match(await ps3.read([point('fault')]), [{ reason: 'opcua_bad_sensor_failure' }], 'read says the same');
  server.set('ns=2;s=PS3.Fault', false);

  t.same(await bare.read([point('fault')]), [{ point: 'fault', ok: false, reason: 'no_node_prefix', unreachable: false }], 'a {prefix} node id needs the connection to set nodePrefix');
});

t.test('write goes out in the node data type, read once per node; refusals are clear', async (t) => {
  const driver = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI });
  const ps4 = driver.open(conn('PS4'));
  t.teardown(closeAll(ps4));
  const dataTypeReads = () => server.requests.filter((r) => r.type === 'ReadRequest' && r.attributeIds?.includes(14)).length;
  const before = dataTypeReads();
  await ps4.write(point('gate_setpoint'), 55.5);
  t.equal(server.get('ns=2;s=PS4.Gate.Setpoint'), 55.5, 'a number into a Float node');
  await ps4.write(point('gate_setpoint'), 60);
  t.equal(server.get('ns=2;s=PS4.Gate.Setpoint'), 60);
  t.equal(dataTypeReads() - before, 1, 'the DataType attribute was read once for two writes');
  t.same(await ps4.read([point('gate_setpoint')]), [{ point: 'gate_setpoint', ok: true, value: 60 }], 'reads back');

  const test = (nodeId: string, type: Point['type'] = 'number'): Point => ({ name: 'test', type, access: 'readwrite', opcua: { nodeId } });
  await ps4.write(test('ns=3;s=Test.Int16'), -1234);
  t.equal(server.get('ns=3;s=Test.Int16'), -1234, 'Int16');
  await ps4.write(test('ns=3;s=Test.Int64'), 2 ** 40);
  t.equal(fromHighLow(server.get('ns=3;s=Test.Int64') as [number, number], true), 2 ** 40, 'Int64');
  await ps4.write(test('ns=3;s=Test.Bool', 'boolean'), true);
  t.equal(server.get('ns=3;s=Test.Bool'), true, 'Boolean');

  await t.rejects(ps4.write(test('ns=3;s=Test.Int16'), 1.5), { code: 'GS_ERR_DRIVER_VALUE', message: /ns=3;s=Test\.Int16.*not a whole number/ });
  await t.rejects(ps4.write(test('ns=3;s=Test.Int16'), 40_000), { code: 'GS_ERR_DRIVER_VALUE', message: /outside -32768…32767/ });
  await t.rejects(ps4.write(point('sump_level'), 1), { code: 'GS_ERR_OPCUA_STATUS', reason: /^opcua_bad_(not_writable|user_access_denied)$/ }, 'a read-only node');
  await t.rejects(ps4.write(test('ns=2;s=PS4.Ghost'), 1), { code: 'GS_ERR_OPCUA_STATUS', reason: 'opcua_bad_node_id_unknown' });
  t.equal(server.get('ns=3;s=Test.Int16'), -1234, 'refused writes changed nothing');
});

t.test('SignAndEncrypt with a user name and password: read and subscribe over the encrypted channel', async (t) => {
  const driver = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI });
  t.same(driver.validateConnection(secure('PS3')), [], 'the secure connection is valid');
  const ps3 = driver.open(secure('PS3'));
  const anonymous = driver.open(conn('PS3'));
  t.teardown(closeAll(ps3, anonymous));
  t.equal(driver.openLinks, 2, 'another identity is another session');
  t.same(await ps3.read([point('sump_level')]), [{ point: 'sump_level', ok: true, value: 2.5 }]);
  const c = collector();
  ps3.subscribe!(station.points, c.onValue);
  await waitFor('every point pushed', () => (c.latest.size === 11 ? true : undefined));
  t.same(c.values(), INITIAL);
  t.same(server.sessions, [{ securityMode: 'SignAndEncrypt', user: 'edge' }], 'server side: encrypted, logged in as edge');
  t.ok(readdirSync(join(CLIENT_PKI, 'trusted', 'certs')).length >= 1, 'the server certificate was trusted on first contact');
  await anonymous.read([point('fault')]);
  t.same(server.sessions.map((s) => s.securityMode).sort(), ['None', 'SignAndEncrypt']);
});

t.test('a wrong password is refused with the status as reason: reads, writes and pushes say so', async (t) => {
  const driver = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI });
  const ps3 = driver.open(secure('PS3', { password: 'wrong' }));
  t.teardown(closeAll(ps3));
  const denied = { ok: false, reason: 'opcua_bad_user_access_denied', unreachable: true };
  t.same(await ps3.read([point('sump_level')]), [{ point: 'sump_level', ...denied }]);
  await t.rejects(ps3.write(point('gate_setpoint'), 10), { code: 'GS_ERR_OPCUA_SECURITY', reason: 'opcua_bad_user_access_denied' });
  const c = collector();
  ps3.subscribe!([point('fault')], c.onValue);
  await waitFor('the refusal pushed', () => c.latest.get('fault'));
  t.same(c.all, [{ point: 'fault', ...denied }], 'pushed once, as unreachable');
  t.equal(server.sessions.filter((s) => s.user === 'edge').length, 0, 'no session for the refused user');
});

t.test('a server certificate nobody trusted is refused and kept in rejected/', async (t) => {
  const pki = join(dir, 'fresh-pki');
  const ps3 = new OpcuaDriver(deps(), { pkiFolder: pki }).open(secure('PS3', { trustServerCertificate: false }));
  t.teardown(closeAll(ps3));
  t.same(await ps3.read([point('fault')]), [{ point: 'fault', ok: false, reason: 'opcua_bad_certificate_untrusted', unreachable: true }]);
  t.equal(readdirSync(join(pki, 'rejected')).length, 1, 'for a technician to move to trusted/certs');
});

t.test('nobody listening: connection_refused at once, for reads and pushes', async (t) => {
  const port = await freePort();
  const session = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI }).open({ protocol: 'opcua', endpoint: `opc.tcp://127.0.0.1:${port}/UA/PumpStation`, nodePrefix: 'PS1' });
  t.teardown(closeAll(session));
  t.same(await session.read([point('fault')]), [{ point: 'fault', ok: false, reason: 'connection_refused', unreachable: true }]);
  const c = collector();
  session.subscribe!([point('fault')], c.onValue);
  await waitFor('the refusal pushed', () => c.latest.get('fault'));
  t.same(c.latest.get('fault'), { point: 'fault', ok: false, reason: 'connection_refused', unreachable: true });
});

t.test('server stops: devices offline at once; server back on the same port: values flow again, same session', async (t) => {
  const port = await freePort();
  const options = { port, pkiFolder: SERVER_PKI, variables: [...PUMP_STATION('PS7'), ...PUMP_STATION('PS8')], nodeset: 'mini' as const };
  let plant = await new TestOpcuaServer(options).start();
  t.teardown(() => plant.stop());
  const driver = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI, reconnect: FAST_RECONNECT });
  const devices = ['PS7', 'PS8'].map((prefix) => {
    const connection = { protocol: 'opcua', endpoint: plant.endpoint, nodePrefix: prefix, publishingInterval: '100ms', samplingInterval: '100ms' };
    const session = driver.open(connection);
    const readings: Reading[] = [];
    const poller = new DevicePoller({
      device: { id: prefix.toLowerCase(), name: prefix, profile: station.id, connection, pollIntervalMs: 1000 },
      profile: station, session, clock: systemClock, scheduler: systemScheduler, logger: silentLogger(),
      onReadings: (r) => void readings.push(...r),
    });
    return { session, poller, readings };
  });
  t.teardown(async () => {
    for (const d of devices) {
      await d.poller.stop();
      await d.session.close();
    }
  });
  for (const d of devices) d.poller.start();
  await waitFor('both stations online', () => (devices.every((d) => d.poller.status().online) ? true : undefined));
  t.equal(plant.subscriptionCount, 1);

  await plant.stop();
  await waitFor('both stations offline', () => (devices.every((d) => !d.poller.status().online) ? true : undefined));
  for (const d of devices) {
    const lost = d.readings.filter((r) => r.quality === 'bad');
    t.equal(lost.length, 11, 'a bad reading per point');
    t.ok(lost.every((r) => r.reason === 'connection_lost'), 'reason connection_lost');
  }
  const marks = devices.map((d) => d.readings.length);

  plant = await new TestOpcuaServer(options).start();
  plant.set('ns=2;s=PS7.SumpLevel', 4.2);
  await waitFor('PS7 online again with the new level', () =>
    devices[0]!.poller.status().online && devices[0]!.readings.slice(marks[0]).some((r) => r.point === 'sump_level' && r.value === 4.2) ? true : undefined,
  );
  await waitFor('PS8 online again', () => (devices[1]!.poller.status().online ? true : undefined));
  t.ok(devices[1]!.readings.slice(marks[1]).some((r) => r.point === 'flow_rate' && r.value === 1250 && r.quality === 'good'), 'PS8 values flow');
  t.equal(plant.sessionCount, 1, 'the new server: one session');
  t.equal(plant.subscriptionCount, 1, 'one subscription, made again');
  t.equal(plant.monitoredItemCount, 22, 'every monitored item made again');
  t.equal(driver.openLinks, 1, 'the driver was not reopened');

  plant.set('ns=2;s=PS8.Fault', true);
  await waitFor('a later change on the new server', () => (devices[1]!.readings.some((r) => r.point === 'fault' && r.value === true) ? true : undefined));
});

t.test('a connection that goes silent without closing is noticed by the missing keep-alives, then rebuilt', async (t) => {
  const proxy = await new FreezingProxy(server.port).start();
  const driver = new OpcuaDriver(deps(), { pkiFolder: CLIENT_PKI, reconnect: FAST_RECONNECT });
  const ps3 = driver.open({ protocol: 'opcua', endpoint: proxy.endpoint(), nodePrefix: 'PS3', publishingInterval: '100ms', timeout: '1s' });
  t.teardown(async () => {
    await proxy.stop(); // first, so the frozen connection closes instead of waiting out its CloseSession
    await ps3.close();
  });
  const c = collector();
  ps3.subscribe!([point('fault'), point('sump_level')], c.onValue);
  await waitFor('the first values', () => (c.latest.size === 2 ? true : undefined));
  proxy.freeze();
  await waitFor('the silence noticed', () => c.all.find((v) => !v.ok && v.reason === 'keepalive_timeout'));
  t.same(c.latest.get('fault'), { point: 'fault', ok: false, reason: 'keepalive_timeout', unreachable: true }, 'unreachable, with why');
  // The monitored items are recreated one by one: wait for every point, not just the first back.
  await waitFor('values again over a new connection', () => (c.latest.get('fault')?.ok && c.latest.get('sump_level')?.ok ? true : undefined));
  t.same(c.values(), { fault: false, sump_level: 2.5 });
});

t.test('retries run on the injected scheduler: backed-off, capped, and the longest wait after a refused password', async (t) => {
  const scheduler = new ManualScheduler();
  const driver = new OpcuaDriver({ ...deps(), scheduler, random: () => 0.999 }, { pkiFolder: CLIENT_PKI, reconnect: { baseMs: 100, capMs: 400 } });
  const port = await freePort();
  const session = driver.open({ protocol: 'opcua', endpoint: `opc.tcp://127.0.0.1:${port}/UA/PumpStation`, nodePrefix: 'PS9' });
  t.teardown(closeAll(session));
  const c = collector();
  session.subscribe!([point('fault')], c.onValue);
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    // Each retry is a timer on our scheduler; firing it is the next connect attempt, refused again.
    // (A connect attempt in flight has its own, longer timers on the scheduler.)
    await waitFor(`retry timer ${i + 1}`, () => (scheduler.pending.length === 1 && scheduler.pending[0]! < 1000 ? true : undefined));
    delays.push(scheduler.fireNext()!);
  }
  t.same(delays, [99, 199, 399, 399], 'full jitter from 100 ms, doubling, capped at 400 ms');
  t.same(c.all, [{ point: 'fault', ok: false, reason: 'connection_refused', unreachable: true }], 'the device is told once, not on every retry');

  const variables = variablesFor(station.points, 'PS9', (p) => INITIAL[p.name as keyof typeof INITIAL]);
  const plant = await new TestOpcuaServer({ port, pkiFolder: SERVER_PKI, variables, nodeset: 'mini' }).start();
  t.teardown(() => plant.stop());
  await waitFor('the next retry timer', () => (scheduler.pending.length === 1 && scheduler.pending[0]! < 1000 ? true : undefined));
  scheduler.fireNext();
  await waitFor('values once the server is there', () => (c.latest.get('fault')?.ok ? true : undefined));
  t.same(c.latest.get('fault'), { point: 'fault', ok: true, value: false });

  const refused = driver.open(secure('PS3', { password: 'wrong' }));
  t.teardown(closeAll(refused));
  t.match(await refused.read([point('fault')]), [{ reason: 'opcua_bad_user_access_denied' }]);
  t.ok(scheduler.pending.includes(400), 'a refused password waits the cap before the next try');
});

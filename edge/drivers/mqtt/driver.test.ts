// The MQTT driver on its embedded broker, with real devices: Mosquitto's mosquitto_pub / mosquitto_sub
// and MQTT.js, over real sockets on 127.0.0.1 and a port the OS picks.
import t, { type Test } from 'tap';
import { connectAsync, type MqttClient } from 'mqtt';
import { systemClock } from '../../../contracts/clock.js';
import type { Reading } from '../../../contracts/reading.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { ProfileLibrary } from '../../../device-profiles/library.js';
import { MOSQUITTO_CLIENTS, MosquittoSub, hasMosquittoClients, mosquittoPub } from '../../../test/helpers/mosquitto.js';
import { needs, tcpReachable } from '../../../test/helpers/services.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { CapturedLog } from '../../broker/captured-log.js';
import { hashPassword } from '../../broker/password.js';
import type { DeviceConfig } from '../../config.js';
import { DevicePoller } from '../../poller.js';
import { systemScheduler } from '../../scheduler.js';
import type { RawPointValue, Session } from '../driver.js';
import { samplePayload, sampleRawValue } from './codec.js';
import { MqttDriver } from './driver.js';

const smoke = ProfileLibrary.load().get('generic/nb-smoke-detector');
const PASSWORD = 'nb-sd-pw';
// Cheap scrypt parameters: the test checks the path, not the cost.
const passwordHash = await hashPassword(PASSWORD, { N: 1024 });

function setup(t: Pick<Test, 'teardown'>) {
  const log = new CapturedLog();
  const deps = { clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: log.logger() };
  const driver = new MqttDriver(deps, { broker: { enabled: true, host: '127.0.0.1', port: 0, maxPayload: 4096 } });
  const sessions: Session[] = [];
  const clients: MqttClient[] = [];
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all(sessions.map((s) => s.close()));
  });
  const open = (deviceId: string, extra: object = {}) => {
    const s = driver.open({ protocol: 'mqtt', deviceId, username: deviceId, passwordHash, ...extra });
    sessions.push(s);
    return s;
  };
  const port = async () => String((await driver.embeddedBroker())!.address().port);
  const device = async (deviceId: string, opts: object = {}) => {
    const c = await connectAsync(`mqtt://127.0.0.1:${await port()}`, { username: deviceId, password: PASSWORD, clientId: deviceId, reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };
  return { log, deps, driver, open, port, device };
}

/** Everything a subscription pushes. */
function collect(session: Session, points: readonly Point[]): RawPointValue[] {
  const got: RawPointValue[] = [];
  session.subscribe!(points, (v) => void got.push(v));
  return got;
}

/** True once the session knows the device is there (connected, nothing published yet). */
async function isConnected(session: Session): Promise<true | undefined> {
  const [v] = await session.read(smoke.points.slice(0, 1));
  return v && !v.ok && !v.unreachable ? true : undefined;
}

const sampleValues = smoke.points.map((p) => ({ point: p.name, ok: true, value: sampleRawValue(p) }));

t.test('mosquitto_pub publishes an NB smoke detector message; every point is pushed and readable', async (t) => {
  if (!(await needs(t, MOSQUITTO_CLIENTS, hasMosquittoClients))) return;
  const { open, port } = setup(t);
  const session = open('sd-001');
  t.ok(smoke.points.every((p) => session.subscribes!(p)), 'every MQTT point is pushed, none polled');
  t.same(await session.read(smoke.points.slice(0, 1)), [{ point: 'event', ok: false, reason: 'no_data', unreachable: true }], 'before the device was ever seen: no data, not there');
  const got = collect(session, smoke.points);

  const r = await mosquittoPub(['-h', '127.0.0.1', '-p', await port(), '-u', 'sd-001', '-P', PASSWORD, '-i', 'sd-001', '-q', '1', '-t', 'devices/sd-001/telemetry', '-m', samplePayload(smoke.points).toString()]);
  t.equal(r.code, 0, r.stderr);
  await waitFor('all points pushed', () => (got.length === smoke.points.length ? true : undefined));
  t.same(got, sampleValues);
  t.same(await session.read(smoke.points), sampleValues, 'read answers from the last message');
  t.equal(session.busId, undefined, 'devices on the embedded broker share no link');
});

t.test('garbage payloads are bad readings with a reason and one logged GS_ERR_MQTT_PAYLOAD; the device and broker keep working', async (t) => {
  const { open, device, log } = setup(t);
  const session = open('sd-002');
  const density = smoke.points.find((p) => p.name === 'smoke_density')!;
  const battery = smoke.points.find((p) => p.name === 'battery_percent')!;
  const got = collect(session, [density, battery]);
  const dev = await device('sd-002');
  const send = async (payload: string | Buffer, n: number) => {
    const before = got.length;
    await dev.publishAsync('devices/sd-002/telemetry', payload, { qos: 1 });
    await waitFor(`${n} values`, () => (got.length === before + n ? true : undefined));
    return got.slice(before);
  };

  t.same(await send('\u0000\u00ff garbage', 2), [
    { point: 'smoke_density', ok: false, reason: 'bad_payload', unreachable: false },
    { point: 'battery_percent', ok: false, reason: 'bad_payload', unreachable: false },
  ], 'not JSON: both points bad, the device is still there');
  t.match(log.withCode('GS_ERR_MQTT_PAYLOAD'), [{ level: 'error', deviceId: 'sd-002', reason: 'bad_payload', topic: 'devices/sd-002/telemetry' }], 'one error line for the message');
  await send('still not json', 2);
  t.equal(log.withCode('GS_ERR_MQTT_PAYLOAD').length, 1, 'the same fault again is not logged again');

  t.same(await send('{"smoke":{"density":"high"}}', 2), [
    { point: 'smoke_density', ok: false, reason: 'type_mismatch', unreachable: false },
    { point: 'battery_percent', ok: false, reason: 'path_not_found', unreachable: false },
  ]);
  t.same(log.withCode('GS_ERR_MQTT_PAYLOAD').slice(1).map((l) => [l.point, l.reason]), [['smoke_density', 'type_mismatch'], ['battery_percent', 'path_not_found']]);
  t.same(await send('{"smoke":{"density":0.05},"battery":{"percent":87}}', 2), [
    { point: 'smoke_density', ok: true, value: 0.05 },
    { point: 'battery_percent', ok: true, value: 87 },
  ], 'a good message reads good again');
  t.ok(dev.connected, 'garbage did not cost the device its connection');
});

t.test('a device publishing on another device\'s topic is refused; the other device\'s readings are untouched', async (t) => {
  if (!(await needs(t, MOSQUITTO_CLIENTS, hasMosquittoClients))) return;
  const { open, port, log } = setup(t);
  const victim = open('sd-victim');
  open('sd-forger');
  const got = collect(victim, smoke.points);
  await mosquittoPub(['-h', '127.0.0.1', '-p', await port(), '-u', 'sd-forger', '-P', PASSWORD, '-q', '0', '-t', 'devices/sd-victim/telemetry', '-m', '{"smoke":{"alarm":true}}']);
  await waitFor('the refusal logged', () => log.withCode('GS_ERR_MQTT_ACL_DENIED')[0]);
  t.match(log.withCode('GS_ERR_MQTT_ACL_DENIED'), [{ deviceId: 'sd-forger', topic: 'devices/sd-victim/telemetry' }]);
  // The victim's own message goes through the same broker after the forged one.
  const r = await mosquittoPub(['-h', '127.0.0.1', '-p', await port(), '-u', 'sd-victim', '-P', PASSWORD, '-q', '1', '-t', 'devices/sd-victim/telemetry', '-m', '{"smoke":{"alarm":false}}']);
  t.equal(r.code, 0, r.stderr);
  await waitFor('the victim\'s own message', () => got.find((v) => v.point === 'smoke_alarm'));
  t.same(got.filter((v) => v.ok), [{ point: 'smoke_alarm', ok: true, value: false }], 'only the genuine alarm=false, never the forged true');
});

t.test('a wrong password is refused at CONNACK; the device stays unheard', async (t) => {
  if (!(await needs(t, MOSQUITTO_CLIENTS, hasMosquittoClients))) return;
  const { open, port, log } = setup(t);
  const session = open('sd-003');
  const r = await mosquittoPub(['-h', '127.0.0.1', '-p', await port(), '-u', 'sd-003', '-P', 'wrong', '-t', 'devices/sd-003/telemetry', '-m', '{"fault":true}']);
  t.not(r.code, 0);
  t.match(r.stderr, /bad user ?name or password/i);
  t.match(log.withCode('GS_ERR_MQTT_AUTH_REFUSED'), [{ username: 'sd-003', deviceId: 'sd-003', reason: 'bad_password' }]);
  t.same(await session.read(smoke.points.slice(3, 4)), [{ point: 'fault', ok: false, reason: 'no_data', unreachable: true }]);
});

t.test('last will: a device killed mid-session is pushed offline at once, and comes back with its next message', async (t) => {
  if (!(await needs(t, MOSQUITTO_CLIENTS, hasMosquittoClients))) return;
  const { open, port, deps } = setup(t);
  const dev: DeviceConfig = { id: 'sd-004', name: 'smoke', profile: smoke.id, connection: { protocol: 'mqtt', deviceId: 'sd-004', username: 'sd-004', passwordHash }, pollIntervalMs: 60_000 };
  const session = open('sd-004');
  const pushed: Reading[] = [];
  const poller = new DevicePoller({ device: dev, profile: smoke, session, ...deps, onReadings: (r) => void pushed.push(...r) });
  poller.start();
  t.teardown(() => poller.stop());

  // A device that stays connected, with a last will, listening for commands: mosquitto_sub.
  const p = await port();
  const sub = new MosquittoSub(['-h', '127.0.0.1', '-p', p, '-u', 'sd-004', '-P', PASSWORD, '-i', 'sd-004', '-t', 'devices/sd-004/cmd/#', '--will-topic', 'devices/sd-004/status', '--will-payload', 'offline', '--will-qos', '1']);
  t.teardown(() => sub.kill());
  const hello = () => mosquittoPub(['-h', '127.0.0.1', '-p', p, '-u', 'sd-004', '-P', PASSWORD, '-i', 'sd-004-pub', '-q', '1', '-t', 'devices/sd-004/telemetry', '-m', samplePayload(smoke.points).toString()]);
  await waitFor('the device connected', () => isConnected(session));
  await hello();
  await waitFor('online', () => (poller.status().online ? true : undefined));

  const before = pushed.length;
  await sub.kill();
  await waitFor('offline', () => (poller.status().online ? undefined : true));
  const after = pushed.slice(before);
  t.equal(after.length, smoke.points.length, 'one bad reading per point');
  t.ok(after.every((r) => r.quality === 'bad' && r.reason === 'last_will'), 'reason last_will');
  t.same(await session.read(smoke.points.slice(1, 2)), [{ point: 'smoke_alarm', ok: false, reason: 'last_will', unreachable: true }], 'read says so too, not the stale value');
  await t.rejects(session.write(smoke.points[0]!, 'x'), { code: 'GS_ERR_DEVICE_UNREACHABLE' }, 'no command to a device that is gone');

  await hello();
  await waitFor('online again', () => (poller.status().online ? true : undefined));
  t.ok((await session.read(smoke.points)).every((v) => v.ok), 'fresh values');
});

t.test('write publishes the command under <root>cmd/<point>', async (t) => {
  const { open, device } = setup(t);
  const session = open('sd-005');
  const dev = await device('sd-005');
  await dev.subscribeAsync('devices/sd-005/cmd/#', { qos: 1 });
  const commands: Array<[string, string]> = [];
  dev.on('message', (topic, payload) => void commands.push([topic, payload.toString()]));
  await waitFor('the device is connected', () => isConnected(session));
  const silence: Point = { name: 'silence', type: 'boolean', access: 'write', mqtt: { topic: 'cmd', json: 'silence.on' } };
  await session.write(silence, true);
  await waitFor('the command', () => commands[0]);
  t.same(commands, [['devices/sd-005/cmd/silence', '{"silence":{"on":true}}']]);
});

t.test('the broker starts with the first session and stops with the last', async (t) => {
  const { driver, open } = setup(t);
  t.equal(await driver.embeddedBroker(), undefined, 'no session, no broker');
  const a = open('sd-a');
  const b = open('sd-b');
  const broker = (await driver.embeddedBroker())!;
  const { port } = broker.address();
  t.ok(await tcpReachable('127.0.0.1', port), 'listening');
  await a.close();
  t.ok(await tcpReachable('127.0.0.1', port), 'still listening for sd-b');
  await b.close();
  t.equal(await driver.embeddedBroker(), undefined);
  t.notOk(await tcpReachable('127.0.0.1', port), 'closed with the last session');
  await t.rejects(a.read(smoke.points), { code: 'GS_ERR_DRIVER_CLOSED' });
  t.throws(() => open('sd-c', { username: 'sd-d' }) && open('sd-d'), { code: 'GS_ERR_MQTT_ACCOUNT_CONFLICT' }, 'two devices, one username');
});

// The embedded broker against real clients on a real socket: MQTT.js and Mosquitto's mosquitto_pub.
import t, { type Test } from 'tap';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { MOSQUITTO_CLIENTS, hasMosquittoClients, mosquittoPub } from '../../test/helpers/mosquitto.js';
import { needs } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';
import { EdgeBroker, type DeviceEvents, type OfflineReason } from './broker.js';
import { CapturedLog } from './captured-log.js';
import { DEFAULT_BROKER_HOST, DEFAULT_BROKER_PORT, resolveMqttSection } from './config.js';
import { hashPassword } from './password.js';

/** What a device's listener heard; `events` is what the broker calls. */
class Heard {
  messages: Array<{ topic: string; payload: string }> = [];
  connects = 0;
  drops: OfflineReason[] = [];
  readonly events: DeviceEvents = {
    message: (topic, payload) => void this.messages.push({ topic, payload: payload.toString() }),
    connected: () => void this.connects++,
    offline: (r) => void this.drops.push(r),
  };
}
const listener = () => new Heard();

async function startBroker(t: Pick<Test, 'teardown'>, maxPayload = 1024) {
  const log = new CapturedLog();
  const broker = new EdgeBroker({ host: '127.0.0.1', port: 0, maxPayload, logger: log.logger() });
  await broker.start();
  t.teardown(() => broker.stop());
  const url = `mqtt://127.0.0.1:${broker.address().port}`;
  const clients: MqttClient[] = [];
  t.teardown(() => Promise.all(clients.map((c) => c.endAsync(true))));
  const connect = async (opts: IClientOptions) => {
    const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    clients.push(c);
    return c;
  };
  return { broker, log, url, connect };
}

const passwordHash = await hashPassword('pw-001', { N: 1024 });

t.test('defaults: 127.0.0.1:1884, never 1883', async (t) => {
  t.same(resolveMqttSection(undefined).broker, { enabled: true, host: DEFAULT_BROKER_HOST, port: DEFAULT_BROKER_PORT, maxPayload: 262144 });
  t.equal(DEFAULT_BROKER_PORT, 1884);
  t.equal(resolveMqttSection({ broker: { port: 0, host: '0.0.0.0' } }).broker.port, 0);
});

t.test('a device logs in with its hashed password and its messages reach its listener', async (t) => {
  const { broker, connect } = await startBroker(t);
  const l = listener();
  broker.attach({ deviceId: 'sd-001', username: 'sd-001', secret: { passwordHash }, root: 'devices/sd-001/' }, l.events);
  const dev = await connect({ username: 'sd-001', password: 'pw-001', clientId: 'sd-001' });
  await waitFor('connected', () => (l.connects === 1 ? true : undefined));
  t.ok(broker.isConnected('sd-001'));
  await dev.publishAsync('devices/sd-001/telemetry', '{"smoke":{"alarm":false}}', { qos: 1 });
  await waitFor('message', () => l.messages[0]);
  t.same(l.messages, [{ topic: 'devices/sd-001/telemetry', payload: '{"smoke":{"alarm":false}}' }]);

  await dev.endAsync();
  await waitFor('gone', () => (broker.isConnected('sd-001') ? undefined : true));
  t.same(l.drops, [], 'a clean DISCONNECT (a sensor going to sleep) is not offline');
});

t.test('mosquitto_pub logs in and publishes; wrong or unknown credentials are refused at CONNACK', async (t) => {
  if (!(await needs(t, MOSQUITTO_CLIENTS, hasMosquittoClients))) return;
  const { broker, log } = await startBroker(t);
  const l = listener();
  broker.attach({ deviceId: 'sd-002', username: 'u-sd-002', secret: { passwordHash }, root: 'devices/sd-002/' }, l.events);
  const port = String(broker.address().port);
  const pub = (user: string, pw: string, topic = 'devices/sd-002/telemetry') =>
    mosquittoPub(['-h', '127.0.0.1', '-p', port, '-u', user, '-P', pw, '-i', `pub-${user}`, '-q', '1', '-t', topic, '-m', '{"fault":true}']);

  const ok = await pub('u-sd-002', 'pw-001');
  t.equal(ok.code, 0, ok.stderr);
  await waitFor('message', () => l.messages[0]);
  t.same(l.messages[0], { topic: 'devices/sd-002/telemetry', payload: '{"fault":true}' });

  const wrong = await pub('u-sd-002', 'guess');
  t.not(wrong.code, 0, 'wrong password: mosquitto_pub fails');
  t.match(wrong.stderr, /bad user ?name or password/i);
  const unknown = await pub('nobody', 'pw-001');
  t.not(unknown.code, 0, 'unknown user: mosquitto_pub fails');
  t.match(unknown.stderr, /not authori[sz]ed/i);
  t.equal(l.messages.length, 1, 'nothing from refused logins');
  t.same(log.withCode('GS_ERR_MQTT_AUTH_REFUSED').map((x) => x.reason), ['bad_password', 'unknown_user'], 'both refusals logged with their code');
});

t.test('MQTT.js sees the CONNACK return codes: 4 bad password, 5 not authorized', async (t) => {
  const { broker, connect } = await startBroker(t);
  broker.attach({ deviceId: 'sd-003', username: 'sd-003', secret: { password: 'plain-pw' }, root: 'devices/sd-003/' }, listener().events);
  await t.rejects(connect({ username: 'sd-003', password: 'nope' }), { code: 4 });
  await t.rejects(connect({ username: 'ghost', password: 'plain-pw' }), { code: 5 });
  await t.rejects(connect({}), { code: 5 }, 'no username at all');
  const ok = await connect({ username: 'sd-003', password: 'plain-pw' });
  t.ok(ok.connected, 'a plain password from edge.yaml works too');
});

t.test("a device publishing on another device's topic is refused and cut off; the other device hears nothing", async (t) => {
  const { broker, log, connect } = await startBroker(t);
  const a = listener();
  const b = listener();
  broker.attach({ deviceId: 'a', username: 'a', secret: { password: 'pa' }, root: 'devices/a/' }, a.events);
  broker.attach({ deviceId: 'b', username: 'b', secret: { password: 'pb' }, root: 'devices/b/' }, b.events);
  const devB = await connect({ username: 'b', password: 'pb', clientId: 'b' });
  const got: string[] = [];
  devB.on('message', (topic) => got.push(topic));
  const [grant] = await devB.subscribeAsync('devices/b/cmd/#', { qos: 1 });
  t.equal(grant!.qos, 1, 'own command topics: granted');
  const refused = await devB.subscribeAsync('devices/a/#', { qos: 1 }).then(() => undefined, (err: { packet?: { granted?: number[] } }) => err);
  t.same(refused?.packet?.granted, [128], "another device's topics: subscription refused (0x80)");

  const devA = await connect({ username: 'a', password: 'pa', clientId: 'a' });
  const closed = new Promise<void>((r) => devA.once('close', () => r()));
  devA.publish('devices/b/telemetry', '{"forged":true}', { qos: 1 });
  await closed;
  t.pass('the broker closed the forger\'s connection (MQTT-3.3.5-2)');
  t.match(log.withCode('GS_ERR_MQTT_ACL_DENIED'), [{ filter: 'devices/a/#' }, { deviceId: 'a', topic: 'devices/b/telemetry' }]);

  // A marker through the same broker shows anything forged would have arrived by now.
  await broker.publish('devices/b/cmd/ping', Buffer.from('1'));
  await waitFor('marker', () => (got.includes('devices/b/cmd/ping') ? true : undefined));
  t.same(b.messages, [], 'no forged reading reached device b');
  t.same(got, ['devices/b/cmd/ping']);
  t.same(a.drops, ['disconnected'], 'being cut off is an unclean disconnect');
});

t.test('an unclean disconnect is offline: last_will with a will, disconnected without; the will is no reading', async (t) => {
  const { broker, connect } = await startBroker(t);
  const l = listener();
  broker.attach({ deviceId: 'w', username: 'w', secret: { passwordHash }, root: 'devices/w/' }, l.events);
  const withWill = await connect({ username: 'w', password: 'pw-001', clientId: 'w1', will: { topic: 'devices/w/status', payload: Buffer.from('offline'), qos: 1, retain: false } });
  await waitFor('connected', () => (l.connects === 1 ? true : undefined));
  withWill.stream.destroy();
  await waitFor('offline', () => l.drops[0]);
  t.same(l.drops, ['last_will']);

  const noWill = await connect({ username: 'w', password: 'pw-001', clientId: 'w2' });
  await waitFor('connected again', () => (l.connects === 2 ? true : undefined));
  noWill.stream.destroy();
  await waitFor('offline again', () => l.drops[1]);
  t.same(l.drops, ['last_will', 'disconnected']);
  t.same(l.messages, [], 'the will payload is not delivered as a reading');
});

t.test('a payload over maxPayload is refused and logged; the device may reconnect', async (t) => {
  const { broker, log, connect } = await startBroker(t, 100);
  const l = listener();
  broker.attach({ deviceId: 'big', username: 'big', secret: { password: 'p' }, root: 'devices/big/' }, l.events);
  const dev = await connect({ username: 'big', password: 'p' });
  const closed = new Promise<void>((r) => dev.once('close', () => r()));
  dev.publish('devices/big/t', Buffer.alloc(500, 'x'), { qos: 1 });
  await closed;
  t.match(log.withCode('GS_ERR_MQTT_PAYLOAD_TOO_LARGE'), [{ deviceId: 'big', size: 500, maxPayload: 100 }]);
  const again = await connect({ username: 'big', password: 'p' });
  await again.publishAsync('devices/big/t', 'small', { qos: 1 });
  await waitFor('small message', () => l.messages[0]);
  t.same(l.messages, [{ topic: 'devices/big/t', payload: 'small' }]);

  const huge = await connect({ username: 'big', password: 'p' });
  const hugeClosed = new Promise<void>((r) => huge.once('close', () => r()));
  huge.publish('devices/big/t', Buffer.alloc(300_000), { qos: 0 });
  await hugeClosed;
  t.ok(log.withCode('GS_ERR_MQTT_PAYLOAD_TOO_LARGE').some((x) => x.announced !== undefined), 'a huge packet is cut off from its header, before aedes buffers it');
});

t.test('detaching the last listener of a device removes its login and closes its connection', async (t) => {
  const { broker, connect } = await startBroker(t);
  const detach = broker.attach({ deviceId: 'd', username: 'd', secret: { password: 'p' }, root: 'devices/d/' }, listener().events);
  const dev = await connect({ username: 'd', password: 'p' });
  const closed = new Promise<void>((r) => dev.once('close', () => r()));
  detach();
  await closed;
  await t.rejects(connect({ username: 'd', password: 'p' }), { code: 5 }, 'no longer a known device');
});

t.test('a username or root of another device is a conflict', async (t) => {
  const broker = new EdgeBroker({ host: '127.0.0.1', port: 0, maxPayload: 100, logger: new CapturedLog().logger() });
  broker.attach({ deviceId: 'x', username: 'shared', secret: { password: 'p' }, root: 'devices/x/' }, listener().events);
  t.throws(() => broker.attach({ deviceId: 'y', username: 'shared', secret: { password: 'p' }, root: 'devices/y/' }, listener().events), { code: 'GS_ERR_MQTT_ACCOUNT_CONFLICT' });
  t.throws(() => broker.attach({ deviceId: 'y', username: 'y', secret: { password: 'p' }, root: 'devices/x/' }, listener().events), { code: 'GS_ERR_MQTT_ACCOUNT_CONFLICT' });
  t.doesNotThrow(() => broker.attach({ deviceId: 'x', username: 'shared', secret: { password: 'p' }, root: 'devices/x/' }, listener().events), 'the same device twice is fine');
});

t.test('a busy port is a GS_ERR_MQTT_BROKER error naming the address', async (t) => {
  const { broker } = await startBroker(t);
  const second = new EdgeBroker({ host: '127.0.0.1', port: broker.address().port, maxPayload: 100, logger: new CapturedLog().logger() });
  await t.rejects(second.start(), { code: 'GS_ERR_MQTT_BROKER', message: new RegExp(`127.0.0.1:${broker.address().port}`) });
  await second.stop();
});

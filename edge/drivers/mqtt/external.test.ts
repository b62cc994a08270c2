// The MQTT driver through an existing broker: a real Mosquitto of the test's own (temp config, 127.0.0.1,
// a free port, never 1883) with logins and an ACL, MQTT 5 devices (MQTT.js and mosquitto_pub -V mqttv5).
import t, { type Test } from 'tap';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { systemClock } from '../../../contracts/clock.js';
import { ProfileLibrary } from '../../../device-profiles/library.js';
import { MOSQUITTO_BROKER, MosquittoBroker, hasMosquittoBroker, hasMosquittoClients, mosquittoPub } from '../../../test/helpers/mosquitto.js';
import { needs } from '../../../test/helpers/services.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { CapturedLog } from '../../broker/captured-log.js';
import { systemScheduler } from '../../scheduler.js';
import type { RawPointValue, Session } from '../driver.js';
import { samplePayload, sampleRawValue } from './codec.js';
import { MqttDriver } from './driver.js';

const smoke = ProfileLibrary.load().get('generic/nb-smoke-detector');
const USERS = [
  { username: 'edge-qq', password: 'edge-pw' },
  { username: 'sd-m5', password: 'pw-m5' },
  { username: 'sd-m4', password: 'pw-m4' },
];
// Mosquitto's ACL: the edge reads every device and writes their commands; a device owns its own root.
const ACL = ['user edge-qq', 'topic read devices/#', 'topic write devices/+/cmd/#', 'pattern readwrite devices/%u/#'];

async function setup(t: Pick<Test, 'teardown'>, edge: { password?: string } = {}) {
  const mosquitto = await new MosquittoBroker({ users: USERS, acl: ACL }).start();
  const log = new CapturedLog();
  const driver = new MqttDriver({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: log.logger() });
  const sessions: Session[] = [];
  const clients: MqttClient[] = [];
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await Promise.all(sessions.map((s) => s.close()));
    await mosquitto.stop();
  });
  const open = (deviceId: string) => {
    const s = driver.open({ protocol: 'mqtt', deviceId, broker: mosquitto.url, username: 'edge-qq', password: edge.password ?? 'edge-pw', protocolVersion: 5 });
    sessions.push(s);
    return s;
  };
  const device = async (username: string, opts: IClientOptions = {}) => {
    const c = await connectAsync(mosquitto.url, { username, password: USERS.find((u) => u.username === username)!.password, clientId: username, protocolVersion: 5, reconnectPeriod: 0, ...opts });
    clients.push(c);
    return c;
  };
  return { mosquitto, log, driver, open, device };
}

function collect(session: Session): RawPointValue[] {
  const got: RawPointValue[] = [];
  session.subscribe!(smoke.points, (v) => void got.push(v));
  return got;
}

/** Publishes until the edge hears it: the edge's subscription is made asynchronously after open(). */
async function publishUntilHeard(send: () => Promise<unknown>, got: RawPointValue[]): Promise<void> {
  const before = got.length;
  await waitFor('the edge to hear the device', async () => {
    await send();
    await new Promise((r) => setTimeout(r, 100));
    return got.length > before ? true : undefined;
  }, 15_000, 0);
}

const payload = samplePayload(smoke.points);
const sampleValues = smoke.points.map((p) => ({ point: p.name, ok: true, value: sampleRawValue(p) }));

t.test('MQTT 5 devices through Mosquitto: values pushed, one shared link, last will pushed offline', async (t) => {
  if (!(await needs(t, MOSQUITTO_BROKER, hasMosquittoBroker))) return;
  const { mosquitto, driver, open, device } = await setup(t);
  const m5 = open('sd-m5');
  const m4 = open('sd-m4');
  t.equal(driver.openLinks, 1, 'two devices behind one broker: one client of the edge');
  t.equal(m5.busId, `bus:${mosquitto.url}`, 'they share bus health');
  const got5 = collect(m5);
  const got4 = collect(m4);

  const dev = await device('sd-m5', { will: { topic: 'devices/sd-m5/status', payload: Buffer.from('offline'), qos: 1, retain: true } });
  await publishUntilHeard(() => dev.publishAsync('devices/sd-m5/telemetry', payload, { qos: 1, properties: { contentType: 'application/json' } }), got5);
  await waitFor('every point', () => (got5.length >= smoke.points.length ? true : undefined));
  t.same(got5.slice(-smoke.points.length), sampleValues, 'an MQTT 5 publish with properties decodes like any other');
  t.same(got4, [], 'the other device heard nothing');

  // Mosquitto's own MQTT 5 client as the second device.
  if (hasMosquittoClients()) {
    const pub = () => mosquittoPub(['-h', '127.0.0.1', '-p', String(mosquitto.port), '-V', 'mqttv5', '-u', 'sd-m4', '-P', 'pw-m4', '-q', '1', '-t', 'devices/sd-m4/telemetry', '-m', '{"fault":true,"tamper":false}']);
    const r = await pub();
    t.equal(r.code, 0, r.stderr);
    await waitFor('sd-m4 values', () => got4.find((v) => v.point === 'fault' && v.ok));
    t.same(got4.find((v) => v.point === 'fault'), { point: 'fault', ok: true, value: true });
  }

  const before = got5.length;
  dev.stream.destroy();
  await waitFor('last will pushed', () => (got5.length >= before + smoke.points.length ? true : undefined));
  t.ok(got5.slice(before).every((v) => !v.ok && v.reason === 'last_will' && v.unreachable), 'every point: last_will, unreachable');
  t.same(await m5.read(smoke.points.slice(0, 1)), [{ point: 'event', ok: false, reason: 'last_will', unreachable: true }]);
  t.notOk(got4.some((v) => !v.ok && v.reason === 'last_will'), 'sd-m4 is not affected');
});

t.test('commands reach the device through Mosquitto; a forged publish is dropped by Mosquitto\'s ACL', async (t) => {
  if (!(await needs(t, MOSQUITTO_BROKER, hasMosquittoBroker))) return;
  const { open, device } = await setup(t);
  const m5 = open('sd-m5');
  const got = collect(m5);
  const dev = await device('sd-m5');
  const forger = await device('sd-m4');
  await dev.subscribeAsync('devices/sd-m5/cmd/#', { qos: 1 });
  const commands: string[] = [];
  dev.on('message', (topic, p) => void commands.push(`${topic} ${p.toString()}`));
  await publishUntilHeard(() => dev.publishAsync('devices/sd-m5/telemetry', '{"fault":false}', { qos: 1 }), got);

  await m5.write({ name: 'self_test', type: 'boolean', mqtt: { topic: 'cmd', json: 'selfTest' } }, true);
  await waitFor('the command', () => commands[0]);
  t.same(commands, ['devices/sd-m5/cmd/self_test {"selfTest":true}']);

  const before = got.length;
  await t.rejects(forger.publishAsync('devices/sd-m5/telemetry', '{"fault":true}', { qos: 1 }), { code: 135 }, 'Mosquitto answers PUBACK 0x87 not authorized (MQTT 5)');
  await dev.publishAsync('devices/sd-m5/telemetry', '{"fault":false}', { qos: 1 });
  await waitFor('the genuine message', () => (got.length > before ? true : undefined));
  t.same(got.slice(before).filter((v) => v.point === 'fault'), [{ point: 'fault', ok: true, value: false }], 'only the genuine value');
});

t.test('Mosquitto going away pushes broker_disconnected; when it is back the values flow again', async (t) => {
  if (!(await needs(t, MOSQUITTO_BROKER, hasMosquittoBroker))) return;
  const { mosquitto, open, device, log } = await setup(t);
  const m5 = open('sd-m5');
  const got = collect(m5);
  const dev = await device('sd-m5');
  await publishUntilHeard(() => dev.publishAsync('devices/sd-m5/telemetry', '{"fault":false}', { qos: 1 }), got);

  const before = got.length;
  await mosquitto.stop();
  await waitFor('broker_disconnected', () => (got.length >= before + smoke.points.length ? true : undefined));
  t.ok(got.slice(before).every((v) => !v.ok && v.reason === 'broker_disconnected' && v.unreachable));
  t.match(log.withCode('GS_ERR_MQTT_BROKER'), [{ level: 'warn', msg: /connection lost/ }]);
  await t.rejects(m5.write(smoke.points[0]!, 'x'), { code: 'GS_ERR_DEVICE_UNREACHABLE' });

  await mosquitto.start();
  const again = await device('sd-m5');
  const back = got.length;
  await publishUntilHeard(() => again.publishAsync('devices/sd-m5/telemetry', '{"fault":true}', { qos: 1 }), got);
  t.same(got.slice(back).find((v) => v.point === 'fault'), { point: 'fault', ok: true, value: true }, 'the edge reconnected and resubscribed on its own');
});

t.test('the edge\'s own wrong password: logged once, devices unreachable, nothing crashes', async (t) => {
  if (!(await needs(t, MOSQUITTO_BROKER, hasMosquittoBroker))) return;
  const { mosquitto, open, log } = await setup(t, { password: 'wrong' });
  const m5 = open('sd-m5');
  const got = collect(m5);
  await waitFor('the refusal', () => log.withCode('GS_ERR_MQTT_BROKER').find((l) => l.level === 'error'));
  t.match(log.withCode('GS_ERR_MQTT_BROKER').find((l) => l.level === 'error'), { err: /not authori[sz]ed/i, reasonCode: 135 });
  await waitFor('unreachable pushed', () => got[0]);
  t.match(got[0], { ok: false, reason: 'broker_disconnected', unreachable: true });
  // MQTT.js retries the refused login; each retry must not add a log line or another push.
  await waitFor('a retry', () => (/not authori[sz]ed[\s\S]*not authori[sz]ed/i.test(mosquitto.log) ? true : undefined));
  t.equal(log.withCode('GS_ERR_MQTT_BROKER').filter((l) => l.level === 'error').length, 1, 'logged once');
  t.equal(got.length, smoke.points.length, 'pushed once');
});

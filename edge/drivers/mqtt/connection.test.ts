import t from 'tap';
import { silentLogger } from '../../log.js';
import { systemClock } from '../../../contracts/clock.js';
import { systemScheduler } from '../../scheduler.js';
import { defaultDrivers } from '../index.js';
import { resolveMqtt } from './connection.js';
import { MqttDriver } from './driver.js';
import { parseStatus } from './status.js';

const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleWZhaw==';
const deps = { clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() };
const driver = new MqttDriver(deps);
const problems = (conn: object) => driver.validateConnection({ protocol: 'mqtt', ...conn }).map((d) => `${d.path}: ${d.message}`);

t.test('the driver is registered for protocol mqtt', async (t) => {
  t.ok(defaultDrivers().has('mqtt'));
  t.equal(defaultDrivers().get('mqtt').profileProtocol, 'mqtt');
});

t.test('embedded broker: the device\'s username and exactly one of passwordHash / password', async (t) => {
  t.same(problems({ username: 'sd-1', passwordHash: HASH }), []);
  t.same(problems({ username: 'sd-1', password: 'pw', broker: 'embedded', topicRoot: 'town/qq/sd-1/', statusTopic: 'state/lwt', qos: 0 }), []);
  t.match(problems({ passwordHash: HASH }), [/^\/username: /]);
  t.match(problems({ username: 'sd-1' }), [/^: .*exactly one of "passwordHash"/]);
  t.match(problems({ username: 'sd-1', password: 'a', passwordHash: HASH }), [/exactly one/]);
  t.match(problems({ username: 'sd-1', password: 'a', protocolVersion: 5 }), [/^\/protocolVersion: applies to an external broker only/]);
  t.match(problems({ username: 'sd-1', passwordHash: 'md5:abc' }), [/^\/passwordHash: /]);
  t.match(problems({ username: 'sd-1', password: 'a', topicRoot: 'devices/+/' }), [/^\/topicRoot: /]);
  t.match(problems({ username: 'sd-1', password: 'a', topicRoot: 'devices/sd-1' }), [/^\/topicRoot: .*ending in "\/"/]);
  t.match(problems({ username: 'sd-1', password: 'a', statusTopic: '/status' }), [/^\/statusTopic: /]);
  t.match(problems({ username: 'sd-1', password: 'a', colour: 'red' }), [/^\/colour: is not a known field/]);
});

t.test('external broker: the edge\'s own login, MQTT 3.1.1 or 5', async (t) => {
  t.same(problems({ broker: 'mqtt://127.0.0.1:1883' }), [], 'anonymous');
  t.same(problems({ broker: 'mqtts://broker.county.gov.cn:8883/', username: 'edge-qq', password: 'x', clientId: 'edge-qq', protocolVersion: 5, caFile: '/etc/ca.pem' }), []);
  t.match(problems({ broker: 'mqtt://h:1883', username: 'e', passwordHash: HASH }), [/^\/passwordHash: an external broker needs the edge's own password/]);
  t.match(problems({ broker: 'mqtt://h:1883', password: 'x' }), [/^\/username: /]);
  t.match(problems({ broker: 'mqtt://h:1883', caFile: '/ca.pem' }), [/^\/caFile: applies to mqtts/]);
  t.match(problems({ broker: 'http://h:1883' }), [/^\/broker: /]);
  t.match(problems({ broker: 'mqtt://h:1883', protocolVersion: 3 }), [/^\/protocolVersion: /]);
});

t.test('defaults: root devices/<deviceId>/, status topic, QoS 1, MQTT 3.1.1', async (t) => {
  t.same(resolveMqtt({ protocol: 'mqtt', deviceId: 'sd-1', username: 'u1', passwordHash: HASH }), {
    deviceId: 'sd-1', root: 'devices/sd-1/', statusTopic: 'status', qos: 1, broker: 'embedded', username: 'u1', secret: { passwordHash: HASH },
  });
  t.match(resolveMqtt({ protocol: 'mqtt', username: 'sd-2', password: 'p' }), { deviceId: 'sd-2', root: 'devices/sd-2/' }, 'without deviceId the username stands in');
  t.same(resolveMqtt({ protocol: 'mqtt', deviceId: 'sd-3', broker: 'mqtt://127.0.0.1:1883/' }), {
    deviceId: 'sd-3', root: 'devices/sd-3/', statusTopic: 'status', qos: 1, broker: 'external', url: 'mqtt://127.0.0.1:1883', protocolVersion: 4,
  });
});

t.test('a disabled embedded broker is a config error for devices that need it', async (t) => {
  const off = new MqttDriver(deps, { broker: { enabled: false, host: '127.0.0.1', port: 1884, maxPayload: 1024 } });
  t.match(off.validateConnection({ protocol: 'mqtt', username: 'u', password: 'p' }), [{ path: '/broker', message: /disabled/ }]);
  t.same(off.validateConnection({ protocol: 'mqtt', broker: 'mqtt://127.0.0.1:1883' }), []);
});

t.test('status payloads', async (t) => {
  const s = (x: string) => parseStatus(Buffer.from(x));
  t.equal(s('offline'), 'offline');
  t.equal(s(' Online\n'), 'online');
  t.equal(s('{"online":false}'), 'offline');
  t.equal(s('{"status":"OFFLINE"}'), 'offline');
  t.equal(s('{"state":"online"}'), 'online');
  t.equal(s('{"temperature":3}'), undefined);
  t.equal(s('{broken'), undefined);
  t.equal(s('1'), undefined);
});

// An NB-IoT smoke alarm on the edge's embedded MQTT broker, end to end: the real agent starts the
// broker from edge.yaml, Mosquitto's own client publishes as the device, the reading reaches the
// agent; the device's connection dies with a last will and the county gets a 公共设施 device_offline
// event; it reconnects and the event clears.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { stringify as toYaml } from 'yaml';
import { EdgeAgent } from '../../edge/agent.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { silentLogger } from '../../edge/log.js';
import { hashPassword } from '../../edge/broker/password.js';
import { hasMosquittoClients, MOSQUITTO_CLIENTS, mosquittoPub } from '../helpers/mosquitto.js';
import { freePort, needs } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { getJson, startCounty, type EventJson } from './county.js';

t.test('a smoke alarm publishing to the embedded broker; its last will is a device_offline event', async (t) => {
  if (!(await needs(t, MOSQUITTO_CLIENTS, hasMosquittoClients))) return;
  const county = await startCounty();
  t.teardown(() => county.close());
  const port = await freePort();
  const file = join(county.dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-qingquan', dataDir: './edge-data' },
    cloud: { url: county.url, token: county.edgeToken },
    mqtt: { broker: { host: '127.0.0.1', port } },
    devices: [{
      id: 'sd-001',
      profile: 'generic/nb-smoke-detector',
      connection: { protocol: 'mqtt', username: 'sd-001', passwordHash: await hashPassword('s3cret') },
      location: { lon: 101.04, lat: 38.8 },
      pollInterval: '1s',
    }],
  }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());

  const payload = JSON.stringify({ event: 'heartbeat', smoke: { alarm: false, density: 0.01 }, fault: false, tamper: false, temperature: 21.5, battery: { percent: 88, voltage: 3.1 }, signal: { rsrp: -92 } });
  await waitFor('the broker to accept the device', async () => {
    const r = await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-u', 'sd-001', '-P', 's3cret', '-i', 'sd-001-pub', '-t', 'devices/sd-001/telemetry', '-q', '1', '-m', payload]);
    return r.code === 0 ? true : undefined;
  });
  await waitFor('the device online', () => (agent.status().devices[0]?.health === 'online' ? true : undefined));
  t.ok(agent.status().devices[0]!.pushed > 0, 'the reading came by push');

  const forged = await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-u', 'sd-001', '-P', 'wrong', '-t', 'devices/sd-001/telemetry', '-m', payload]);
  t.not(forged.code, 0, 'a wrong password is refused');

  // The device keeps a session with a last will; its connection dies without DISCONNECT.
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'sd-001', username: 'sd-001', password: 's3cret', will: { topic: 'devices/sd-001/status', payload: Buffer.from('offline'), qos: 1, retain: false }, reconnectPeriod: 0 });
  await device.publishAsync('devices/sd-001/telemetry', payload, { qos: 1 });
  device.stream.destroy();
  const events = async () => (await getJson<{ items: EventJson[] }>(`${county.url}/api/v1/events`)).items;
  const offline = await waitFor('the device_offline event', async () => (await events()).find((e) => e.alarmType === 'device_offline'));
  t.equal(offline.deviceId, 'sd-001');
  t.equal(offline.categoryLabel, '公共设施');
  t.equal(offline.gridId, 'qingquan-riverside-g01');

  await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-u', 'sd-001', '-P', 's3cret', '-i', 'sd-001-pub2', '-t', 'devices/sd-001/telemetry', '-q', '1', '-m', payload]);
  await waitFor('the event cleared', async () => ((await events()).find((e) => e.alarmType === 'device_offline')?.clearedAt ? true : undefined));
});

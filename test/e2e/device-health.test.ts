// Layered health end to end: two gauges behind one Modbus TCP gateway (pymodbus answering unit ids 1
// and 2) and a third on its own. The gateway dies: ONE bus_offline facility event, not one per gauge,
// and the gauges count as unknown. The lone gauge dies: its own device_offline event. Both come back:
// both events are cleared. The real edge agent and the real cloud; poll timing is real.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { EdgeAgent } from '../../edge/agent.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { silentLogger } from '../../edge/log.js';
import { PymodbusServer } from '../helpers/pymodbus.js';
import { needs, pythonHasModule } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { getJson, startCounty, type EventJson } from './county.js';

const gauge = (id: string, port: number, unitId: number) => ({
  id,
  profile: 'generic/radar-water-level-gauge',
  connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port, unitId, timeout: '300ms', retries: 0 },
  location: { lon: 101.04, lat: 38.8 },
  pollInterval: '100ms',
  offlineAfterMisses: 2,
});

t.test('a dead gateway is one bus event; a dead gauge is its own; both clear when they return', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  const gateway = await new PymodbusServer({ units: [1, 2], init: 'holding:0=200,holding:4=121' }).start();
  t.teardown(() => gateway.stop());
  const lone = await new PymodbusServer({ init: 'holding:0=200,holding:4=121' }).start();
  t.teardown(() => lone.stop());
  const county = await startCounty();
  t.teardown(() => county.close());

  const file = join(county.dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-qingquan', dataDir: './edge-data' },
    cloud: { url: county.url, token: county.edgeToken },
    devices: [gauge('wl-gw-1', gateway.port, 1), gauge('wl-gw-2', gateway.port, 2), gauge('wl-lone', lone.port, 1)],
  }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  await waitFor('all three online', () => (agent.status().devices.every((d) => d.health === 'online') ? true : undefined));
  const busId = agent.status().buses.find((b) => b.devices.length === 2)?.busId;
  t.equal(busId, `bus:tcp://127.0.0.1:${gateway.port}`, 'the two gateway gauges share a bus');

  const events = async () => (await getJson<{ items: EventJson[] }>(`${county.url}/api/v1/events`)).items;

  await gateway.stop();
  const busEvent = await waitFor('the bus event', async () => (await events()).find((e) => e.alarmType === 'bus_offline'));
  t.equal(busEvent.deviceId, busId);
  t.equal(busEvent.category, 'public_facilities');
  t.equal(busEvent.categoryLabel, '公共设施');
  await waitFor('gateway gauges unknown', () => (agent.status().devices.filter((d) => d.health === 'unknown').length === 2 ? true : undefined));
  t.same(agent.status().buses.find((b) => b.busId === busId)?.down, true);

  await lone.stop();
  const loneEvent = await waitFor('the lone gauge event', async () => (await events()).find((e) => e.alarmType === 'device_offline'));
  t.equal(loneEvent.deviceId, 'wl-lone');
  t.equal(loneEvent.categoryLabel, '公共设施');
  const all = await events();
  t.same(all.map((e) => `${e.alarmType} ${e.deviceId}`).sort(), [`bus_offline ${busId}`, 'device_offline wl-lone'], 'no device_offline events for the gauges behind the dead gateway');

  await gateway.start();
  await lone.start();
  await waitFor('both events cleared', async () => ((await events()).every((e) => e.clearedAt !== null) ? true : undefined));
  // The bus clears with the first gauge that answers; its neighbour follows on its own next poll.
  await waitFor('all online again', () => (agent.status().devices.every((d) => d.health === 'online') ? true : undefined));
  t.equal(agent.status().buses.find((b) => b.busId === busId)?.down, false);
  t.equal((await events()).length, 2, 'still two events: the clears landed on them');
});

// Issue 7's promise, end to end: a technician registers a gauge in the cloud and the town's running
// edge starts polling it with no file edited on the box; a threshold changed through the API makes
// the edge raise at the new value. The real cloud, the real edge agent and its remote-configuration
// client; pymodbus plays the gauge.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { EdgeAgent } from '../../edge/agent.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { silentLogger } from '../../edge/log.js';
import { RemoteConfigClient } from '../../edge/remote-config.js';
import { systemScheduler } from '../../edge/scheduler.js';
import { PymodbusServer } from '../helpers/pymodbus.js';
import { needs, pythonHasModule } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { ADMIN_TOKEN, getJson, startCounty, type EventJson } from './county.js';

t.test('a device registered through the API is polled at once; a new threshold through the API raises', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: 'holding:0=300,holding:4=121' }).start(); // 3.00 m
  t.teardown(() => gauge.stop());
  const county = await startCounty();
  t.teardown(() => county.close());
  const file = join(county.dir, 'edge.yaml');
  writeFileSync(file, toYaml({ edge: { id: 'town-qingquan', dataDir: './edge-data' }, cloud: { url: county.url, token: county.edgeToken, remoteConfig: true }, devices: [] }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  const remote = new RemoteConfigClient({ agent, localFile: file, scheduler: systemScheduler, random: Math.random, logger: silentLogger(), waitS: 2 });
  remote.start();
  t.teardown(() => remote.stop());

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${county.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const created = await api('POST', '/api/v1/devices', {
    id: 'wl-remote-001', profile: 'generic/radar-water-level-gauge', edge: 'town-qingquan', pollInterval: '200ms',
    connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: gauge.port, unitId: 1, timeout: '1s' },
    location: { lon: 101.04, lat: 38.8 },
  });
  t.equal(created.status, 201, await created.clone().text());
  await waitFor('the edge polling the new gauge', () => ((agent.status().devices.find((d) => d.deviceId === 'wl-remote-001')?.polls ?? 0) > 1 ? true : undefined));
  t.equal(agent.status().devices[0]!.health, 'online');
  const events = async () => (await getJson<{ items: EventJson[] }>(`${county.url}/api/v1/events`)).items;
  t.same(await events(), [], '3.00 m is under the default 3.5 m warning line');

  const patched = await api('PATCH', '/api/v1/devices/wl-remote-001', { overrides: { 'water-level-warning': { above: 2.8, clearBelow: 2.6, hold: '0s' } } });
  t.equal(patched.status, 200, await patched.clone().text());
  const opened = await waitFor('an event at the new line', async () => (await events()).find((e) => e.alarmType === 'water_level_warning'));
  t.equal(opened.categoryLabel, '防汛');
  t.equal(opened.deviceId, 'wl-remote-001');
  const edge = await waitFor('the edge to report the version it runs', async () => {
    const e = await getJson<{ config: { desiredVersion: number; appliedVersion: number | null } }>(`${county.url}/api/v1/edges/town-qingquan`);
    return e.config.appliedVersion === e.config.desiredVersion ? e : undefined;
  });
  t.ok(edge.config.desiredVersion >= 2, 'registration and the new threshold each made a version');
});

// The uplink's promises, with the real edge and the real cloud: an alarm delivered twice (the answer
// lost on the way back) is stored once; an alarm raised while the cloud is down waits in the durable
// outbox, across an edge restart, and arrives when the cloud is back.
import t from 'tap';
import { loadEdgeConfig } from '../../edge/config.js';
import { EdgeAgent } from '../../edge/agent.js';
import { silentLogger } from '../../edge/log.js';
import { needs, pythonHasModule } from '../helpers/services.js';
import { PymodbusServer } from '../helpers/pymodbus.js';
import { FlakyProxy } from '../helpers/flaky-proxy.js';
import { writeHolding } from '../helpers/modbus-client.js';
import { waitFor } from '../helpers/wait.js';
import { startCounty, restartCloud, writeEdgeConfig, getJson, type EventJson } from './county.js';

const PYMODBUS = 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)';

t.test('an alarm whose answer is lost is retried and stored once: one event, one alarm', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: 'holding:0=300' }).start();
  t.teardown(() => gauge.stop());
  const county = await startCounty();
  t.teardown(() => county.close());
  const proxy = await new FlakyProxy(county.url).start();
  t.teardown(() => proxy.stop());
  proxy.mode = 'swallow-response';

  const agent = new EdgeAgent(loadEdgeConfig(writeEdgeConfig(county.dir, { cloudUrl: proxy.url, token: county.edgeToken, modbusPort: gauge.port })), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  await writeHolding(gauge.port, 0, [380]);

  // The cloud stored the upload but the edge never heard back; once the link is whole, it retries.
  await waitFor('an upload the cloud answered 200 but the edge never saw', () =>
    proxy.seen.find((s) => s.path === '/api/v1/alarms' && s.mode === 'swallow-response' && s.status === 200));
  proxy.mode = 'forward';
  await waitFor('the retry to get through', () => proxy.seen.find((s) => s.path === '/api/v1/alarms' && s.mode === 'forward' && s.status === 200));

  const events = await getJson<{ items: EventJson[] }>(`${county.url}/api/v1/events`);
  t.equal(events.items.length, 1, 'one event');
  t.equal(events.items[0]!.occurrenceCount, 1, 'the retry did not count as a second occurrence');
  const alarms = await getJson<{ items: Array<{ alarmId: string }> }>(`${county.url}/api/v1/alarms`);
  t.equal(alarms.items.length, 1, 'one alarm');
  const detail = await getJson<EventJson>(`${county.url}/api/v1/events/${events.items[0]!.id}`);
  t.equal(detail.alarms?.length, 1, 'the event links one alarm');
});

t.test('cloud down: the alarm waits in the outbox across an edge restart and arrives later', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: 'holding:0=300' }).start();
  t.teardown(() => gauge.stop());
  // Set the county up, remember its port, then take the cloud down before the river rises.
  const county = await startCounty();
  const port = Number(new URL(county.url).port);
  await county.close();

  const configFile = writeEdgeConfig(county.dir, { cloudUrl: county.url, token: county.edgeToken, modbusPort: gauge.port });
  const first = new EdgeAgent(loadEdgeConfig(configFile), { logger: silentLogger() });
  await first.start();
  await writeHolding(gauge.port, 0, [380]);
  await waitFor('the raise to be queued', () => (first.status().outboxDepth > 0 ? true : undefined));
  await first.stop(); // the town's box is rebooted while the uplink is still down

  const second = new EdgeAgent(loadEdgeConfig(configFile), { logger: silentLogger() });
  await second.start();
  t.teardown(() => second.stop());
  t.ok(second.status().outboxDepth > 0, 'the queued alarm survived the restart');

  const cloud = await restartCloud(county.dir, port);
  t.teardown(() => cloud.close());
  const events = await waitFor('the event to reach the cloud', async () => {
    const r = await getJson<{ items: EventJson[] }>(`${cloud.url}/api/v1/events`);
    return r.items.length > 0 ? r.items : undefined;
  });
  t.equal(events.length, 1, 'one event');
  t.equal(events[0]!.alarmType, 'water_level_warning');
  await waitFor('the outbox to drain', () => (second.status().outboxDepth === 0 ? true : undefined));
  t.equal(second.status().outboxDepth, 0, 'nothing left behind');
});

// End to end, every part real: pymodbus plays the radar gauge, the real edge agent polls it over
// Modbus TCP, runs the library's water-level rule, queues the alarm in its SQLite outbox and uploads
// it; the real cloud stores it, opens a 防汛 grid event in the right grid and streams it over SSE.
import t from 'tap';
import { loadEdgeConfig } from '../../edge/config.js';
import { EdgeAgent } from '../../edge/agent.js';
import { silentLogger } from '../../edge/log.js';
import { needs, pythonHasModule } from '../helpers/services.js';
import { PymodbusServer } from '../helpers/pymodbus.js';
import { writeHolding } from '../helpers/modbus-client.js';
import { waitFor } from '../helpers/wait.js';
import { subscribeSse, type SseMessage } from '../../demo/sse-client.js';
import { ADMIN_TOKEN, startCounty, writeEdgeConfig, getJson, type EventJson } from './county.js';

t.test('a water-level alarm from a Modbus gauge becomes a grid event, live on SSE', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: 'holding:0=300,holding:4=121' }).start();
  t.teardown(() => gauge.stop());
  const county = await startCounty();
  t.teardown(() => county.close());

  const seen: SseMessage[] = [];
  const sse = subscribeSse(`${county.url}/api/v1/events/stream`, (m) => seen.push(m), { authorization: `Bearer ${ADMIN_TOKEN}` });
  t.teardown(() => sse.close());
  await sse.ready;

  const agent = new EdgeAgent(loadEdgeConfig(writeEdgeConfig(county.dir, { cloudUrl: county.url, token: county.edgeToken, modbusPort: gauge.port })), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());

  // The river rises to 3.80 m, above the 3.5 m warning line, and stays there past the 1 s hold.
  await writeHolding(gauge.port, 0, [380]);
  const opened = await waitFor('event.opened on SSE', () => seen.find((m) => m.event === 'event.opened'));
  const live = JSON.parse(opened.data) as EventJson;
  t.equal(live.deviceId, 'wl-qingquan-001');
  t.equal(live.alarmType, 'water_level_warning');
  t.equal(live.category, 'flood_control');
  t.equal(live.categoryLabel, '防汛');
  t.equal(live.gridId, 'qingquan-riverside-g01', 'assigned to the grid that contains the gauge');

  const list = await getJson<{ items: EventJson[] }>(`${county.url}/api/v1/events`);
  t.equal(list.items.length, 1, 'one event');
  t.equal(list.items[0]!.id, live.id, 'the streamed event is the stored one');
  const detail = await getJson<EventJson>(`${county.url}/api/v1/events/${live.id}`);
  t.equal(detail.alarms?.length, 1, 'the event carries its alarm');
  t.ok(detail.timeline?.some((e) => e.kind === 'opened'), 'the timeline records the opening');

  // The river falls back below the 3.3 m clear line: the clear is recorded on the same event.
  await writeHolding(gauge.port, 0, [300]);
  await waitFor('event.cleared on SSE', () => seen.find((m) => m.event === 'event.cleared'));
  const after = await getJson<EventJson>(`${county.url}/api/v1/events/${live.id}`);
  t.ok(after.clearedAt, 'clear recorded');
  t.ok(after.timeline?.some((e) => e.kind === 'alarm_cleared'), 'timeline has the clear');
  t.equal(after.alarms?.[0]?.state, 'cleared');
  const again = await getJson<{ items: EventJson[] }>(`${county.url}/api/v1/events`);
  t.equal(again.items.length, 1, 'still one event');
});

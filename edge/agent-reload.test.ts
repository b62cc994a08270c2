// Changing a running edge without a restart: pymodbus plays two gauges (unit ids 1 and 2 behind one
// endpoint), a node:http server stands in for the cloud, rule time is a ManualClock.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ManualClock } from '../contracts/clock.js';
import { GsError } from '../contracts/errors.js';
import { AlarmSink } from '../test/helpers/alarm-sink.js';
import { writeHolding } from '../test/helpers/modbus-client.js';
import { PymodbusServer } from '../test/helpers/pymodbus.js';
import { needs, pythonHasModule } from '../test/helpers/services.js';
import { waitFor } from '../test/helpers/wait.js';
import { EdgeAgent } from './agent.js';
import { parseEdgeConfig } from './config.js';
import { silentLogger } from './log.js';


t.test('devices added, re-tuned and removed while running; a broken rule file changes nothing', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  const dir = mkdtempSync(join(tmpdir(), 'gs-reload-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gauges = await new PymodbusServer({ units: [1, 2], init: 'holding:0=300,holding:4=121' }).start();
  t.teardown(() => gauges.stop());
  const cloud = await new AlarmSink().start();
  t.teardown(() => cloud.stop());
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 8, 0, 0));
  const file = join(dir, 'edge.yaml');
  const gauge = (id: string, unitId: number, overrides?: object) => ({
    id, profile: 'generic/radar-water-level-gauge', pollInterval: '40ms', location: { lon: 101.04, lat: 38.8 },
    connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: gauges.port, unitId, timeout: '500ms' },
    ...(overrides ? { overrides } : {}),
  });
  const config = (devices: object[], rules = ['water-level.yaml']) => {
    writeFileSync(file, toYaml({ edge: { id: 'town-reload', dataDir: './data' }, cloud: { url: cloud.url, token: 'gse_reload' }, rules, devices }));
    return parseEdgeConfig(readFileSync(file, 'utf8'), file);
  };
  const agent = new EdgeAgent(config([gauge('wl-a', 1)]), { clock, logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  const polls = (id: string) => agent.status().devices.find((d) => d.deviceId === id)?.polls ?? 0;
  const settle = async (id: string) => {
    const n = polls(id);
    await waitFor(`two more polls of ${id}`, () => (polls(id) >= n + 2 ? true : undefined));
  };
  await settle('wl-a');

  // Add a second gauge with its own, lower warning line: 2.8 m, no hold.
  const added = await agent.applyConfig(config([gauge('wl-a', 1), gauge('wl-b', 2, { 'water-level-warning': { above: 2.8, clearBelow: 2.6, hold: '0s' } })]));
  t.same(added, { added: ['wl-b'], removed: [], changed: [] });
  await settle('wl-b');
  t.ok(polls('wl-a') > 2, 'wl-a kept polling through the change');
  await writeHolding(gauges.port, 0, [300], 2); // 3.00 m on unit 2: above its own 2.8 m line
  await settle('wl-b');
  clock.advance(1000);
  await settle('wl-b');
  const raise = await waitFor('wl-b raised at its own line', () => cloud.accepted.find((a) => a.deviceId === 'wl-b' && a.action === 'raise'));
  t.equal(raise.threshold, 2.8);

  // Re-tune wl-a the same way: the device re-opens with the new threshold.
  const tuned = await agent.applyConfig(config([gauge('wl-a', 1, { 'water-level-warning': { above: 2.9, clearBelow: 2.7, hold: '0s' } }), gauge('wl-b', 2, { 'water-level-warning': { above: 2.8, clearBelow: 2.6, hold: '0s' } })]));
  t.same(tuned.changed, ['wl-a']);
  await settle('wl-a');
  clock.advance(1000);
  await settle('wl-a');
  const raiseA = await waitFor('wl-a raised at its new line', () => cloud.accepted.find((a) => a.deviceId === 'wl-a' && a.action === 'raise'));
  t.equal(raiseA.threshold, 2.9);
  t.notOk(cloud.accepted.some((a) => a.deviceId === 'wl-b' && Number(a.seq) > 0), "wl-b's alarm was not disturbed");

  // A rule file that does not load: refused, the running rules and devices stay as they were.
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'rules:\n  - id: Not Kebab\n');
  const err = await t.rejects(async () => agent.applyConfig(config([gauge('wl-a', 1)], ['water-level.yaml', broken])));
  t.ok(err instanceof GsError);
  t.same(agent.status().devices.map((d) => d.deviceId), ['wl-a', 'wl-b'], 'nothing removed');
  t.same(agent.config.devices.map((d) => d.id), ['wl-a', 'wl-b']);

  // Changing what needs a restart is refused by name.
  const moved = config([gauge('wl-a', 1)]);
  await t.rejects(agent.applyConfig({ ...moved, cloud: { ...moved.cloud, url: 'http://127.0.0.1:1' } }), { code: 'GS_ERR_CONFIG_INVALID', message: /cloud changed/ });

  // Remove wl-b: its poller stops; wl-a goes on.
  const removed = await agent.applyConfig(config([gauge('wl-a', 1, { 'water-level-warning': { above: 2.9, clearBelow: 2.7, hold: '0s' } })]));
  t.same(removed, { added: [], removed: ['wl-b'], changed: [] });
  const bPolls = polls('wl-b');
  t.equal(bPolls, 0, 'wl-b is gone from the status');
  await settle('wl-a');
});

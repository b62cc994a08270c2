// Hot reload with real file-system events: edit edge.yaml under a running agent, break it, fix it.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { AlarmSink } from '../test/helpers/alarm-sink.js';
import { waitFor } from '../test/helpers/wait.js';
import { EdgeAgent } from './agent.js';
import { loadEdgeConfig } from './config.js';
import { ConfigWatcher } from './config-watch.js';
import { silentLogger } from './log.js';
import { systemScheduler } from './scheduler.js';

t.test('a saved change is applied; a broken file is reported and the last good config keeps running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-watch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cloud = await new AlarmSink().start();
  t.teardown(() => cloud.stop());
  const file = join(dir, 'edge.yaml');
  // Port 1 on loopback refuses at once: the devices need no peer for this test.
  const device = (id: string) => ({ id, profile: 'generic/radar-water-level-gauge', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: 1 } });
  const write = (devices: object[]) => writeFileSync(file, toYaml({ edge: { id: 'town-watch', dataDir: './data' }, cloud: { url: cloud.url, token: 'gse_watch' }, rules: ['water-level.yaml'], devices }));
  write([device('wl-1')]);
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  const outcomes: Array<{ ok: boolean; added?: string[]; error?: unknown }> = [];
  const watcher = new ConfigWatcher({ agent, logger: silentLogger(), scheduler: systemScheduler, debounceMs: 100, onReload: (o) => void outcomes.push(o) });
  watcher.start();
  t.teardown(() => watcher.close());

  write([device('wl-1'), device('wl-2')]);
  const added = await waitFor('the reload', () => outcomes.find((o) => o.ok));
  t.same(added.added, ['wl-2']);
  t.same(agent.status().devices.map((d) => d.deviceId), ['wl-1', 'wl-2']);

  writeFileSync(file, 'edge: { id: town-watch\n  this is: [not yaml');
  const failed = await waitFor('the refusal', () => outcomes.find((o) => !o.ok));
  t.match(failed.error, { code: 'GS_ERR_CONFIG_YAML' });
  t.same(agent.status().devices.map((d) => d.deviceId), ['wl-1', 'wl-2'], 'the last good config keeps running');

  const before = outcomes.length;
  write([device('wl-2')]);
  await waitFor('the fixed file applied', () => (outcomes.slice(before).some((o) => o.ok) ? true : undefined));
  t.same(agent.status().devices.map((d) => d.deviceId), ['wl-2']);
  await watcher.idle();
});

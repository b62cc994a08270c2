// Rules that fire on time alone (no reading arrives): the agent arms a timer at the rules' next due
// time. Virtual time throughout: a ManualClock and a ManualScheduler; the gauge is unreachable
// (port 1 refuses), so nothing but the tick can raise.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { ManualClock } from '../contracts/clock.js';
import { AlarmSink } from '../test/helpers/alarm-sink.js';
import { ManualScheduler } from '../test/helpers/manual-scheduler.js';
import { EdgeAgent } from './agent.js';
import { loadEdgeConfig } from './config.js';
import { silentLogger } from './log.js';

t.test('a stale-data rule raises from the timer when the gauge never reports', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-ticks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cloud = await new AlarmSink().start();
  t.teardown(() => cloud.stop());
  writeFileSync(join(dir, 'stale.yaml'), toYaml({ rules: [{ id: 'level-stale', alarm: 'data_stale', severity: 'major', match: { kind: 'water_level' }, point: 'water_level', stale: { after: '1m' } }] }));
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-ticks', dataDir: './data' }, cloud: { url: cloud.url, token: 'gse_ticks' }, rules: ['./stale.yaml'],
    devices: [{ id: 'wl-1', profile: 'generic/radar-water-level-gauge', pollInterval: '10m', offlineAfterMisses: 1000, connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: 1 } }],
  }));
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 8, 0, 0));
  const scheduler = new ManualScheduler(clock);
  const agent = new EdgeAgent(loadEdgeConfig(file), { clock, scheduler, logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  t.equal(agent.status().outboxDepth, 0);
  scheduler.advance(59_000);
  t.equal(agent.status().outboxDepth, 0, 'not yet: one minute has not passed');
  scheduler.advance(1_000);
  t.equal(agent.status().outboxDepth, 1, 'the timer raised data_stale with no reading at all');
});

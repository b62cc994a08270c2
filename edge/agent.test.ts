// The agent end to end on the edge side: pymodbus plays the gauge, a node:http server stands in for
// the cloud. Poll timing is real (short intervals); rule time is a ManualClock the test moves.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../contracts/clock.js';
import { AlarmSink } from '../test/helpers/alarm-sink.js';
import { writeHolding } from '../test/helpers/modbus-client.js';
import { PymodbusServer } from '../test/helpers/pymodbus.js';
import { freePort, needs, pythonHasModule } from '../test/helpers/services.js';
import { waitFor } from '../test/helpers/wait.js';
import { EdgeAgent } from './agent.js';
import { parseEdgeConfig } from './config.js';
import { silentLogger } from './log.js';

const PYMODBUS = 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)';
const MIN = 60_000;

function configText(o: { cloudUrl: string; modbusPort: number; telemetry?: string }): string {
  return `
edge: { id: town-test, dataDir: ./data }
cloud: { url: ${o.cloudUrl}, token: gse_agent_test }
${o.telemetry ?? ''}
rules: [water-level.yaml]
devices:
  - id: wl-agent-001
    name: Test bridge gauge
    profile: generic/radar-water-level-gauge
    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: ${o.modbusPort}, unitId: 1, timeout: 500ms }
    location: { lon: 101.04, lat: 38.8 }
    site: bridge
    pollInterval: 40ms
`;
}

async function rig(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'gs-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const gauge = await new PymodbusServer({ init: 'holding:0=300,holding:2=9000,holding:4=121' }).start();
  t.teardown(() => gauge.stop());
  const cloud = await new AlarmSink().start();
  t.teardown(() => cloud.stop());
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 8, 0, 0));
  const config = parseEdgeConfig(configText({ cloudUrl: cloud.url, modbusPort: gauge.port }), join(dir, 'edge.yaml'));
  const agents: EdgeAgent[] = [];
  t.teardown(async () => {
    for (const a of agents) await a.stop();
  });
  const newAgent = async () => {
    const a = new EdgeAgent(config, { clock, logger: silentLogger() });
    agents.push(a);
    await a.start();
    return a;
  };
  /** Waits for two more polls, so the gauge's new value has certainly been read and evaluated. */
  const settle = async (a: EdgeAgent) => {
    const n = a.status().devices[0]!.polls;
    await waitFor('two more polls', () => (a.status().devices[0]!.polls >= n + 2 ? true : undefined));
  };
  return { dir, gauge, cloud, clock, config, newAgent, settle };
}

t.test('water above the line past the hold raises an alarm at the cloud; below it, the clear', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const { gauge, cloud, clock, newAgent, settle } = await rig(t);
  const agent = await newAgent();
  await settle(agent);
  t.match(agent.status().devices[0], { online: true, consecutiveMisses: 0 });

  await writeHolding(gauge.port, 0, [380]); // 3.80 m, above the 3.5 m warning line
  await settle(agent);
  t.equal(cloud.posts.length, 0, `nothing before the 2 min hold: ${JSON.stringify(cloud.posts)}`);
  clock.advance(2 * MIN + 1000);
  const raise = await waitFor('the raise at the cloud', () => cloud.accepted.find((a) => a.action === 'raise'));
  t.match(raise, {
    seq: 0, type: 'water_level_warning', severity: 'major', deviceId: 'wl-agent-001', profile: 'generic/radar-water-level-gauge',
    ruleId: 'water-level-warning', point: 'water_level', value: 3.8, unit: 'm', threshold: 3.5,
    location: { lon: 101.04, lat: 38.8 }, site: 'bridge', ts: clock.now(),
  });
  t.match(raise.message, /3\.8 m above the warning line/);
  t.equal(cloud.posts[0]!.authorization, 'Bearer gse_agent_test');

  await writeHolding(gauge.port, 0, [300]); // 3.00 m, below the 3.3 m clear line
  await settle(agent);
  clock.advance(31_000);
  const clear = await waitFor('the clear at the cloud', () => cloud.accepted.find((a) => a.action === 'clear'));
  t.match(clear, { alarmId: raise.alarmId, seq: 1, type: 'water_level_warning', value: 3 });
  await waitFor('the outbox to drain', () => (agent.status().outboxDepth === 0 ? true : undefined));
  t.equal(cloud.accepted.length, 2, 'one raise, one clear, nothing twice');
});

t.test('a hold in progress and an active alarm survive a restart', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const { gauge, cloud, clock, newAgent, settle } = await rig(t);
  const first = await newAgent();
  await writeHolding(gauge.port, 0, [390]);
  await settle(first);
  clock.advance(MIN); // half the hold has run
  await settle(first);
  await first.stop();

  const second = await newAgent();
  clock.advance(MIN + 1000); // the rest of the hold: only a remembered start makes this enough
  const raise = await waitFor('the raise', () => cloud.accepted.find((a) => a.action === 'raise'));
  t.equal(raise.value, 3.9);
  await second.stop();

  const third = await newAgent();
  await writeHolding(gauge.port, 0, [300]);
  await settle(third);
  clock.advance(31_000);
  const clear = await waitFor('the clear', () => cloud.accepted.find((a) => a.action === 'clear'));
  t.match(clear, { alarmId: raise.alarmId, seq: 1 }, 'the restarted edge clears the alarm it raised before');
});

t.test('alarms raised while the cloud is down wait in the outbox across a restart', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const { gauge, cloud, clock, newAgent, settle } = await rig(t);
  cloud.reply = () => ({ status: 503, body: { code: 'GS_ERR_INTERNAL', message: 'down' } });
  const first = await newAgent();
  await writeHolding(gauge.port, 0, [400]);
  await settle(first);
  clock.advance(2 * MIN + 1000);
  await waitFor('the raise to be queued', () => (first.status().outboxDepth > 0 ? true : undefined));
  await first.stop();

  cloud.reply = (post) => ({ status: 200, body: { accepted: post.alarms.length, duplicates: 0 } });
  const second = await newAgent();
  t.ok(second.status().outboxDepth > 0, 'still queued after the restart');
  await waitFor('delivery', () => (second.status().outboxDepth === 0 ? true : undefined));
  t.equal(cloud.accepted.filter((a) => a.action === 'raise').length, 1);
});

t.test('telemetry: readings are stored in the embedded store', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const { config, clock, newAgent, settle } = await rig(t);
  const agent = await newAgent();
  await settle(agent);
  await agent.stop();
  const { SqliteTelemetryStore } = await import('./telemetry/sqlite.js');
  const { systemScheduler } = await import('./scheduler.js');
  const store = new SqliteTelemetryStore({
    file: join(config.edge.dataDir, 'telemetry.db'), retentionMs: 365 * 86_400_000, batchSize: 10, flushIntervalMs: 1000, maxBuffer: 100,
    clock, scheduler: systemScheduler, random: Math.random, logger: silentLogger(),
  });
  await store.start();
  t.teardown(() => store.stop());
  const rows = await store.query({ deviceId: 'wl-agent-001', point: 'water_level', from: 0, to: clock.now() });
  t.ok(rows.length >= 2, `${rows.length} water_level readings stored`);
  t.match(rows[0], { value: 3, unit: 'm', quality: 'good' });
});

t.test('runEdge stops cleanly on SIGTERM: the process exits on its own with code 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-runedge-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cloud = await new AlarmSink().start();
  t.teardown(() => cloud.stop());
  const file = join(dir, 'edge.yaml');
  // No gauge on that port: the agent must still start, poll (and fail) and stop cleanly.
  writeFileSync(file, configText({ cloudUrl: cloud.url, modbusPort: await freePort() }));
  const agentModule = fileURLToPath(new URL('./run-edge.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { runEdge } = await import(${JSON.stringify(agentModule)});
    const { silentLogger } = await import(${JSON.stringify(fileURLToPath(new URL('./log.ts', import.meta.url)))});
    await runEdge(${JSON.stringify(file)}, { logger: silentLogger() });
    process.stdout.write('STOPPED\\n');
  `], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  const dbFile = join(dir, 'data', 'edge.db');
  await waitFor('the agent to start', () => (existsSync(dbFile) ? true : undefined));
  await new Promise((r) => setTimeout(r, 300)); // let it poll a few times
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0, without being forced: nothing left open');
  t.match(out, /STOPPED/);
});

t.test('the heartbeat reports the version, the outbox and each device with its health and last answer', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const { cloud, newAgent, settle } = await rig(t);
  const agent = await newAgent();
  await settle(agent);
  const first = await waitFor('a heartbeat', () => cloud.heartbeats[0]);
  t.match(first, { version: /^\d+\.\d+\.\d+/, outboxDepth: 0, deadLetters: 0, devices: [{ id: 'wl-agent-001', profile: 'generic/radar-water-level-gauge' }] });
  t.equal(JSON.stringify(first).includes('gse_'), false, 'no token in the body');
});

// Fault tests of the whole chain — a real gauge (pymodbus), the real edge agent, the real cloud — each
// ending with every alarm in the cloud exactly once and, per device, in order: InfluxDB down while
// telemetry flows (stopped and restarted under the edge); the uplink flapping (a loopback proxy cut
// and restored, answers swallowed, during a burst); the cloud restarted in the middle of a batch; the
// edge process killed with SIGKILL in the middle of a burst and started again.
// (Cloud down for a whole burst, across an edge restart, is uplink-faults.test.ts.)
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { EdgeAgent } from '../../edge/agent.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { silentLogger } from '../../edge/log.js';
import { Influx1TelemetryStore } from '../../edge/telemetry/influx1.js';
import { systemClock } from '../../contracts/clock.js';
import { systemScheduler } from '../../edge/scheduler.js';
import { FlakyProxy } from '../helpers/flaky-proxy.js';
import { hasInfluxd, INFLUXD, Influxd } from '../helpers/influxd.js';
import { writeHolding } from '../helpers/modbus-client.js';
import { PymodbusServer } from '../helpers/pymodbus.js';
import { needs, pythonHasModule } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { getJson, restartCloud, startCounty, type County } from './county.js';

const PYMODBUS = 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)';
const DEVICE = 'wl-qingquan-001';
const HIGH = 380; // 3.80 m: over the 3.5 m warning line
const LOW = 300; // 3.00 m: under the 3.3 m clear line

function edgeYaml(county: County, o: { cloudUrl: string; modbusPort: number; influxUrl?: string }): string {
  const file = join(county.dir, 'edge.yaml');
  writeFileSync(
    file,
    toYaml({
      edge: { id: 'town-qingquan', dataDir: './edge-data' },
      // Small batches, so a burst is several requests and a fault can fall between or inside them.
      cloud: { url: o.cloudUrl, token: county.edgeToken, batchSize: 2 },
      telemetry: {
        summaryInterval: 'off',
        ...(o.influxUrl ? { type: 'influxdb', influxdb: { url: o.influxUrl, database: 'gridsense' }, flushInterval: '200ms', batchSize: 20 } : {}),
      },
      rules: ['water-level.yaml'],
      devices: [
        {
          id: DEVICE,
          profile: 'generic/radar-water-level-gauge',
          connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: o.modbusPort, unitId: 1, timeout: '1s' },
          location: { lon: 101.04, lat: 38.8 },
          pollInterval: '200ms',
          overrides: { 'water-level-warning': { hold: '300ms', clearHold: '0s' } },
        },
      ],
    }),
  );
  return file;
}

/** Alarm transitions the edge has made so far: delivered, waiting, or dead-lettered. */
function made(agent: EdgeAgent): number {
  const s = agent.status();
  return (s.uplink?.sent ?? 0) + s.outboxDepth + s.deadLetters;
}

/** `cycles` times: the river rises over the line (a raise) and falls back (a clear). */
async function burst(agent: EdgeAgent, port: number, cycles: number, during?: (i: number) => Promise<void> | void): Promise<number> {
  let n = made(agent);
  for (let i = 0; i < cycles; i++) {
    await writeHolding(port, 0, [HIGH]);
    await waitFor(`raise ${i + 1}`, () => (made(agent) >= n + 1 ? true : undefined));
    await during?.(i);
    await writeHolding(port, 0, [LOW]);
    await waitFor(`clear ${i + 1}`, () => (made(agent) >= n + 2 ? true : undefined));
    n = made(agent);
  }
  return n;
}

interface AlarmJson {
  alarmId: string;
  deviceId: string;
  state: string;
  lastSeq: number;
}

/**
 * Every warning the edge raised is in the cloud once, cleared (its last transition, seq 1, applied);
 * and what reached the cloud (every alarm upload it answered 2xx, answers lost on the way back
 * included) was, per device, in order: raises before their clears, in time order.
 */
async function everyAlarmOnceInOrder(t: Test, cloudUrl: string, proxy: FlakyProxy, cycles: number): Promise<void> {
  const alarms = await waitFor('every alarm in the cloud, cleared', async () => {
    const r = await getJson<{ items: AlarmJson[] }>(`${cloudUrl}/api/v1/alarms?limit=200`);
    const warnings = r.items.filter((a) => a.deviceId === DEVICE);
    return warnings.length === cycles && warnings.every((a) => a.state === 'cleared') ? warnings : undefined;
  }, 60_000);
  t.equal(new Set(alarms.map((a) => a.alarmId)).size, cycles, `${cycles} alarms, each stored once`);
  t.ok(alarms.every((a) => a.lastSeq === 1), 'each with its raise and its clear');

  const stored: Array<{ alarmId: string; seq: number; ts: number; deviceId: string }> = [];
  for (const s of proxy.seen) {
    if (s.path !== '/api/v1/alarms' || s.status === undefined || s.status >= 300 || !s.body) continue;
    stored.push(...(JSON.parse(s.body) as { alarms: Array<{ alarmId: string; seq: number; ts: number; deviceId: string }> }).alarms);
  }
  const firsts: typeof stored = [];
  const keys = new Set<string>();
  for (const a of stored) {
    const k = `${a.alarmId}:${a.seq}`;
    if (!keys.has(k)) firsts.push(a);
    keys.add(k);
  }
  const mine = firsts.filter((a) => a.deviceId === DEVICE);
  t.equal(mine.length, 2 * cycles, 'every transition reached the cloud');
  t.ok(mine.every((a, i) => i === 0 || a.ts >= mine[i - 1]!.ts), 'in time order');
  t.ok(mine.every((a, i) => (i % 2 === 0 ? a.seq === 0 : a.seq === 1 && a.alarmId === mine[i - 1]!.alarmId)), 'each raise right before its clear');
}

t.test('InfluxDB down while telemetry flows: alarms unaffected, readings buffered, then every one in InfluxDB', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  if (!(await needs(t, INFLUXD, hasInfluxd))) return;
  const gauge = await new PymodbusServer({ init: `holding:0=${LOW}` }).start();
  t.teardown(() => gauge.stop());
  const influxd = await new Influxd().start();
  t.teardown(() => influxd.dispose());
  const county = await startCounty();
  t.teardown(() => county.close());
  const proxy = await new FlakyProxy(county.url).start();
  t.teardown(() => proxy.stop());

  const agent = new EdgeAgent(loadEdgeConfig(edgeYaml(county, { cloudUrl: proxy.url, modbusPort: gauge.port, influxUrl: influxd.url })), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  // What the edge wrote, read with a store of our own (no writes).
  const reader = new Influx1TelemetryStore({ url: influxd.url, database: 'gridsense', batchSize: 1, flushIntervalMs: 60_000, maxBuffer: 1, clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
  await reader.start();
  t.teardown(() => reader.stop());
  const readings = () => reader.query({ deviceId: DEVICE, point: 'water_level', from: 0, to: Date.now() + 60_000, limit: 100_000 });
  await waitFor('telemetry in InfluxDB', async () => ((await readings()).length > 0 ? true : undefined));

  await influxd.stop();
  const downAt = Date.now();
  const cycles = 3;
  await burst(agent, gauge.port, cycles);
  const upAt = Date.now();
  t.ok((await waitFor('alarms delivered while InfluxDB is down', () => (agent.status().outboxDepth === 0 ? true : undefined))), 'the alarm path does not wait on InfluxDB');

  await influxd.start();
  const during = await waitFor('the readings taken during the outage to arrive', async () => {
    const inside = (await readings()).filter((r) => r.ts > downAt && r.ts < upAt);
    const cm = inside.map((r) => Math.round((r.value as number) * 100));
    return cm.includes(HIGH) && cm.includes(LOW) ? inside : undefined;
  }, 60_000);
  t.ok(during.length >= 2 * cycles, `${during.length} readings of the outage caught up, highs and lows`);
  const all = await readings();
  t.equal(new Set(all.map((r) => r.ts)).size, all.length, 'none written twice');
  await everyAlarmOnceInOrder(t, county.url, proxy, cycles);
});

t.test('uplink flapping: cut, restored and answers lost throughout a burst; every alarm once, in order', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: `holding:0=${LOW}` }).start();
  t.teardown(() => gauge.stop());
  const county = await startCounty();
  t.teardown(() => county.close());
  const proxy = await new FlakyProxy(county.url).start();
  t.teardown(() => proxy.stop());
  const agent = new EdgeAgent(loadEdgeConfig(edgeYaml(county, { cloudUrl: proxy.url, modbusPort: gauge.port })), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());

  // The link changes state at every step of the burst: down, lossy, down, up, lossy. It starts down, so
  // the first raises wait in the outbox; a lossy or down step lasts until the uplink has tried the link
  // in that state at least once (whatever its backoff), so the test does not depend on timing.
  proxy.mode = 'refuse';
  const modes = ['swallow-response', 'refuse', 'forward', 'swallow-response'] as const;
  const cycles = modes.length;
  await burst(agent, gauge.port, cycles, async (i) => {
    const mode = modes[i]!;
    const mark = proxy.seen.length;
    proxy.mode = mode;
    if (mode === 'forward' || agent.status().outboxDepth === 0) return;
    await waitFor(`the uplink to try the link while ${mode}`, () => (proxy.seen.slice(mark).some((s) => s.mode === mode) ? true : undefined), 120_000);
  });
  t.ok(proxy.seen.some((s) => s.mode === 'refuse') && proxy.seen.some((s) => s.mode === 'swallow-response'), 'the link was cut and lossy');
  proxy.mode = 'forward';
  await waitFor('the outbox to drain once the link holds', () => (agent.status().outboxDepth === 0 ? true : undefined), 120_000);
  await everyAlarmOnceInOrder(t, county.url, proxy, cycles);
});

t.test('cloud down for the whole burst: everything waits on the edge, then arrives once, in order', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: `holding:0=${LOW}` }).start();
  t.teardown(() => gauge.stop());
  const county = await startCounty();
  const port = Number(new URL(county.url).port);
  const proxy = await new FlakyProxy(county.url).start();
  t.teardown(() => proxy.stop());
  const agent = new EdgeAgent(loadEdgeConfig(edgeYaml(county, { cloudUrl: proxy.url, modbusPort: gauge.port })), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());

  // The cloud process is gone (not a cut link: the proxy forwards to a port nobody listens on).
  await county.close();
  const cycles = 3;
  await burst(agent, gauge.port, cycles);
  t.equal(agent.status().outboxDepth, 2 * cycles, 'every raise and clear waits in the outbox');
  const cloud = await restartCloud(county.dir, port);
  t.teardown(() => cloud.close());
  await waitFor('the outbox to drain once the cloud is back', () => (agent.status().outboxDepth === 0 ? true : undefined), 120_000);
  await everyAlarmOnceInOrder(t, cloud.url, proxy, cycles);
});

t.test('cloud restarted mid-batch: the batch in flight is retried; every alarm once, in order', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: `holding:0=${LOW}` }).start();
  t.teardown(() => gauge.stop());
  const county = await startCounty();
  const port = Number(new URL(county.url).port);
  const proxy = await new FlakyProxy(county.url).start();
  t.teardown(() => proxy.stop());
  const agent = new EdgeAgent(loadEdgeConfig(edgeYaml(county, { cloudUrl: proxy.url, modbusPort: gauge.port })), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());

  // A backlog first (link cut), so the replay is several batches back to back.
  proxy.mode = 'refuse';
  const cycles = 3;
  await burst(agent, gauge.port, cycles);
  t.equal(agent.status().outboxDepth, 2 * cycles, 'all queued');
  const before = proxy.seen.length;
  proxy.mode = 'forward';
  // The moment the first replayed batch reaches the cloud, the cloud goes down under it.
  await waitFor('a replayed batch in flight', () => (proxy.seen.slice(before).some((s) => s.path === '/api/v1/alarms') ? true : undefined));
  await county.close();
  const cloud = await restartCloud(county.dir, port);
  t.teardown(() => cloud.close());
  await waitFor('the outbox to drain after the restart', () => (agent.status().outboxDepth === 0 ? true : undefined), 120_000);
  await everyAlarmOnceInOrder(t, cloud.url, proxy, cycles);
});

const BIN = fileURLToPath(new URL('../../bin/gridsense.js', import.meta.url));

/** `gridsense edge -c <file>` as its own process, as on a town's box. */
function edgeProcess(configFile: string): ChildProcess {
  return spawn(process.execPath, [BIN, 'edge', '-c', configFile, '--no-watch'], { stdio: 'ignore' });
}

function killHard(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGKILL');
  });
}

t.test('edge killed with SIGKILL mid-burst and restarted: nothing lost, nothing twice, in order', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const gauge = await new PymodbusServer({ init: `holding:0=${LOW}` }).start();
  t.teardown(() => gauge.stop());
  const county = await startCounty();
  t.teardown(() => county.close());
  const proxy = await new FlakyProxy(county.url).start();
  t.teardown(() => proxy.stop());
  proxy.mode = 'refuse'; // the cloud out of reach for the whole burst: everything waits in the outbox
  const configFile = edgeYaml(county, { cloudUrl: proxy.url, modbusPort: gauge.port });
  const stateFile = join(county.dir, 'edge-data', 'edge.db');
  let edge = edgeProcess(configFile);
  t.teardown(() => killHard(edge));

  // Warnings the edge has queued, read from its own file (WAL: a reader beside the writer).
  const queued = (): number | undefined => {
    if (!existsSync(stateFile)) return undefined;
    const db = new Database(stateFile, { fileMustExist: true, timeout: 5000 });
    try {
      return (db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'alarm' AND json_extract(payload, '$.type') = 'water_level_warning'").get() as { n: number }).n;
    } catch {
      return undefined; // the edge has not created the table yet
    } finally {
      db.close();
    }
  };
  const reach = (n: number, what: string) => waitFor(what, () => ((queued() ?? -1) >= n ? true : undefined), 60_000);

  const cycles = 3;
  for (let i = 0; i < cycles; i++) {
    await writeHolding(gauge.port, 0, [HIGH]);
    await reach(2 * i + 1, `raise ${i + 1}`);
    if (i === 1) {
      // Mid-burst: the raise is on disk, its clear not yet made. Power cut; the box boots again.
      await killHard(edge);
      edge = edgeProcess(configFile);
    }
    await writeHolding(gauge.port, 0, [LOW]);
    await reach(2 * i + 2, `clear ${i + 1}`);
  }
  t.equal(queued(), 2 * cycles, 'every transition queued once, across the kill (no second raise after the restart)');
  proxy.mode = 'forward';
  await waitFor('the outbox to drain', () => (queued() === 0 ? true : undefined), 120_000);
  await everyAlarmOnceInOrder(t, county.url, proxy, cycles);
});

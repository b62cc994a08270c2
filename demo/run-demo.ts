import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify as toYaml } from 'yaml';
import { startCloud } from '../cloud/server.js';
import { loadEdgeConfig } from '../edge/config.js';
import { EdgeAgent } from '../edge/agent.js';
import pino from 'pino';
import { SimulatedWaterLevelGauge, floodPulse, steady, type LevelScenario } from './sim/water-level-gauge.js';
import { subscribeSse } from './sse-client.js';

export interface DemoOptions {
  port: number;
  dataDir: string;
  /** The gauge that floods; the demo's default rises past the warning line within ~10 s. */
  scenario?: LevelScenario;
  log?: (line: string) => void;
}

export interface Demo {
  cloudUrl: string;
  /** A read-only API key (role auditor) for looking around: every read route needs a credential. */
  apiKey: string;
  edgeConfigFile: string;
  stop(): Promise<void>;
}

const SAMPLE_GRIDS = new URL('./sample-county.geojson', import.meta.url);

/** Starts cloud, simulated gauges and one edge; returns once all run. */
export async function startDemo(opts: DemoOptions): Promise<Demo> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const dataDir = resolve(opts.dataDir);
  rmSync(dataDir, { recursive: true, force: true }); // every demo starts from an empty county
  mkdirSync(dataDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const adminToken = `gsa_${randomBytes(18).toString('base64url')}`;
    const cloud = await startCloud({ port: opts.port, host: '127.0.0.1', db: join(dataDir, 'cloud.db'), adminToken, logger: { level: 'info', file: join(dataDir, 'cloud.log') } });
    stops.push(() => cloud.close());
    const admin = { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${cloud.url}${path}`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
      return res.json() as Promise<Record<string, unknown>>;
    };
    await post('/api/v1/grids/import', JSON.parse(readFileSync(SAMPLE_GRIDS, 'utf8')));
    const edge = await post('/api/v1/edges', { id: 'town-qingquan', name: 'Qingquan Town edge (清泉镇)' });
    const apiKey = String((await post('/api/v1/api-keys', { name: 'demo viewer', role: 'auditor' })).key);

    const riverside = await new SimulatedWaterLevelGauge(opts.scenario ?? floodPulse()).start();
    stops.push(() => riverside.stop());
    const south = await new SimulatedWaterLevelGauge(steady(2.1)).start();
    stops.push(() => south.stop());

    const edgeConfigFile = join(dataDir, 'edge.yaml');
    writeFileSync(
      edgeConfigFile,
      `# Written by the demo: one town edge polling two simulated radar gauges over Modbus TCP.\n${toYaml({
        edge: { id: 'town-qingquan', dataDir: './edge' },
        cloud: { url: cloud.url, token: edge.token },
        rules: ['water-level.yaml'],
        devices: [
          {
            id: 'wl-qingquan-001',
            name: 'Riverside bridge gauge (河滨桥水位计)',
            profile: 'generic/radar-water-level-gauge',
            connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: riverside.port, unitId: 1, timeout: '1s' },
            location: { lon: 101.04, lat: 38.8 },
            site: 'bridge',
            pollInterval: '1s',
            // The library's warning rule waits 2 min; the demo shortens it so an event shows within a minute.
            overrides: { 'water-level-warning': { hold: '10s', clearHold: '5s' } },
          },
          {
            id: 'wl-qingquan-002',
            name: 'South village culvert gauge (南关村涵洞水位计)',
            profile: 'generic/radar-water-level-gauge',
            connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: south.port, unitId: 1, timeout: '1s' },
            location: { lon: 101.07, lat: 38.68 },
            pollInterval: '1s',
          },
        ],
      })}`,
    );
    // Logs go to files so the console shows the story: the events as they open, repeat and clear.
    const edgeLog = pino({ name: 'gridsense-edge', level: 'info' }, pino.destination({ dest: join(dataDir, 'edge.log'), sync: false }));
    const agent = new EdgeAgent(loadEdgeConfig(edgeConfigFile), { logger: edgeLog });
    await agent.start();
    stops.push(() => agent.stop());

    const sse = subscribeSse(`${cloud.url}/api/v1/events/stream`, (m) => {
      const e = JSON.parse(m.data) as Record<string, unknown>;
      log(`  [${m.event}] ${String(e.title ?? `${String(e.categoryLabel)} ${String(e.alarmType)}`)} — grid ${String(e.gridName ?? e.gridId)}, priority ${String(e.priority)}, occurrences ${String(e.occurrenceCount)}`);
    }, { authorization: `Bearer ${apiKey}` });
    stops.push(async () => sse.close());
    await sse.ready;
    return { cloudUrl: cloud.url, apiKey, edgeConfigFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `npm start`: run the demo until Ctrl-C. */
export async function runDemo(opts: { port: number; dataDir: string }): Promise<void> {
  const demo = await startDemo(opts);
  const u = demo.cloudUrl;
  process.stdout.write(
    [
      '',
      'gridsense demo is running: a county cloud, the Qingquan town edge and two simulated Modbus radar gauges.',
      'The riverside gauge rises past the 3.5 m warning line (警戒水位) about 10 s from now; a 防汛 grid event opens ~10 s later.',
      '',
      `  API docs (OpenAPI)   ${u}/docs`,
      `  read-only API key    ${demo.apiKey}`,
      `  grid events          curl -H "Authorization: Bearer ${demo.apiKey}" ${u}/api/v1/events`,
      `  live event stream    curl -N -H "Authorization: Bearer ${demo.apiKey}" ${u}/api/v1/events/stream`,
      `  statistics           curl -H "Authorization: Bearer ${demo.apiKey}" ${u}/api/v1/stats/events`,
      `  alarms, grids        ${u}/api/v1/alarms, ${u}/api/v1/grids (same header)`,
      `  edge config          ${demo.edgeConfigFile}`,
      `  logs                 ${join(dirname(demo.edgeConfigFile), 'edge.log')}, ${join(dirname(demo.edgeConfigFile), 'cloud.log')}`,
      '',
      'Ctrl-C stops everything. Live events:',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  process.stdout.write('\nstopping…\n');
  await demo.stop();
  process.stdout.write('stopped cleanly\n');
}

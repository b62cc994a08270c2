// A real edge for the Node-RED tests: an EdgeAgent with one MQTT water-level gauge on its embedded
// broker (port 0), fed by a real MQTT.js client, its alarms kept in the real SQLite outbox (the cloud
// URL points at a closed port, so nothing drains them while the test looks).
import type { Test } from 'tap';
import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlarmEnvelope } from '../../contracts/alarm.js';
import type { Clock } from '../../contracts/clock.js';
import { freePort } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';
import { EdgeAgent } from '../agent.js';
import { parseEdgeConfig } from '../config.js';
import { defaultDrivers } from '../drivers/index.js';
import type { MqttDriver } from '../drivers/mqtt/driver.js';
import { silentLogger } from '../log.js';

export const GAUGE = 'wl-nr-001';
const PASSWORD = 'wl-nr-pw';

const PROFILE = `
id: test/mqtt-water-level-gauge
vendor: test
model: MQTT-WL
name: MQTT radar water-level gauge (test)
kind: water_level
protocol: mqtt
points:
  - name: water_level
    type: number
    unit: m
    range: { min: -5, max: 50 }
    mqtt: { topic: telemetry, json: level }
`;

export interface EdgeRig {
  dir: string;
  agent: EdgeAgent;
  /** Publishes one gauge message as the device and waits until the agent has seen it (not with `wait: false`: an edge in another process). */
  publish(level: number, o?: { wait?: boolean }): Promise<void>;
  /** Where the embedded broker listens. */
  brokerPort: number;
  /** The alarm envelopes in the outbox, oldest first. */
  outbox(): AlarmEnvelope[];
  /** A named state document in the edge's state database. */
  state(name: string): string | undefined;
}

/** Starts the edge (extra edge.yaml text appended); everything stops at the test's teardown. */
export async function edgeRig(t: Test, o: { extraYaml?: string; clock?: Clock; brokerPort?: number } = {}): Promise<EdgeRig> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-nodered-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'profiles'));
  writeFileSync(join(dir, 'profiles', 'gauge.yaml'), PROFILE);
  const yaml = `
edge: { id: town-nodered, dataDir: ./data }
cloud: { url: http://127.0.0.1:${await freePort()}, token: gse_nodered_test }
mqtt: { broker: { port: ${o.brokerPort ?? 0} } }
profiles: [./profiles]
devices:
  - id: ${GAUGE}
    profile: test/mqtt-water-level-gauge
    connection: { protocol: mqtt, username: ${GAUGE}, password: ${PASSWORD} }
    location: { lon: 100.78, lat: 38.79 }
    site: bridge
${o.extraYaml ?? ''}`;
  writeFileSync(join(dir, 'edge.yaml'), yaml);
  const config = parseEdgeConfig(yaml, join(dir, 'edge.yaml'));
  // The agent's own drivers, built here so the test can ask the MQTT driver where its broker listens.
  const drivers = defaultDrivers({ logger: silentLogger() }, { mqtt: { broker: config.mqtt.broker } });
  const agent = new EdgeAgent(config, { logger: silentLogger(), drivers, ...(o.clock ? { clock: o.clock } : {}) });
  await agent.start();
  t.teardown(() => agent.stop());
  const db = new Database(join(config.edge.dataDir, 'edge.db'), { readonly: true });
  t.teardown(() => db.close());

  const broker = await waitFor('the embedded broker', async () => (await (drivers.get('mqtt') as MqttDriver).embeddedBroker())?.address().port || undefined);
  let client: MqttClient | undefined;
  t.teardown(() => client?.endAsync(true));
  let pushed = 0;
  return {
    dir,
    agent,
    brokerPort: broker,
    async publish(level: number, p: { wait?: boolean } = {}) {
      client ??= await connectAsync(`mqtt://127.0.0.1:${broker}`, { username: GAUGE, password: PASSWORD, clientId: GAUGE, reconnectPeriod: 0 });
      await client.publishAsync(`devices/${GAUGE}/telemetry`, JSON.stringify({ level }), { qos: 1 });
      pushed++;
      if (p.wait === false) return;
      await waitFor(`reading ${pushed} pushed`, () => ((agent.status().devices[0]?.pushed ?? 0) >= pushed ? true : undefined));
    },
    outbox: () => (db.prepare('SELECT payload FROM outbox ORDER BY seq').all() as Array<{ payload: string }>).map((r) => JSON.parse(r.payload) as AlarmEnvelope),
    state: (name) => (db.prepare("SELECT json FROM edge_state WHERE name = ?").get(name) as { json: string } | undefined)?.json,
  };
}

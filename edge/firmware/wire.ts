// How the agent builds its firmware module from edge.yaml: nothing without a `firmware:` section; with one,
// device jobs go over the MQTT driver's embedded broker and edge jobs to the self-updater, which can
// switch releases only when the agent runs under the supervisor.
import type Database from 'better-sqlite3';
import type { Clock } from '../../contracts/clock.js';
import type { EdgeConfig } from '../config.js';
import { MqttDriver } from '../drivers/mqtt/driver.js';
import type { DriverRegistry } from '../drivers/registry.js';
import { EDGE_VERSION } from '../heartbeat.js';
import type { Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import { EdgeFirmware } from './runner.js';
import { SelfUpdater } from './self-update.js';
import { supervisedSwitch } from './supervised.js';

export interface EdgeFirmwareDeps {
  /** The configuration in force (read at each job: applyConfig may have changed the devices). */
  config: () => EdgeConfig;
  db: Database.Database;
  drivers: DriverRegistry;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  fetch?: typeof fetch;
}

export function createEdgeFirmware(d: EdgeFirmwareDeps): EdgeFirmware | undefined {
  const config = d.config();
  if (!config.firmware) return undefined;
  const logger = d.logger.child({ component: 'firmware' });
  const requestSwitch = supervisedSwitch();
  const mqtt = d.drivers.has('mqtt') ? d.drivers.get('mqtt') : undefined;
  return new EdgeFirmware({
    dataDir: config.edge.dataDir,
    db: d.db,
    cloud: { url: config.cloud.url, token: config.cloud.token },
    settings: config.firmware,
    devices: () => d.config().devices,
    broker: async () => (mqtt instanceof MqttDriver ? mqtt.embeddedBroker() : undefined),
    selfUpdate: new SelfUpdater({ dataDir: config.edge.dataDir, runningVersion: EDGE_VERSION, logger, ...(requestSwitch ? { requestSwitch } : {}) }),
    clock: d.clock,
    scheduler: d.scheduler,
    random: d.random,
    logger,
    ...(d.fetch ? { fetch: d.fetch } : {}),
  });
}

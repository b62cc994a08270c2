import { join } from 'node:path';
import type { Clock } from '../../contracts/clock.js';
import type { TelemetryConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import { Influx1TelemetryStore } from './influx1.js';
import { Influx2TelemetryStore } from './influx2.js';
import { SqliteTelemetryStore } from './sqlite.js';
import type { TelemetryStore } from './store.js';

export type { TelemetryQuery, TelemetryStore } from './store.js';

export interface TelemetryDeps {
  dataDir: string;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
}

/** The store edge.yaml asks for: embedded SQLite in dataDir by default, InfluxDB 1.x, or InfluxDB 2.x. */
export function createTelemetryStore(cfg: TelemetryConfig, deps: TelemetryDeps): TelemetryStore {
  const common = {
    batchSize: cfg.batchSize,
    flushIntervalMs: cfg.flushIntervalMs,
    maxBuffer: cfg.maxBuffer,
    clock: deps.clock,
    scheduler: deps.scheduler,
    random: deps.random,
    logger: deps.logger.child({ component: 'telemetry' }),
  };
  if (cfg.type === 'influxdb') {
    if (!cfg.influxdb) throw new Error('telemetry type influxdb needs its influxdb block (config validation checks this)');
    return new Influx1TelemetryStore({ ...common, ...cfg.influxdb });
  }
  if (cfg.type === 'influxdb2') {
    if (!cfg.influxdb2) throw new Error('telemetry type influxdb2 needs its influxdb2 block (config validation checks this)');
    return new Influx2TelemetryStore({ ...common, ...cfg.influxdb2 });
  }
  return new SqliteTelemetryStore({ ...common, file: join(deps.dataDir, 'telemetry.db'), retentionMs: cfg.retentionMs });
}

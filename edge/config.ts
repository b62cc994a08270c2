// edge.yaml → EdgeConfig. Every problem is collected and reported at once, each with the file, the
// JSON pointer, the line and what is wrong, so a technician fixes the file in one pass.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GsError } from '../contracts/errors.js';
import type { Location } from '../contracts/geo.js';
import { ConfigChecker } from './config-check.js';
import type { ConnectionConfig } from './drivers/driver.js';
import { defaultDrivers } from './drivers/index.js';
import type { DriverRegistry } from './drivers/registry.js';
import { parseYamlWithLines, withLine, YamlSyntaxError, type ParsedYaml } from '../contracts/yaml.js';
import { resolveMqttSection, type MqttSection, type MqttSettings } from './broker/config.js';
import type { FirmwareSettings } from './firmware/config.js';
import type { NodeRedSettings } from './node-red/config.js';

export interface DeviceConfig {
  id: string;
  name: string;
  profile: string;
  connection: ConnectionConfig;
  location?: Location;
  site?: string;
  /** The building or compound (rules' `all:` combines devices of one place); not the kind of place. */
  place?: string;
  pollIntervalMs: number;
  /** Missed polls in a row before the device counts as offline (default: the profile's offlineAfterSeconds, else 3). */
  offlineAfterMisses?: number;
  /** Per-device rule parameters by rule id, validated against the loaded rules. */
  overrides?: Record<string, Record<string, unknown>>;
  /** Cameras (device ids) linked to this device: what its rules' snapshot actions photograph. */
  cameras?: string[];
}

export interface TelemetryConfig {
  type: 'sqlite' | 'influxdb' | 'influxdb2';
  retentionMs: number;
  batchSize: number;
  flushIntervalMs: number;
  maxBuffer: number;
  influxdb?: { url: string; database: string; username?: string; password?: string };
  influxdb2?: { url: string; token: string; org: string; bucket: string };
  /** Telemetry summaries for the cloud every this often; 0: none (default 5 min). */
  summaryIntervalMs?: number;
}

export interface EdgeConfig {
  /** The file it came from (absolute), for messages. */
  file: string;
  edge: { id: string; dataDir: string };
  cloud: { url: string; token: string; batchSize: number; heartbeatMs: number; remoteConfig: boolean; replayRatePerS?: number };
  telemetry: TelemetryConfig;
  /** The outbox's disk quota (default 256 MiB). */
  outbox?: { maxBytes: number };
  /** The embedded MQTT broker (defaults filled in). */
  mqtt: MqttSettings;
  /** Firmware campaigns (edge/firmware/); absent when edge.yaml has no `firmware:` section. */
  firmware?: FirmwareSettings;
  /** The embedded Node-RED editor, when edge.yaml has a `nodeRed:` section. */
  nodeRed?: NodeRedSettings;
  /** Profile folders, absolute: the bundled library first, then the config's own. */
  profileDirs: string[];
  /** Rule files to load, absolute: the config's `rules`, then the default rules of the profiles in use. */
  ruleFiles: string[];
  devices: DeviceConfig[];
  /** The local HTTP API on 127.0.0.1, when configured. */
  localApi?: { port: number; token?: string };
}

export interface ParseOptions {
  /** Folder relative paths resolve against (default: the config file's folder). */
  baseDir?: string;
  drivers?: DriverRegistry;
}

/** Reads and validates edge.yaml; throws GS_ERR_CONFIG_READ / _YAML / _INVALID. */
export function loadEdgeConfig(path: string, opts: Omit<ParseOptions, 'baseDir'> = {}): EdgeConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new GsError('GS_ERR_CONFIG_READ', `${file}: cannot read the configuration (${why})`, [{ file, path: '', message: `cannot read (${why})` }]);
  }
  return parseEdgeConfig(text, file, opts);
}

export function parseEdgeConfig(text: string, file: string, opts: ParseOptions = {}): EdgeConfig {
  const baseDir = opts.baseDir ?? dirname(resolve(file));
  let doc: ParsedYaml;
  try {
    doc = parseYamlWithLines(text);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    throw new GsError('GS_ERR_CONFIG_YAML', `${file}: not valid YAML: ${err.detail}`, [{ file, path: '', message: err.detail }]);
  }
  // The drivers check connections against this edge's broker settings (an embedded-broker device
  // while the broker is disabled is an error); a malformed section is the schema's to report.
  const section = (doc.value as { mqtt?: MqttSection } | null)?.mqtt;
  const mqtt = resolveMqttSection(typeof section === 'object' && section !== null ? section : undefined);
  const checker = new ConfigChecker(doc.value, file, baseDir, opts.drivers ?? defaultDrivers({}, { mqtt: { broker: mqtt.broker } }), mqtt);
  const config = checker.check();
  const details = checker.details.map((d) => (d.file === undefined || d.file === file ? withLine({ ...d, file }, doc) : d));
  if (details.length > 0 || !config) {
    throw new GsError('GS_ERR_CONFIG_INVALID', `${file} is not valid: ${details.length} problem(s)`, details);
  }
  return config;
}



// The semantic half of edge.yaml validation: profiles exist, ids are unique, rule files load and
// overrides fit them, connection blocks suit their driver. It runs even when the schema fails — on
// whatever parts have the right shape — so one run lists a bad duration, an unknown profile and a
// duplicate id together.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { MqttSettings } from './broker/config.js';
import { resolve } from 'node:path';
import { durationMs, type Duration } from '../contracts/duration.js';
import { isGsError, type ErrorDetail } from '../contracts/errors.js';
import type { Location } from '../contracts/geo.js';
import { schemaErrors } from '../contracts/validate.js';
import { BUNDLED_PROFILES_DIR, ProfileLibrary } from '../device-profiles/library.js';
import { loadRuleFile } from '../rules/compile.js';
import { resolveRuleFile } from '../rules/library.js';
import { validateOverrides } from '../rules/overrides.js';
import type { RuleDevice, RuleSet } from '../rules/types.js';
import type { DeviceConfig, EdgeConfig, TelemetryConfig } from './config.js';
import { EdgeConfigFile } from './config-schema.js';
import { actionTargetProblems } from './actions/check.js';
import type { ConnectionConfig } from './drivers/driver.js';
import type { DriverRegistry } from './drivers/registry.js';
import { checkFirmwareSection } from './firmware/config.js';
import { resolveNodeRedSection, type NodeRedSection } from './node-red/config.js';


const DEFAULT_POLL = '10s';
const DEFAULT_TELEMETRY = { type: 'sqlite' as const, retention: '7d', batchSize: 500, flushInterval: '1s', maxBuffer: 100_000, summaryInterval: '5m' };
export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_REPLAY_RATE_PER_S = 200;

/** "256MB" → bytes (KB/MB/GB are powers of 1024); undefined when it is not a size. */
export function byteSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? 'B') as 'B']);
  return n > 0 ? n : undefined;
}

const ANY_OF = 'must match a schema in anyOf';
const UNION_HINTS: Record<string, string> = {
  pollInterval: 'must be a duration such as 500ms, 30s, 2m, 1h, 1d, or a number of seconds',
  timeout: 'must be a duration such as 500ms, 1s, or a number of seconds',
  retention: 'must be a duration such as 12h, 7d, or a number of seconds',
  flushInterval: 'must be a duration such as 500ms, 1s, or a number of seconds',
  type: 'must be sqlite, influxdb or influxdb2',
  summaryInterval: 'must be a duration such as 5m, 1h, or "off"',
  maxBytes: 'must be a size in bytes, or a number with KB, MB or GB (e.g. 256MB)',
};

/** A failed union reports each branch; keep one sentence saying what the field accepts. */
function readable(details: ErrorDetail[]): ErrorDetail[] {
  const unions = new Set(details.filter((d) => d.message === ANY_OF).map((d) => d.path));
  return details.flatMap((d) => {
    if (!unions.has(d.path)) return [d];
    if (d.message !== ANY_OF) return [];
    const field = d.path.slice(d.path.lastIndexOf('/') + 1);
    return [{ ...d, message: UNION_HINTS[field] ?? d.message }];
  });
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ms = (d: unknown, fallback: Duration): number => {
  try {
    return durationMs((d ?? fallback) as Duration);
  } catch {
    return durationMs(fallback);
  }
};

/** Collects every problem in `details`; check() returns the config only when there are none. */
export class ConfigChecker {
  readonly details: ErrorDetail[] = [];
  private profiles = new ProfileLibrary();
  private readonly ruleSets = new Map<string, RuleSet>();
  /** Rule references that failed, reported once however many devices name them. */
  private readonly badRuleRefs = new Set<string>();

  constructor(
    private readonly doc: unknown,
    private readonly file: string,
    private readonly baseDir: string,
    private readonly drivers: DriverRegistry,
    private readonly mqtt: MqttSettings,
  ) {}

  private add(path: string, message: string): void {
    this.details.push({ file: this.file, path, message });
  }

  private absorb(err: unknown, path: string): void {
    if (!isGsError(err)) throw err;
    if (err.details.length === 0) this.add(path, err.message);
    // Problems inside a profile or rule file keep that file's name and pointer.
    for (const d of err.details) this.details.push(d.file && d.file !== this.file ? d : { file: this.file, path: `${path}${d.path}`, message: d.message });
  }

  check(): EdgeConfig | undefined {
    const schemaOk = (() => {
      const found = readable(schemaErrors(EdgeConfigFile, this.doc, this.file));
      this.details.push(...found);
      return found.length === 0;
    })();
    const doc = isObj(this.doc) ? this.doc : {};
    const cloud = this.checkCloud(doc.cloud);
    const telemetry = this.checkTelemetry(doc.telemetry);
    const outbox = { maxBytes: byteSize(isObj(doc.outbox) ? doc.outbox.maxBytes : undefined) ?? DEFAULT_OUTBOX_MAX_BYTES };
    const profileDirs = this.loadProfiles(doc.profiles);
    const ruleFiles = this.loadRules(doc.rules);
    const devices = this.checkDevices(doc.devices, ruleFiles);
    this.details.push(...actionTargetProblems(devices, (id) => (this.profiles.has(id) ? this.profiles.get(id) : undefined), ruleFiles.map((f) => this.ruleSets.get(f)).filter((s): s is RuleSet => s !== undefined), this.file));
    const firmware = checkFirmwareSection(doc.firmware, this.baseDir, (d) => this.add(d.path, d.message));
    const nodeRed = schemaOk && isObj(doc.nodeRed) ? resolveNodeRedSection(doc.nodeRed as NodeRedSection) : undefined;
    for (const p of nodeRed?.problems ?? []) this.add(p.path, p.message);
    if (!schemaOk || this.details.length > 0 || !cloud) return undefined;
    const edge = doc.edge as { id: string; dataDir: string };
    return {
      file: this.file,
      edge: { id: edge.id, dataDir: resolve(this.baseDir, edge.dataDir) },
      cloud,
      telemetry,
      outbox,
      mqtt: this.mqtt,
      ...(nodeRed?.settings ? { nodeRed: nodeRed.settings } : {}),
      profileDirs,
      ruleFiles,
      devices,
      ...(isObj(doc.localApi) ? { localApi: doc.localApi as unknown as NonNullable<EdgeConfig['localApi']> } : {}),
      ...(firmware ? { firmware } : {}),
    };
  }

  /**
   * Devices on the embedded broker each log in with their own name and own a topic root: two with the
   * same name, or one root inside another's, would let one device speak for another.
   */
  private checkMqttAccounts(devices: DeviceConfig[]): void {
    const users = new Map<string, number>();
    const roots: Array<{ root: string; i: number }> = [];
    devices.forEach((d, i) => {
      const c = d.connection as { protocol?: unknown; broker?: unknown; username?: unknown; topicRoot?: unknown };
      if (c?.protocol !== 'mqtt' || (c.broker !== undefined && c.broker !== 'embedded')) return;
      if (typeof c.username === 'string') {
        const prior = users.get(c.username);
        if (prior !== undefined) this.add(`/devices/${i}/connection/username`, `MQTT user "${c.username}" is also /devices/${prior}'s; every device logs in with its own`);
        else users.set(c.username, i);
      }
      const root = typeof c.topicRoot === 'string' ? c.topicRoot : `devices/${d.id}/`;
      const clash = roots.find((r) => r.root.startsWith(root) || root.startsWith(r.root));
      if (clash) this.add(`/devices/${i}/connection/topicRoot`, `topic root "${root}" overlaps /devices/${clash.i}'s "${clash.root}"`);
      roots.push({ root, i });
    });
  }

  private checkCloud(c: unknown): EdgeConfig['cloud'] | undefined {
    if (!isObj(c)) return undefined;
    const hasToken = typeof c.token === 'string';
    const hasFile = typeof c.tokenFile === 'string';
    if (hasToken === hasFile) {
      this.add('/cloud', hasToken ? 'give "token" or "tokenFile", not both' : 'needs "token" (the edge token from `gridsense edges create`) or "tokenFile"');
      return undefined;
    }
    let token = c.token as string | undefined;
    if (hasFile) {
      const path = resolve(this.baseDir, c.tokenFile as string);
      try {
        token = readFileSync(path, 'utf8').trim();
        if (!token) this.add('/cloud/tokenFile', `${path} is empty`);
      } catch (err) {
        this.add('/cloud/tokenFile', `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (typeof c.url === 'string') {
      try {
        new URL(c.url);
      } catch {
        this.add('/cloud/url', `"${c.url}" is not a URL`);
      }
    }
    if (!token || typeof c.url !== 'string') return undefined;
    const heartbeatMs = ms(c.heartbeat, 60_000);
    if (c.heartbeat !== undefined && heartbeatMs < 1000) this.add('/cloud/heartbeat', 'must be at least 1s');
    return {
      url: c.url.replace(/\/+$/, ''), token, batchSize: typeof c.batchSize === 'number' ? c.batchSize : 100, heartbeatMs, remoteConfig: c.remoteConfig === true,
      replayRatePerS: typeof c.replayRatePerS === 'number' ? c.replayRatePerS : DEFAULT_REPLAY_RATE_PER_S,
    };
  }

  private checkTelemetry(t: unknown): TelemetryConfig {
    const o = isObj(t) ? t : {};
    const type = o.type === 'influxdb' || o.type === 'influxdb2' ? o.type : 'sqlite';
    if (type === 'influxdb' && !isObj(o.influxdb)) this.add('/telemetry', 'type influxdb needs an "influxdb" block with url and database');
    if (type === 'influxdb2' && !isObj(o.influxdb2)) this.add('/telemetry', 'type influxdb2 needs an "influxdb2" block with url, token, org and bucket');
    const cfg: TelemetryConfig = {
      type,
      retentionMs: ms(o.retention, DEFAULT_TELEMETRY.retention),
      batchSize: typeof o.batchSize === 'number' ? o.batchSize : DEFAULT_TELEMETRY.batchSize,
      flushIntervalMs: ms(o.flushInterval, DEFAULT_TELEMETRY.flushInterval),
      maxBuffer: typeof o.maxBuffer === 'number' ? o.maxBuffer : DEFAULT_TELEMETRY.maxBuffer,
      summaryIntervalMs: o.summaryInterval === 'off' ? 0 : ms(o.summaryInterval, DEFAULT_TELEMETRY.summaryInterval),
    };
    if (o.summaryInterval !== undefined && o.summaryInterval !== 'off' && (cfg.summaryIntervalMs ?? 0) < 1000) this.add('/telemetry/summaryInterval', 'must be at least 1s (or "off")');
    if (o.retention !== undefined && cfg.retentionMs <= 0) this.add('/telemetry/retention', 'must be longer than 0');
    if (o.flushInterval !== undefined && cfg.flushIntervalMs <= 0) this.add('/telemetry/flushInterval', 'must be longer than 0');
    if (isObj(o.influxdb)) cfg.influxdb = o.influxdb as unknown as TelemetryConfig['influxdb'];
    if (isObj(o.influxdb2)) cfg.influxdb2 = o.influxdb2 as unknown as TelemetryConfig['influxdb2'];
    return cfg;
  }

  private loadProfiles(p: unknown): string[] {
    const dirs = [BUNDLED_PROFILES_DIR];
    if (Array.isArray(p)) {
      p.forEach((d, i) => {
        if (typeof d !== 'string') return;
        const dir = resolve(this.baseDir, d);
        if (!existsSync(dir) || !statSync(dir).isDirectory()) this.add(`/profiles/${i}`, `profile folder ${dir} does not exist`);
        else dirs.push(dir);
      });
    }
    try {
      this.profiles = ProfileLibrary.load(dirs);
    } catch (err) {
      this.absorb(err, '/profiles');
      // Still check devices against the bundled profiles, rather than calling every profile unknown.
      this.profiles = ProfileLibrary.load([BUNDLED_PROFILES_DIR]);
    }
    return dirs;
  }

  /** Resolves and compiles one rule file once; problems are reported at `path`. */
  private ruleFile(ref: string, path: string): string | undefined {
    if (this.badRuleRefs.has(ref)) return undefined;
    const file = this.resolveRule(ref, path);
    if (file === undefined) this.badRuleRefs.add(ref);
    return file;
  }

  private resolveRule(ref: string, path: string): string | undefined {
    let file: string;
    try {
      file = resolveRuleFile(ref, this.baseDir);
    } catch (err) {
      if (!isGsError(err)) throw err;
      // Not finding the file is this config's problem, at the entry that names it.
      this.add(path, `rule file "${ref}" not found: ${err.details[0]?.message ?? err.message}`);
      return undefined;
    }
    if (this.ruleSets.has(file)) return file;
    if (!existsSync(file)) {
      this.add(path, `rule file ${file} does not exist`);
      return undefined;
    }
    try {
      this.ruleSets.set(file, loadRuleFile(file));
    } catch (err) {
      this.absorb(err, path);
      return undefined;
    }
    return file;
  }

  private loadRules(r: unknown): string[] {
    const files: string[] = [];
    if (Array.isArray(r)) {
      r.forEach((ref, i) => {
        if (typeof ref !== 'string') return;
        const f = this.ruleFile(ref, `/rules/${i}`);
        if (f && !files.includes(f)) files.push(f);
      });
    }
    return files;
  }

  private checkDevices(devs: unknown, ruleFiles: string[]): DeviceConfig[] {
    if (!Array.isArray(devs)) return [];
    const seen = new Map<string, number>();
    const out: DeviceConfig[] = [];
    const overrideChecks: Array<{ at: string; device: RuleDevice }> = [];
    devs.forEach((d, i) => {
      if (!isObj(d)) return;
      const at = `/devices/${i}`;
      if (typeof d.id === 'string') {
        const prior = seen.get(d.id);
        if (prior !== undefined) this.add(`${at}/id`, `duplicate device id "${d.id}" (also /devices/${prior})`);
        else seen.set(d.id, i);
      }
      let protocol: string | undefined;
      let kind: string | undefined;
      if (typeof d.profile === 'string') {
        if (!this.profiles.has(d.profile)) {
          const closest = closestIds(d.profile, this.profiles.all().map((p) => p.id), 3).join(', ');
          this.add(`${at}/profile`, `unknown device profile "${d.profile}" (closest known: ${closest})`);
        } else {
          const profile = this.profiles.get(d.profile);
          protocol = profile.protocol;
          kind = profile.kind;
          (profile.defaultRules ?? []).forEach((ref) => {
            const f = this.ruleFile(ref, `${at}/profile`);
            if (f && !ruleFiles.includes(f)) ruleFiles.push(f);
          });
        }
      }
      const conn = d.connection;
      if (isObj(conn) && typeof conn.protocol === 'string') {
        if (!this.drivers.has(conn.protocol)) {
          this.add(`${at}/connection/protocol`, `no driver for "${conn.protocol}" (known: ${this.drivers.protocols().join(', ')})`);
        } else {
          const driver = this.drivers.get(conn.protocol);
          for (const p of driver.validateConnection(conn as ConnectionConfig)) this.add(`${at}/connection${p.path}`, p.message);
          if (protocol && driver.profileProtocol !== protocol) {
            this.add(`${at}/connection/protocol`, `profile "${String(d.profile)}" speaks ${protocol}; "${conn.protocol}" is a ${driver.profileProtocol} driver`);
          }
        }
      }
      const pollIntervalMs = ms(d.pollInterval, DEFAULT_POLL);
      if (d.pollInterval !== undefined && pollIntervalMs < 10) this.add(`${at}/pollInterval`, 'must be at least 10ms');
      if (typeof d.id === 'string' && typeof d.profile === 'string' && kind && isObj(d.overrides)) {
        overrideChecks.push({ at, device: { id: d.id, profile: d.profile, kind, overrides: d.overrides as DeviceConfig['overrides'] } });
      }
      out.push({
        id: d.id as string,
        name: typeof d.name === 'string' ? d.name : (d.id as string),
        profile: d.profile as string,
        connection: conn as ConnectionConfig,
        ...(isObj(d.location) ? { location: d.location as unknown as Location } : {}),
        ...(typeof d.site === 'string' ? { site: d.site } : {}),
        ...(typeof d.place === 'string' ? { place: d.place } : {}),
        pollIntervalMs,
        ...(typeof d.offlineAfterMisses === 'number' ? { offlineAfterMisses: d.offlineAfterMisses } : {}),
        ...(isObj(d.overrides) ? { overrides: d.overrides as DeviceConfig['overrides'] } : {}),
        ...(Array.isArray(d.cameras) ? { cameras: d.cameras.filter((c): c is string => typeof c === 'string') } : {}),
      });
    });
    this.checkMqttAccounts(out);
    // Overrides are checked against every rule the edge will run, which is known only after all
    // devices have contributed their profiles' default rules.
    const sets = ruleFiles.map((f) => this.ruleSets.get(f)).filter((s): s is RuleSet => s !== undefined);
    for (const { at, device } of overrideChecks) {
      try {
        validateOverrides(sets, device, { file: this.file, path: at });
      } catch (err) {
        this.absorb(err, '');
      }
    }
    return out;
  }
}

/** The `n` ids most like `wanted` (Dice coefficient on character bigrams): a typo's likely fixes. */
function closestIds(wanted: string, ids: string[], n: number): string[] {
  const bigrams = (s: string) => new Set(Array.from({ length: Math.max(0, s.length - 1) }, (_, i) => s.slice(i, i + 2)));
  const w = bigrams(wanted);
  const score = (id: string) => {
    const b = bigrams(id);
    let shared = 0;
    for (const x of b) if (w.has(x)) shared++;
    return (2 * shared) / (w.size + b.size || 1);
  };
  return ids.map((id) => ({ id, s: score(id) })).sort((a, b) => b.s - a.s || a.id.localeCompare(b.id)).slice(0, n).map((x) => x.id);
}

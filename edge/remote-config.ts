// Remote configuration, the edge's side: the cloud holds this edge's devices and rules
// (contracts/edge-config.ts); the edge long-polls GET /api/v1/edges/config with the version it runs,
// validates what comes back exactly as it validates its own edge.yaml, applies it without a restart,
// and reports the outcome. A configuration it rejects is reported with every problem and the last
// good one keeps running. The last applied one is kept on disk, so a reboot without the uplink comes
// back with the devices the cloud last gave it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { DesiredConfig, type ConfigReport } from '../contracts/edge-config.js';
import { GsError, isGsError } from '../contracts/errors.js';
import { schemaErrors } from '../contracts/validate.js';
import type { EdgeAgent } from './agent.js';
import { fullJitter, type BackoffPolicy } from './backoff.js';
import { parseEdgeConfig, type EdgeConfig } from './config.js';
import { errFields, type Logger } from './log.js';
import type { Random, Scheduler } from './scheduler.js';

const BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };

/** Where the last applied desired configuration is kept. */
export function desiredConfigCache(dataDir: string): string {
  return join(dataDir, 'desired-config.json');
}

export function readCachedDesired(dataDir: string): DesiredConfig | undefined {
  try {
    const value = JSON.parse(readFileSync(desiredConfigCache(dataDir), 'utf8')) as unknown;
    return schemaErrors(DesiredConfig, value).length === 0 ? (value as DesiredConfig) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * edge.yaml with its `devices` and `rules` replaced by the cloud's: validated by the same checks, with
 * problems pointing at /devices/<i>/… of the desired configuration.
 */
export function effectiveConfig(localFile: string, desired: DesiredConfig | undefined): EdgeConfig {
  const text = readFileSync(localFile, 'utf8');
  if (!desired) return parseEdgeConfig(text, localFile);
  const doc = (parseYaml(text) ?? {}) as Record<string, unknown>;
  return parseEdgeConfig(toYaml({ ...doc, rules: desired.rules, devices: desired.devices }), localFile);
}

export interface RemoteConfigOptions {
  agent: EdgeAgent;
  /** The local edge.yaml (edge, cloud, telemetry, mqtt stay local). */
  localFile: string;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  /** Long-poll length asked of the cloud, seconds. */
  waitS?: number;
  fetch?: typeof fetch;
  /** After each attempt to apply (tests). */
  onApplied?: (report: ConfigReport) => void;
}

export class RemoteConfigClient {
  private running = false;
  private loop?: Promise<void>;
  private abort?: AbortController;
  private failures = 0;
  private sleeping?: { timer: unknown; wake: () => void };
  /** The version applied (or cached at start); sent as If-None-Match. */
  version?: number;
  private current?: DesiredConfig;

  constructor(private readonly o: RemoteConfigOptions) {
    const cached = readCachedDesired(o.agent.config.edge.dataDir);
    if (cached) {
      this.current = cached;
      this.version = cached.version;
    }
  }

  /** The desired configuration in force, for the file watcher's reloads. */
  desired(): DesiredConfig | undefined {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort?.abort();
    this.sleeping?.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const next = await this.fetchDesired();
        this.failures = 0;
        if (next) await this.apply(next);
      } catch (err) {
        if (!this.running) return;
        if (this.failures === 0) this.o.logger.warn(errFields(err), 'remote configuration not reachable; retrying');
        await this.sleep(fullJitter(this.failures++, BACKOFF, this.o.random));
      }
    }
  }

  /** The cloud's configuration when it differs from ours; undefined when the long-poll ran out. */
  private async fetchDesired(): Promise<DesiredConfig | undefined> {
    const { url, token } = this.o.agent.config.cloud;
    this.abort = new AbortController();
    const waitS = this.o.waitS ?? 30;
    const timeout = setTimeout(() => this.abort?.abort(), (waitS + 15) * 1000);
    try {
      const res = await (this.o.fetch ?? fetch)(`${url}/api/v1/edges/config?wait=${waitS}`, {
        headers: { authorization: `Bearer ${token}`, ...(this.version !== undefined ? { 'if-none-match': `"${this.version}"` } : {}) },
        signal: this.abort.signal,
      });
      if (res.status === 304) {
        await res.arrayBuffer();
        return undefined;
      }
      const text = await res.text();
      if (!res.ok) throw new GsError('GS_ERR_INTERNAL', `GET /api/v1/edges/config: HTTP ${res.status} ${text.slice(0, 200)}`);
      const value = JSON.parse(text) as unknown;
      const problems = schemaErrors(DesiredConfig, value);
      if (problems.length > 0) throw new GsError('GS_ERR_CONFIG_INVALID', 'the cloud sent a configuration that is not a DesiredConfig', problems);
      const desired = value as DesiredConfig;
      return desired.version === this.version ? undefined : desired;
    } finally {
      clearTimeout(timeout);
    }
  }

  private async apply(desired: DesiredConfig): Promise<void> {
    const { agent, logger } = this.o;
    let report: ConfigReport;
    try {
      const result = await agent.applyConfig(effectiveConfig(this.o.localFile, desired));
      this.current = desired;
      this.version = desired.version;
      agent.configVersion = desired.version;
      this.save(desired);
      report = { version: desired.version, applied: true };
      logger.info({ version: desired.version, ...result }, 'remote configuration applied');
    } catch (err) {
      // Remember the version so the same rejected configuration is not fetched and tried in a loop;
      // the cloud learns why from the report and the next change gets a new version.
      this.version = desired.version;
      const e = isGsError(err) ? err : new GsError('GS_ERR_INTERNAL', String(err));
      report = { version: desired.version, applied: false, error: { code: e.code, message: e.message.slice(0, 2000), details: e.details.slice(0, 200).map((d) => ({ path: d.path, message: d.message })) } };
      logger.error({ version: desired.version, code: e.code, details: e.details }, 'remote configuration rejected; the last good one keeps running');
    }
    this.o.onApplied?.(report);
    await this.report(report);
  }

  private async report(report: ConfigReport): Promise<void> {
    const { url, token } = this.o.agent.config.cloud;
    try {
      const res = await (this.o.fetch ?? fetch)(`${url}/api/v1/edges/config/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(report),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
    } catch (err) {
      // The heartbeat carries the version too; a lost report is not worth a retry queue.
      this.o.logger.warn(errFields(err), 'configuration report not delivered');
    }
  }

  private save(desired: DesiredConfig): void {
    const file = desiredConfigCache(this.o.agent.config.edge.dataDir);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(desired));
    renameSync(`${file}.tmp`, file);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.o.scheduler.clearTimeout(timer);
        this.sleeping = undefined;
        resolve();
      };
      const timer = this.o.scheduler.setTimeout(wake, ms);
      this.sleeping = { timer, wake };
    });
  }
}

// Hot reload: edge.yaml, the rule files it loads and the profile folders are watched; a change is
// applied to the running agent (EdgeAgent.applyConfig). A file that does not load — broken YAML, a
// rule that does not compile, a profile with an error — is reported with its details, and the last
// good configuration keeps running.
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { isGsError } from '../contracts/errors.js';
import type { EdgeAgent } from './agent.js';
import { loadEdgeConfig, type EdgeConfig } from './config.js';
import { errFields, type Logger } from './log.js';
import type { Scheduler, TimerHandle } from './scheduler.js';

export interface ConfigWatchOptions {
  agent: EdgeAgent;
  logger: Logger;
  scheduler: Scheduler;
  /** Editors write a file in several steps; wait this long after the last event. */
  debounceMs?: number;
  /** The configuration to apply (default: edge.yaml as it is on disk; with remote configuration, merged with the cloud's). */
  load?: () => EdgeConfig;
  /** Called after each attempt (tests). */
  onReload?: (outcome: { ok: true; added: string[]; removed: string[]; changed: string[] } | { ok: false; error: unknown }) => void;
}

export class ConfigWatcher {
  private watchers: FSWatcher[] = [];
  private timer?: TimerHandle;
  private running: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly o: ConfigWatchOptions) {}

  start(): void {
    this.rewatch(this.o.agent.config);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  /** Waits for a reload in progress (tests, shutdown). */
  idle(): Promise<void> {
    return this.running;
  }

  /**
   * Folders, not files: editors replace a file by renaming a new one over it, which a watch on the
   * old file's inode would miss. The set follows the configuration (a newly named rule file is watched).
   */
  private rewatch(config: EdgeConfig): void {
    for (const w of this.watchers) w.close();
    const dirs = new Set([dirname(config.file), ...config.ruleFiles.map((f) => dirname(f)), ...config.profileDirs]);
    this.watchers = [...dirs].flatMap((dir) => {
      try {
        const w = watch(dir, { persistent: false }, () => this.changed());
        w.on('error', (err) => this.o.logger.warn({ dir, ...errFields(err) }, 'config watch failed'));
        return [w];
      } catch (err) {
        this.o.logger.warn({ dir, ...errFields(err) }, 'cannot watch folder; changes there need a restart');
        return [];
      }
    });
  }

  private changed(): void {
    if (this.closed) return;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = this.o.scheduler.setTimeout(() => {
      this.timer = undefined;
      this.running = this.running.then(() => this.reload());
    }, this.o.debounceMs ?? 500);
  }

  private async reload(): Promise<void> {
    if (this.closed) return;
    const { agent, logger } = this.o;
    try {
      const next = this.o.load ? this.o.load() : loadEdgeConfig(agent.config.file);
      const result = await agent.applyConfig(next);
      this.rewatch(next);
      this.o.onReload?.({ ok: true, ...result });
    } catch (err) {
      // The last good configuration keeps running; the technician sees exactly what is wrong.
      logger.error({ ...errFields(err), ...(isGsError(err) ? { details: err.details } : {}) }, 'configuration change not applied; the last good one keeps running');
      this.o.onReload?.({ ok: false, error: err });
    }
  }
}

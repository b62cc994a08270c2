// The supervisor (`gridsense edge supervise -c edge.yaml`): a small long-lived parent that runs the edge
// agent from `<dataDir>/current` and switches releases when the agent asks (a self-update job):
//   swap `current` → stop the old agent → start the new one → wait for it to say healthy (IPC) within the
//   deadline → done; or, when it crashes or stays silent, swap back, start the old one again and report
//   the job failed with the version that runs. It also restarts an agent that dies, with backoff.
// The switch in progress is written to <dataDir>/self-update.json first, so a box that loses power
// mid-switch finishes the health check when it comes back, and an undelivered report is sent again.
import { fork, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import type { FirmwareJobReport } from '../../contracts/firmware.js';
import { fullJitter } from '../backoff.js';
import { errFields, type Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import { FirmwareCloud } from './cloud.js';
import { currentRelease, RELEASE_ENTRY, releasesDir, releaseVersion, switchCurrent } from './release.js';
import { isSupervisorMessage, SUPERVISED_ENV, type SwitchRequest } from './supervised.js';

export interface SupervisorOptions {
  dataDir: string;
  /** Arguments for the release's entry script, e.g. ['edge', '--config', '/etc/gridsense/edge.yaml']. */
  args: string[];
  cloud: { url: string; token: string };
  /** The release to run while `current` does not exist yet: the installation the supervisor runs from. */
  bootstrap?: string;
  /** How long a new release has to report healthy (default 120 s). */
  healthDeadlineMs?: number;
  /** How long an agent has to exit after SIGTERM before SIGKILL (default 15 s). */
  stopGraceMs?: number;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  fetch?: typeof fetch;
  /** Extra environment for the agent. */
  env?: Record<string, string>;
  /** The agent's stdio (default: inherit, plus the IPC channel). */
  stdio?: StdioOptions;
}

export interface SwitchRecord {
  jobId: string;
  from: { version: string; dir: string };
  to: { version: string; dir: string };
  phase: 'switching' | 'succeeded' | 'rolled-back';
  reason?: string;
  decidedAt?: number;
  reported: boolean;
}

const RESTART = { baseMs: 1000, capMs: 60_000 };
const REPORT_RETRY = { baseMs: 1000, capMs: 60_000 };

export function switchRecordFile(dataDir: string): string {
  return join(dataDir, 'self-update.json');
}

export function readSwitchRecord(dataDir: string): SwitchRecord | undefined {
  try {
    return JSON.parse(readFileSync(switchRecordFile(dataDir), 'utf8')) as SwitchRecord;
  } catch {
    return undefined;
  }
}

export class EdgeSupervisor {
  private child?: ChildProcess;
  private stopping = false;
  private switching?: Promise<void>;
  private restartTimer?: unknown;
  private crashes = 0;
  private readonly cloud: FirmwareCloud;
  /** Timers that stop() must cut short, with what each does when cut: nothing waits forever on a stop. */
  private readonly timers = new Map<unknown, () => void>();
  private delivering?: Promise<void>;

  constructor(private readonly o: SupervisorOptions) {
    this.cloud = new FirmwareCloud({ ...o.cloud, ...(o.fetch ? { fetch: o.fetch } : {}) });
  }

  async start(): Promise<void> {
    if (!currentRelease(this.o.dataDir)) {
      if (!this.o.bootstrap) throw new GsError('GS_ERR_CONFIG_INVALID', `${join(this.o.dataDir, 'current')} does not exist and no release to start from was given`);
      switchCurrent(this.o.dataDir, this.o.bootstrap);
    }
    const rec = readSwitchRecord(this.o.dataDir);
    if (rec?.phase === 'switching') {
      // Power went mid-switch: finish it (the new release gets its health check, or the old one back).
      this.o.logger.warn({ jobId: rec.jobId, to: rec.to.version }, 'a release switch was interrupted; checking the new release again');
      this.switching = this.runSwitch(rec);
      return;
    }
    this.launch();
    if (rec && !rec.reported) this.deliver(rec);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== undefined) this.o.scheduler.clearTimeout(this.restartTimer);
    for (const [t, cut] of [...this.timers]) {
      this.o.scheduler.clearTimeout(t);
      cut();
    }
    this.timers.clear();
    await this.stopChild();
    await this.switching?.catch(() => undefined);
    await this.stopChild();
    await this.delivering;
  }

  /** The running agent's release version and pid. */
  status(): { version?: string; pid?: number; switching: boolean } {
    const dir = currentRelease(this.o.dataDir);
    const version = dir ? releaseVersion(dir) : undefined;
    return { ...(version !== undefined ? { version } : {}), ...(this.child?.pid !== undefined ? { pid: this.child.pid } : {}), switching: this.switching !== undefined };
  }

  /** Resolves when the switch in progress (if any) is decided. */
  async idle(): Promise<void> {
    await this.switching;
    await this.delivering;
  }

  /**
   * Switches to releases/<version>/ for job `jobId`, as the agent asks over IPC; a request during a switch
   * waits for it. A job already decided (the old agent asks again after a rollback) is not switched twice.
   */
  switchTo(req: SwitchRequest): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.switching) {
      // Two edge jobs close together: the second waits for the first to be decided.
      this.o.logger.info({ jobId: req.jobId }, 'a release switch is under way; this one follows it');
      return this.switching.then(() => this.switchTo(req));
    }
    const prior = readSwitchRecord(this.o.dataDir);
    if (prior && prior.jobId === req.jobId) {
      this.o.logger.info({ jobId: req.jobId, phase: prior.phase }, 'release switch for this job already decided');
      if (!prior.reported) this.deliver(prior);
      return Promise.resolve();
    }
    const fromDir = currentRelease(this.o.dataDir)!;
    const toDir = join(releasesDir(this.o.dataDir), req.version);
    const rec: SwitchRecord = {
      jobId: req.jobId,
      from: { version: releaseVersion(fromDir) ?? req.from, dir: fromDir },
      to: { version: req.version, dir: toDir },
      phase: 'switching',
      reported: false,
    };
    if (releaseVersion(toDir) !== req.version || !existsSync(join(toDir, RELEASE_ENTRY))) {
      this.decide(rec, 'rolled-back', `releases/${req.version} is not an unpacked release of ${req.version}`);
      return Promise.resolve();
    }
    this.switching = this.runSwitch(rec);
    return this.switching;
  }

  private async runSwitch(rec: SwitchRecord): Promise<void> {
    try {
      this.save(rec);
      this.o.logger.info({ jobId: rec.jobId, from: rec.from.version, to: rec.to.version }, 'switching edge release');
      switchCurrent(this.o.dataDir, rec.to.dir);
      await this.stopChild();
      if (this.stopping) return;
      const outcome = await this.awaitHealthy(this.launch(), this.o.healthDeadlineMs ?? 120_000);
      if (this.stopping) return;
      if (outcome === 'healthy') {
        this.decide(rec, 'succeeded');
        return;
      }
      this.o.logger.error({ jobId: rec.jobId, version: rec.to.version, outcome, code: 'GS_ERR_FIRMWARE_UNHEALTHY' }, 'new edge release did not report healthy; rolling back');
      await this.stopChild();
      switchCurrent(this.o.dataDir, rec.from.dir);
      if (this.stopping) return;
      this.launch();
      this.decide(rec, 'rolled-back', `edge ${rec.to.version} ${outcome === 'timeout' ? `did not report healthy within ${Math.round((this.o.healthDeadlineMs ?? 120_000) / 1000)} s` : outcome}; rolled back to ${rec.from.version}`);
    } finally {
      this.switching = undefined;
    }
  }

  private decide(rec: SwitchRecord, phase: 'succeeded' | 'rolled-back', reason?: string): void {
    const decided: SwitchRecord = { ...rec, phase, decidedAt: this.o.clock.now(), ...(reason !== undefined ? { reason } : {}) };
    this.save(decided);
    this.o.logger.info({ jobId: rec.jobId, phase, reason, running: phase === 'succeeded' ? rec.to.version : rec.from.version }, 'edge release switch decided');
    this.deliver(decided);
  }

  /** Sends the job's outcome until the cloud has it (or refuses it for good); marks the record reported. */
  private deliver(rec: SwitchRecord): void {
    const report: FirmwareJobReport =
      rec.phase === 'succeeded'
        ? { state: 'succeeded', at: rec.decidedAt ?? this.o.clock.now(), runningVersion: rec.to.version }
        : { state: 'failed', at: rec.decidedAt ?? this.o.clock.now(), reason: { code: 'GS_ERR_FIRMWARE_UNHEALTHY', message: (rec.reason ?? 'rolled back').slice(0, 1000) }, runningVersion: rec.from.version };
    const prior = this.delivering ?? Promise.resolve();
    this.delivering = prior.then(async () => {
      for (let n = 0; !this.stopping; n++) {
        try {
          const res = await this.cloud.report(rec.jobId, report);
          if (res.outcome !== 'stored') this.o.logger.warn({ jobId: rec.jobId, status: res.status, body: res.body }, 'self-update report refused; dropped');
          const cur = readSwitchRecord(this.o.dataDir);
          if (cur?.jobId === rec.jobId) this.save({ ...cur, reported: true });
          return;
        } catch (err) {
          if (n === 0) this.o.logger.warn(errFields(err), 'self-update report not delivered; retrying');
          await this.sleep(fullJitter(n, REPORT_RETRY, this.o.random));
        }
      }
    });
  }

  private save(rec: SwitchRecord): void {
    const file = switchRecordFile(this.o.dataDir);
    mkdirSync(this.o.dataDir, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(rec, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  /** Starts the agent from `current`. */
  private launch(): ChildProcess {
    const dir = currentRelease(this.o.dataDir)!;
    const child = fork(join(dir, RELEASE_ENTRY), this.o.args, {
      cwd: dir,
      // The release brings its own loader (bin/gridsense.js registers tsx); the supervisor's flags are not its.
      execArgv: [],
      env: { ...process.env, ...this.o.env, [SUPERVISED_ENV]: '1' },
      stdio: this.o.stdio ?? ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    this.o.logger.info({ pid: child.pid, dir, version: releaseVersion(dir) }, 'edge agent started');
    child.on('message', (m) => {
      if (!isSupervisorMessage(m)) return;
      if (m.type === 'gridsense-healthy') {
        this.crashes = 0;
        this.o.logger.info({ pid: child.pid, version: m.version }, 'edge agent reports healthy');
        return;
      }
      void this.switchTo({ jobId: m.jobId, version: m.version, from: m.from }).catch((err: unknown) => this.o.logger.error(errFields(err), 'release switch failed'));
    });
    child.on('error', (err) => this.o.logger.error(errFields(err), 'edge agent process error'));
    child.on('exit', (code, signal) => {
      if (this.child !== child || this.stopping || this.switching) return;
      const delay = fullJitter(this.crashes++, RESTART, this.o.random);
      this.o.logger.error({ code, signal, restartInMs: delay }, 'edge agent exited; restarting');
      this.restartTimer = this.o.scheduler.setTimeout(() => {
        this.restartTimer = undefined;
        if (!this.stopping && !this.switching) this.launch();
      }, delay);
    });
    return child;
  }

  private awaitHealthy(child: ChildProcess, deadlineMs: number): Promise<'healthy' | 'timeout' | string> {
    return new Promise((resolve) => {
      const finish = (outcome: string) => {
        this.o.scheduler.clearTimeout(timer);
        this.timers.delete(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(outcome);
      };
      const onMessage = (m: unknown) => {
        if (isSupervisorMessage(m) && m.type === 'gridsense-healthy') finish('healthy');
      };
      const onExit = (code: number | null, signal: string | null) => finish(`exited before reporting healthy (code ${code}, signal ${signal})`);
      const timer = this.o.scheduler.setTimeout(() => finish('timeout'), deadlineMs);
      this.timers.set(timer, () => finish('stopped'));
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
  }

  private async stopChild(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const grace = this.o.scheduler.setTimeout(() => child.kill('SIGKILL'), this.o.stopGraceMs ?? 15_000);
    await exited;
    this.o.scheduler.clearTimeout(grace);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.o.scheduler.setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }
}

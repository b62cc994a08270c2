// The edge agent wires the pieces: config → profiles → driver sessions → pollers → profile step →
// telemetry + rules → alarm envelopes → durable outbox → uplink. It owns nothing clever itself.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import { ProfileLibrary } from '../device-profiles/library.js';
import { loadRuleFiles } from '../rules/compile.js';
import { RuleEngine } from '../rules/engine.js';
import type { RuleAlarm, RuleDevice } from '../rules/types.js';
import type { AlarmEnvelope } from '../contracts/alarm.js';
import { envelopeProblems, toEnvelope } from './alarm-envelope.js';
import { healthEnvelope } from './health/envelope.js';
import { HealthTracker, type DeviceHealth, type HealthAlarm, type HealthState } from './health/tracker.js';
import { loadEdgeConfig, type DeviceConfig, type EdgeConfig } from './config.js';
import type { Session } from './drivers/driver.js';
import { defaultDrivers } from './drivers/index.js';
import type { DriverRegistry } from './drivers/registry.js';
import { createLogger, errFields, type Logger } from './log.js';
import { alarmKey } from './outbox/outbox.js';
import { openStateDb, SqliteOutbox } from './outbox/sqlite.js';
import { DevicePoller, type PollerStatus } from './poller.js';
import type { DeviceProfile as Profile } from '../contracts/profile.js';
import { systemScheduler, type Random, type Scheduler, type TimerHandle } from './scheduler.js';
import { RuleStateStore } from './state/rule-state.js';
import { createTelemetryStore, type TelemetryStore } from './telemetry/index.js';
import { Uplink, type UplinkStatus } from './uplink.js';

export interface EdgeAgentOptions {
  clock?: Clock;
  logger?: Logger;
  scheduler?: Scheduler;
  random?: Random;
  /** Drivers by protocol (default: every bundled driver, with this agent's clock/scheduler/logger). */
  drivers?: DriverRegistry;
  fetch?: typeof fetch;
}

export interface EdgeStatus {
  edgeId: string;
  running: boolean;
  /** Alarm transitions waiting for the cloud. */
  outboxDepth: number;
  deadLetters: number;
  uplink?: UplinkStatus;
  devices: Array<PollerStatus & { health: DeviceHealth }>;
  /** Shared links (RS-485 lines, gateways, OPC UA servers) and whether they are down. */
  buses: Array<{ busId: string; devices: string[]; down: boolean }>;
}

/** Everything start() opens, so stop() can close exactly that. */
interface Running {
  db: Database.Database;
  outbox: SqliteOutbox;
  ruleState: RuleStateStore;
  engine: RuleEngine;
  telemetry: TelemetryStore;
  sessions: Session[];
  pollers: DevicePoller[];
  uplink: Uplink;
  devices: Map<string, { rule: RuleDevice; profile: Profile; config: DeviceConfig }>;
  savedState?: string;
  health: HealthTracker;
  healthState: RuleStateStore;
  healthTimer?: { at: number; handle: TimerHandle };
  closing?: boolean;
}

export class EdgeAgent {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private run?: Running;
  private starting?: Promise<void>;

  constructor(
    readonly config: EdgeConfig,
    private readonly opts: EdgeAgentOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? createLogger();
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.random = opts.random ?? Math.random;
  }

  async start(): Promise<void> {
    this.starting ??= this.open().catch(async (err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const r = this.run;
    this.run = undefined;
    this.starting = undefined;
    if (!r) return;
    r.closing = true;
    // Inputs first (no new readings), then the uplink, then the stores the others write to. Closing
    // the sessions cuts short a poll waiting on a silent device instead of waiting out its timeout.
    if (r.healthTimer) this.scheduler.clearTimeout(r.healthTimer.handle);
    r.healthTimer = undefined;
    const pollersStopped = Promise.all(r.pollers.map((p) => p.stop()));
    await Promise.all(r.sessions.map((s) => s.close().catch(() => undefined)));
    await pollersStopped;
    await r.uplink.stop();
    await r.telemetry.stop().catch((err: unknown) => this.logger.error(errFields(err), 'telemetry stop failed'));
    r.outbox.close();
    r.db.close();
    this.logger.info({ edgeId: this.config.edge.id }, 'edge agent stopped');
  }

  status(): EdgeStatus {
    const r = this.run;
    return {
      edgeId: this.config.edge.id,
      running: r !== undefined,
      outboxDepth: r ? r.outbox.depth() : 0,
      deadLetters: r ? r.outbox.deadLetters().length : 0,
      ...(r ? { uplink: r.uplink.status() } : {}),
      devices: r ? r.pollers.map((p) => ({ ...p.status(), health: r.health.health(p.status().deviceId) ?? 'starting' })) : [],
      buses: r ? r.health.busStatus() : [],
    };
  }

  private async open(): Promise<void> {
    const { config, clock, scheduler, random, logger } = this;
    const deps = { clock, scheduler, random };
    mkdirSync(config.edge.dataDir, { recursive: true });
    const profiles = ProfileLibrary.load(config.profileDirs);
    const engine = new RuleEngine(loadRuleFiles(config.ruleFiles));

    const db = openStateDb(join(config.edge.dataDir, 'edge.db'));
    const cleanup: Array<() => Promise<void> | void> = [() => void db.close()];
    try {
      const outbox = SqliteOutbox.in(db, clock);
      const ruleState = RuleStateStore.in(db);
      const savedState = this.restoreRules(engine, ruleState);

      const telemetry = createTelemetryStore(config.telemetry, { dataDir: config.edge.dataDir, ...deps, logger });
      await telemetry.start();
      cleanup.push(() => telemetry.stop());

      const uplink = new Uplink({
        url: config.cloud.url, token: config.cloud.token, batchSize: config.cloud.batchSize, outbox, ...deps,
        logger: logger.child({ component: 'uplink' }), ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
      });
      const drivers =
        this.opts.drivers ??
        defaultDrivers(
          { ...deps, logger: logger.child({ component: 'driver' }) },
          // The OPC UA client certificate lives with the edge's data, so a wiped /tmp does not make the
          // plant's administrators trust a new one.
          { mqtt: { broker: config.mqtt.broker }, opcua: { pkiFolder: join(config.edge.dataDir, 'opcua-pki') } },
        );
      // Filled one by one so a device whose session fails to open still gets the others closed.
      const sessions: Session[] = [];
      cleanup.push(() => Promise.all(sessions.map((x) => x.close().catch(() => undefined))).then(() => undefined));
      for (const device of config.devices) sessions.push(drivers.get(device.connection.protocol).open({ ...device.connection, deviceId: device.id }));
      const health = new HealthTracker(config.devices.map((d, i) => {
        const busId = sessions[i]!.busId;
        return { id: d.id, pollIntervalMs: d.pollIntervalMs, ...(busId !== undefined ? { busId } : {}) };
      }));
      const run: Running = {
        db, outbox, ruleState, engine, telemetry, sessions, pollers: [], uplink, devices: new Map(),
        ...(savedState !== undefined ? { savedState } : {}), health, healthState: RuleStateStore.in(db, 'health'),
      };

      config.devices.forEach((device, i) => {
        const profile = profiles.get(device.profile);
        run.devices.set(device.id, { profile, config: device, rule: { id: device.id, profile: profile.id, kind: profile.kind, ...(device.overrides ? { overrides: device.overrides } : {}) } });
        run.pollers.push(
          new DevicePoller({
            device, profile, session: sessions[i]!, ...deps,
            logger: logger.child({ component: 'poller' }),
            onReadings: (readings, d) => this.onReadings(run, readings, d),
            onStatus: (st) => this.onHealth(run, health.observe(st.deviceId, st.online, clock.now(), st.lastError)),
            // Spread devices over their interval so a town's gauges do not all hit the bus at once.
            startOffsetMs: Math.floor((i / config.devices.length) * device.pollIntervalMs),
          }),
        );
      });
      this.restoreHealth(run);
      this.run = run;
      uplink.start();
      for (const p of run.pollers) p.start();
      logger.info({ edgeId: config.edge.id, devices: config.devices.length, ruleFiles: engine.ruleSets.length, queued: outbox.depth() }, 'edge agent started');
    } catch (err) {
      for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => undefined);
      throw err;
    }
  }

  /** Loads the saved rule state; a state that cannot be read is logged and replaced, never fatal. */
  private restoreRules(engine: RuleEngine, store: RuleStateStore): string | undefined {
    const saved = store.load();
    if (saved === undefined) return undefined;
    try {
      engine.importState(JSON.parse(saved));
      return saved;
    } catch (err) {
      this.logger.error({ ...errFields(err), code: 'GS_ERR_STATE_CORRUPT' }, 'saved rule state cannot be read; starting the rules afresh');
      return undefined;
    }
  }

  /** Saved health state back in; alarms of devices taken out of the config are cleared now. */
  private restoreHealth(run: Running): void {
    const saved = run.healthState.load();
    if (saved === undefined) return;
    let state: HealthState;
    try {
      state = JSON.parse(saved) as HealthState;
    } catch (err) {
      this.logger.error({ ...errFields(err), code: 'GS_ERR_STATE_CORRUPT' }, 'saved device health cannot be read; starting it afresh');
      return;
    }
    this.onHealth(run, run.health.restore(state, this.clock.now()));
  }

  /** Health alarm transitions into the outbox with the health state, in one transaction; re-arms the settle timer. */
  private onHealth(run: Running, alarms: HealthAlarm[]): void {
    // Closing sessions fails the polls in flight; that is the edge stopping, not the devices.
    if (run.closing) return;
    if (alarms.length > 0) {
      const envelopes = alarms.map((a) => healthEnvelope(a, (id) => run.devices.get(id)?.config));
      const now = this.clock.now();
      run.db.transaction(() => {
        for (const e of envelopes) run.outbox.put({ key: alarmKey(e), kind: 'alarm', payload: e, createdAt: now });
        run.healthState.save(JSON.stringify(run.health.exportState()), now);
      })();
      this.logAlarms(envelopes);
      run.uplink.nudge();
    }
    this.armHealthTimer(run);
  }

  private armHealthTimer(run: Running): void {
    const at = run.health.nextDeadline();
    if (run.healthTimer && run.healthTimer.at === at) return;
    if (run.healthTimer) this.scheduler.clearTimeout(run.healthTimer.handle);
    run.healthTimer = undefined;
    if (at === undefined) return;
    const handle = this.scheduler.setTimeout(() => {
      run.healthTimer = undefined;
      if (this.run === run) this.onHealth(run, run.health.due(this.clock.now()));
    }, at - this.clock.now());
    run.healthTimer = { at, handle };
  }

  private logAlarms(envelopes: AlarmEnvelope[]): void {
    for (const e of envelopes) {
      const problems = envelopeProblems(e);
      if (problems.length > 0) this.logger.error({ alarmId: e.alarmId, problems }, 'alarm does not match the envelope schema; the cloud will refuse it');
      this.logger.info({ deviceId: e.deviceId, alarmId: e.alarmId, seq: e.seq, action: e.action, type: e.type, value: e.value }, `alarm ${e.action}`);
    }
  }

  /** One poll's readings: history, rules, and — in one transaction — new alarms plus the rule state. */
  private onReadings(run: Running, readings: Reading[], device: DeviceConfig): void {
    if (this.run !== run) return;
    run.telemetry.write(readings);
    const entry = run.devices.get(device.id)!;
    const now = this.clock.now();
    const alarms: RuleAlarm[] = [];
    for (const r of readings) alarms.push(...run.engine.process(r, entry.rule, now));
    const state = JSON.stringify(run.engine.exportState());
    const stateChanged = state !== run.savedState;
    if (alarms.length === 0 && !stateChanged) return;
    const envelopes = alarms.map((a) => toEnvelope(a, device));
    try {
      run.db.transaction(() => {
        for (const e of envelopes) run.outbox.put({ key: alarmKey(e), kind: 'alarm', payload: e, createdAt: now });
        if (stateChanged) run.ruleState.save(state, now);
      })();
    } catch (err) {
      // Nothing was committed (disk full, I/O error): put the rules back where the disk says they are,
      // so the next reading raises again instead of the alarm being lost between memory and disk.
      run.engine.importState(run.savedState === undefined ? {} : JSON.parse(run.savedState));
      throw err;
    }
    run.savedState = state;
    this.logAlarms(envelopes);
    if (envelopes.length > 0) run.uplink.nudge();
  }
}

/**
 * `gridsense edge --config edge.yaml`: runs the agent until SIGINT or SIGTERM, then stops it cleanly
 * (timers cleared, sockets and files closed) and resolves. A second signal while stopping exits at once.
 */
export async function runEdge(configPath: string, opts: EdgeAgentOptions = {}): Promise<void> {
  const logger = opts.logger ?? createLogger();
  const agent = new EdgeAgent(loadEdgeConfig(configPath), { ...opts, logger });
  await agent.start();
  let onSignal: (sig: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    let stopping = false;
    onSignal = (sig) => {
      if (stopping) process.exit(130);
      stopping = true;
      resolve(sig);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const sig = await signalled;
    logger.info({ signal: sig }, 'stopping edge agent');
    await agent.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

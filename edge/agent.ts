// The edge agent wires the pieces: config → profiles → driver sessions → pollers → profile step →
// telemetry + rules → alarm envelopes → durable outbox → uplink. It owns nothing clever itself.
import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../contracts/clock.js';
import { GsError } from '../contracts/errors.js';
import type { Reading } from '../contracts/reading.js';
import { ProfileLibrary } from '../device-profiles/library.js';
import { loadRuleFiles } from '../rules/compile.js';
import { RuleEngine } from '../rules/engine.js';
import type { RuleAlarm, RuleDevice } from '../rules/types.js';
import type { AlarmEnvelope } from '../contracts/alarm.js';
import { envelopeProblems, toEnvelope } from './alarm-envelope.js';
import { createEdgeFirmware } from './firmware/wire.js';
import { healthEnvelope } from './health/envelope.js';
import { HealthTracker, offlineTypeFor, type DeviceHealth, type HealthAlarm, type HealthState } from './health/tracker.js';
import type { DeviceConfig, EdgeConfig } from './config.js';
import type { Heartbeat } from '../contracts/heartbeat.js';
import { EDGE_VERSION, HeartbeatSender } from './heartbeat.js';
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
import { RuleStateRows } from './state/rule-rows.js';
import { createTelemetryStore, type TelemetryStore } from './telemetry/index.js';
import { Summariser } from './summaries.js';
import { ruleDeviceOf } from './rule-device.js';
import { Uplink, type UplinkStatus } from './uplink.js';
import { AlarmActions } from './actions/wiring.js';

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

/** One configured device at work: its session on the driver, the poller that reads it. */
interface DeviceUnit {
  config: DeviceConfig;
  profile: Profile;
  rule: RuleDevice;
  session: Session;
  poller: DevicePoller;
}

/** Everything start() opens, so stop() can close exactly that. */
interface Running {
  db: Database.Database;
  outbox: SqliteOutbox;
  ruleRows: RuleStateRows;
  engine: RuleEngine;
  telemetry: TelemetryStore;
  uplink: Uplink;
  drivers: DriverRegistry;
  /** By device id, in configuration order. */
  units: Map<string, DeviceUnit>;
  /** The rule state rows as committed (JSON by key): what a failed commit puts the engine back to. */
  savedRules: Map<string, string>;
  /** Each device's next rule due time (absent: none), kept up to date per change; the timer takes the min. */
  ruleDue: Map<string, number>;
  /** Device ids by site, for `all:` rules whose one state (per site) sets the due time of every member. */
  sites: Map<string, string[]>;
  health: HealthTracker;
  healthState: RuleStateStore;
  healthTimer?: { at: number; handle: TimerHandle };
  /** When the rules are next due without a reading (stale data, a quiet period, an escalation). */
  ruleTimer?: { at: number; handle: TimerHandle };
  heartbeat: HeartbeatSender;
  /** Firmware campaigns (edge/firmware/), when edge.yaml has a `firmware:` section. */
  firmware?: ReturnType<typeof createEdgeFirmware>;
  /** Telemetry summaries for the cloud (absent: telemetry.summaryInterval off). */
  summariser?: Summariser;
  startedAt: number;
  /** The latest battery_percent per device, for the heartbeat. */
  battery: Map<string, number>;
  closing?: boolean;
  /** Rule actions (writes, snapshots), the evidence queue and its uploader, the local API. */
  actions: AlarmActions;
}

export class EdgeAgent {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private run?: Running;
  private starting?: Promise<void>;
  /** Who else sees every reading after it is stored (a Node-RED flow): see tap(). */
  private readonly taps = new Set<(readings: Reading[], device: DeviceConfig) => void>();

  /** The configuration running now; applyConfig() replaces it. */
  config: EdgeConfig;
  /** The remote configuration version applied, when the cloud manages this edge's devices. */
  configVersion?: number;

  constructor(
    config: EdgeConfig,
    private readonly opts: EdgeAgentOptions = {},
  ) {
    this.config = config;
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
    if (r.ruleTimer) this.scheduler.clearTimeout(r.ruleTimer.handle);
    r.ruleTimer = undefined;
    await r.actions.stop();
    await r.firmware?.stop();
    await this.stopUnits([...r.units.values()]);
    r.summariser?.stop();
    await r.heartbeat.stop();
    await r.uplink.stop();
    await r.telemetry.stop().catch((err: unknown) => this.logger.error(errFields(err), 'telemetry stop failed'));
    r.outbox.close();
    r.db.close();
    this.logger.info({ edgeId: this.config.edge.id }, 'edge agent stopped');
  }

  /** The local API's base URL while running (edge.yaml `localApi`). */
  get localApiUrl(): string | undefined {
    return this.run?.actions.localApiUrl;
  }

  /** Rule actions, evidence queue and uploader while running (status and tests). */
  get actions(): AlarmActions | undefined {
    return this.run?.actions;
  }

  /** Every reading, after the telemetry store took it; returns the untap. The listener must not throw. */
  tap(listener: (readings: Reading[], device: DeviceConfig) => void): () => void {
    this.taps.add(listener);
    return () => void this.taps.delete(listener);
  }

  /**
   * Alarm transitions made outside the rule engine (a Node-RED flow), committed as the rules' are:
   * envelopes with the device's details into the outbox, with `state` (a named JSON document) in the
   * same transaction. loadState reads such a document back.
   */
  putAlarms(alarms: RuleAlarm[], state?: { name: string; json: string }): void {
    const r = this.run;
    if (!r || r.closing) throw new GsError('GS_ERR_OUTBOX_CLOSED', 'the edge agent is not running');
    const now = this.clock.now();
    const envelopes = alarms.map((a) => toEnvelope(a, r.units.get(a.deviceId)?.config ?? { profile: '' }));
    r.db.transaction(() => {
      for (const e of envelopes) r.outbox.put({ key: alarmKey(e), kind: 'alarm', payload: e, createdAt: now });
      if (state) RuleStateStore.in(r.db, state.name).save(state.json, now);
    })();
    this.logAlarms(envelopes);
    if (envelopes.length > 0) r.uplink.nudge();
  }

  loadState(name: string): string | undefined {
    return this.run ? RuleStateStore.in(this.run.db, name).load() : undefined;
  }

  status(): EdgeStatus {
    const r = this.run;
    return {
      edgeId: this.config.edge.id,
      running: r !== undefined,
      outboxDepth: r ? r.outbox.depth() : 0,
      deadLetters: r ? r.outbox.deadLetters().length : 0,
      ...(r ? { uplink: r.uplink.status() } : {}),
      devices: r ? [...r.units.values()].map((u) => ({ ...u.poller.status(), health: r.health.health(u.config.id) ?? 'starting' })) : [],
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
      const outbox = SqliteOutbox.in(db, clock, config.outbox ? { maxBytes: config.outbox.maxBytes } : {});
      const ruleRows = RuleStateRows.in(db);
      const savedRules = this.restoreRules(engine, ruleRows);

      const telemetry = createTelemetryStore(config.telemetry, { dataDir: config.edge.dataDir, ...deps, logger });
      await telemetry.start();
      cleanup.push(() => telemetry.stop());

      const uplink = new Uplink({
        url: config.cloud.url, token: config.cloud.token, batchSize: config.cloud.batchSize, outbox, ...deps,
        ...(config.cloud.replayRatePerS !== undefined ? { replayRatePerS: config.cloud.replayRatePerS } : {}),
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
      // Its report reads `run`, which exists by the time the first beat is sent (start() below).
      const heartbeat = new HeartbeatSender({
        url: config.cloud.url, token: config.cloud.token, everyMs: config.cloud.heartbeatMs, scheduler,
        logger: logger.child({ component: 'heartbeat' }), report: () => this.heartbeatOf(run), ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
      });
      const run: Running = {
        db, outbox, ruleRows, engine, telemetry, uplink, drivers, units: new Map(),
        savedRules, ruleDue: new Map(), sites: new Map(), health: new HealthTracker([]), healthState: RuleStateStore.in(db, 'health'),
        startedAt: clock.now(), battery: new Map(), heartbeat,
        actions: new AlarmActions({
          config, db, ...deps, logger, telemetry, ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
          device: (id) => run.units.get(id), devices: () => run.units.values(),
          health: () => this.status().devices.map((d) => ({ ...localDevice(run.units.get(d.deviceId)), id: d.deviceId, health: d.health, lastAnswerAt: d.lastAnswerAt ?? null, lastError: d.lastError ?? null, polls: d.polls })),
        }),
      };
      cleanup.push(() => run.actions.stop());
      // Filled one by one so a device whose session fails to open still gets the others closed.
      cleanup.push(() => this.stopUnits([...run.units.values()]));
      config.devices.forEach((device, i) => {
        // Spread devices over their interval so a town's gauges do not all hit the bus at once.
        run.units.set(device.id, this.openUnit(run, device, profiles.get(device.profile), Math.floor((i / config.devices.length) * device.pollIntervalMs)));
      });
      run.health = this.healthTrackerFor(run);
      run.sites = sitesOf(run.units);
      this.restoreHealth(run);
      if (config.telemetry.summaryIntervalMs) {
        run.summariser = new Summariser({
          everyMs: config.telemetry.summaryIntervalMs, clock, scheduler, logger,
          emit: (items) => {
            run.outbox.putAll(items);
            run.uplink.nudge();
          },
        });
      }
      this.run = run;
      await run.actions.start();
      uplink.start();
      run.summariser?.start();
      run.heartbeat.start();
      run.firmware = createEdgeFirmware({ config: () => this.config, db, drivers, ...deps, logger, ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}) });
      run.firmware?.start();
      for (const u of run.units.values()) u.poller.start();
      // Start the rules' clocks (a point that never reports is watched from now) and arm the timer.
      this.tickRules(run, [...run.units.values()]);
      logger.info({ edgeId: config.edge.id, devices: config.devices.length, ruleFiles: engine.ruleSets.length, queued: outbox.depth() }, 'edge agent started');
    } catch (err) {
      for (const c of cleanup.reverse()) await Promise.resolve(c()).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Runs `next` without a restart: devices added, removed or changed get their sessions and pollers
   * opened or closed, the rules and profiles are reloaded, everything else keeps running. Rule state
   * carries over (a hold half run stays half run); alarms of removed devices are cleared. Throws — and
   * changes nothing — when the new configuration cannot load (a broken rule file, an unknown profile)
   * or changes what needs a restart (edge id, data folder, cloud, telemetry, MQTT broker, local API).
   */
  async applyConfig(next: EdgeConfig): Promise<{ added: string[]; removed: string[]; changed: string[] }> {
    await this.starting;
    const r = this.run;
    if (!r) throw new GsError('GS_ERR_CONFIG_INVALID', 'the edge agent is not running');
    const fixed = (['edge', 'cloud', 'telemetry', 'outbox', 'mqtt', 'localApi', 'firmware', 'nodeRed'] as const).filter((k) => JSON.stringify(this.config[k]) !== JSON.stringify(next[k]));
    if (fixed.length > 0) {
      throw new GsError('GS_ERR_CONFIG_INVALID', `${fixed.join(', ')} changed: that needs a restart of the edge`, fixed.map((k) => ({ path: `/${k}`, message: 'changes only with a restart' })));
    }
    // Everything that can fail comes first, so a bad configuration leaves the running one untouched.
    const profiles = ProfileLibrary.load(next.profileDirs);
    const engine = new RuleEngine(loadRuleFiles(next.ruleFiles));
    this.logDropped(engine.importState(r.engine.exportState()).dropped);
    const wanted = new Map(next.devices.map((d) => [d.id, d]));
    const gone: DeviceUnit[] = [];
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    for (const [id, u] of r.units) {
      const d = wanted.get(id);
      // Same device block and same profile content (a profile file edited on disk re-opens its devices).
      if (d && JSON.stringify(d) === JSON.stringify(u.config) && JSON.stringify(profiles.get(d.profile)) === JSON.stringify(u.profile)) continue;
      gone.push(u);
      (d ? changed : removed).push(id);
    }
    for (const d of next.devices) if (!r.units.has(d.id)) added.push(d.id);
    await this.stopUnits(gone);
    for (const u of gone) r.units.delete(u.config.id);
    const fresh: DeviceUnit[] = [];
    const units = new Map<string, DeviceUnit>();
    for (const d of next.devices) {
      const unit = r.units.get(d.id) ?? this.openUnit(r, d, profiles.get(d.profile), Math.floor(this.random() * d.pollIntervalMs));
      if (!r.units.has(d.id)) fresh.push(unit);
      units.set(d.id, unit);
    }
    r.units = units;
    // The new engine was imported whole: its first commit rewrites every row, and every due is new.
    r.engine = engine;
    r.sites = sitesOf(units);
    r.ruleDue.clear();
    this.refreshDue(r, units.keys());
    this.config = next;
    const health = r.health.exportState();
    r.health = this.healthTrackerFor(r);
    this.onHealth(r, r.health.restore(health, this.clock.now()));
    for (const u of fresh) u.poller.start();
    this.tickRules(r, fresh);
    this.logger.info({ added, removed, changed, ruleFiles: engine.ruleSets.length }, 'configuration applied');
    return { added, removed, changed };
  }

  /** The health report the cloud's fleet view is built from. */
  private heartbeatOf(run: Running): Heartbeat {
    const now = this.clock.now();
    const outbox = run.outbox.stats();
    return {
      version: EDGE_VERSION,
      startedAt: run.startedAt,
      sentAt: now,
      outboxDepth: outbox.depth,
      deadLetters: run.outbox.deadLetterCount(),
      ...(outbox.oldestAlarmAt !== undefined ? { oldestAlarmAgeMs: Math.max(0, now - outbox.oldestAlarmAt) } : {}),
      heartbeatIntervalMs: Math.min(86_400_000, this.config.cloud.heartbeatMs),
      ...(outbox.overQuota ? { outboxOverQuota: true } : {}),
      ...(this.configVersion !== undefined ? { configVersion: this.configVersion } : {}),
      devices: [...run.units.values()].map((u) => {
        const st = u.poller.status();
        const battery = run.battery.get(u.config.id);
        return {
          id: u.config.id,
          profile: u.profile.id,
          health: run.health.health(u.config.id) ?? 'starting',
          ...(st.lastAnswerAt !== undefined ? { lastSeenAt: st.lastAnswerAt } : {}),
          ...(st.lastError !== undefined ? { lastError: st.lastError.slice(0, 128) } : {}),
          ...(battery !== undefined ? { batteryPercent: battery } : {}),
        };
      }),
      buses: run.health.busStatus().map((b) => ({ busId: b.busId, down: b.down, devices: b.devices.length })),
    };
  }

  /** A device's session and poller (not started). */
  private openUnit(run: Running, device: DeviceConfig, profile: Profile, startOffsetMs: number): DeviceUnit {
    const { clock, scheduler } = this;
    const session = run.drivers.get(device.connection.protocol).open({ ...device.connection, deviceId: device.id });
    const poller = new DevicePoller({
      device, profile, session, clock, scheduler,
      logger: this.logger.child({ component: 'poller' }),
      onReadings: (readings, d) => this.onReadings(run, readings, d),
      onStatus: (st) => this.onHealth(run, run.health.observe(st.deviceId, st.online, clock.now(), st.lastError)),
      startOffsetMs,
    });
    const rule = ruleDeviceOf(device, profile);
    return { config: device, profile, rule, session, poller };
  }

  /** Stops the pollers and closes their sessions; closing first cuts short a poll waiting on a silent device. */
  private async stopUnits(units: DeviceUnit[]): Promise<void> {
    const stopped = Promise.all(units.map((u) => u.poller.stop()));
    await Promise.all(units.map((u) => u.session.close().catch(() => undefined)));
    await stopped;
  }

  private healthTrackerFor(run: Running): HealthTracker {
    return new HealthTracker([...run.units.values()].map((u) => ({
      id: u.config.id,
      pollIntervalMs: u.config.pollIntervalMs,
      offlineType: offlineTypeFor(u.profile.kind),
      ...(u.session.busId !== undefined ? { busId: u.session.busId } : {}),
    })));
  }

  /**
   * Loads the saved rule state (rows; an older edge's whole document is migrated to rows once) and
   * returns it as committed. Unreadable rows are logged and dropped, never fatal; after any import
   * the engine's first commit rewrites every row, so the disk then holds exactly what the engine has.
   */
  private restoreRules(engine: RuleEngine, store: RuleStateRows): Map<string, string> {
    const saved = store.load();
    if (saved.migrated) this.logger.info({ entries: Object.keys(saved.state).length }, 'rule state moved from the single document to one row per key');
    if (saved.unreadable.length > 0) {
      this.logger.error({ code: 'GS_ERR_STATE_CORRUPT', unreadable: saved.unreadable.slice(0, 20), count: saved.unreadable.length }, 'saved rule state entries cannot be read; those rules start afresh');
    }
    try {
      this.logDropped(engine.importState(saved.state).dropped);
      return new Map(Object.entries(saved.state).map(([k, v]) => [k, JSON.stringify(v)]));
    } catch (err) {
      this.logger.error({ ...errFields(err), code: 'GS_ERR_STATE_CORRUPT' }, 'saved rule state cannot be read; starting the rules afresh');
      engine.importState({}); // an empty import still marks everything for a rewrite: the bad rows go
      return new Map();
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
      const envelopes = alarms.map((a) => healthEnvelope(a, (id) => run.units.get(id)?.config ?? this.config.devices.find((d) => d.id === id)));
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
    const entry = run.units.get(device.id);
    // A device removed by applyConfig may still deliver its last poll: it no longer counts.
    if (!entry || entry.config !== device) return;
    run.telemetry.write(readings);
    run.summariser?.observe(readings);
    for (const tap of this.taps) tap(readings, device);
    for (const r of readings) {
      if (r.point === 'battery_percent' && r.quality === 'good' && typeof r.value === 'number') run.battery.set(device.id, Math.max(0, Math.min(100, r.value)));
    }
    const now = this.clock.now();
    const alarms: RuleAlarm[] = [];
    for (const r of readings) alarms.push(...run.engine.process(r, entry.rule, now));
    const touched = this.commitRules(run, alarms, now, device);
    this.refreshDue(run, [device.id], touched);
    this.armRuleTimer(run);
  }

  /** Rules due without a reading (stale data, quiet periods, escalations), then the timer for the next. */
  private tickRules(run: Running, units: DeviceUnit[]): void {
    if (this.run !== run || run.closing) return;
    const now = this.clock.now();
    const alarms: RuleAlarm[] = [];
    for (const u of units) alarms.push(...run.engine.tick(u.rule, now));
    const touched = this.commitRules(run, alarms, now);
    this.refreshDue(run, units.map((u) => u.config.id), touched);
    this.armRuleTimer(run);
  }

  /**
   * Recomputes the cached due time of these devices and of every device whose rule state changed:
   * a device's own key, or a site key (an `all:` rule), which moves every device of that site.
   * `touched` 'all': the whole state was replaced (a rollback), so every device.
   */
  private refreshDue(run: Running, ids: Iterable<string>, touched: readonly string[] | 'all' = []): void {
    if (touched === 'all') ids = run.units.keys();
    const todo = new Set(ids);
    if (touched !== 'all') {
      for (const key of touched) {
        const rest = key.slice(key.indexOf('|') + 1);
        if (!rest.startsWith('@')) todo.add(rest);
        else for (const id of run.sites.get(rest.slice(1)) ?? []) todo.add(id);
      }
    }
    for (const id of todo) {
      const u = run.units.get(id);
      const at = u ? run.engine.nextDue(u.rule) : undefined;
      if (at === undefined) run.ruleDue.delete(id);
      else run.ruleDue.set(id, at);
    }
  }

  /** Arms the timer at the earliest cached due time: number compares over the devices, no rule work. */
  private armRuleTimer(run: Running): void {
    let at: number | undefined;
    for (const due of run.ruleDue.values()) if (at === undefined || due < at) at = due;
    if (run.ruleTimer && run.ruleTimer.at === at) return;
    if (run.ruleTimer) this.scheduler.clearTimeout(run.ruleTimer.handle);
    run.ruleTimer = undefined;
    if (at === undefined) return;
    const handle = this.scheduler.setTimeout(() => {
      run.ruleTimer = undefined;
      this.tickRules(run, [...run.units.values()]);
    }, Math.max(0, at - this.clock.now()));
    run.ruleTimer = { at, handle };
  }

  /**
   * New alarms plus the rule state rows they came with, in one transaction: only the rows changed
   * since the last commit (or every row after an import). An alarm may be on another device than the
   * reading's (a rule combining a building's sensors), so each envelope takes its own device's details.
   * Returns the state keys that changed (for the due times), or 'all' after a rollback.
   */
  private commitRules(run: Running, alarms: RuleAlarm[], now: number, fallback?: DeviceConfig): string[] {
    const changes = run.engine.takeChanges();
    const touched = [...changes.set.keys(), ...changes.deleted];
    // Serialised now, before the engine runs again; a row equal to the committed one is not rewritten.
    const set = new Map<string, string>();
    for (const [key, state] of changes.set) {
      const json = JSON.stringify(state);
      if (changes.all || run.savedRules.get(key) !== json) set.set(key, json);
    }
    const deleted = changes.all ? [] : changes.deleted.filter((k) => run.savedRules.has(k));
    const write = changes.all || set.size > 0 || deleted.length > 0;
    if (alarms.length === 0 && !write) return touched;
    const envelopes = alarms.map((a) => toEnvelope(a, run.units.get(a.deviceId)?.config ?? fallback ?? { profile: '' }));
    try {
      run.db.transaction(() => {
        for (const e of envelopes) run.outbox.put({ key: alarmKey(e), kind: 'alarm', payload: e, createdAt: now });
        if (write) run.ruleRows.write({ all: changes.all, set, deleted }, now);
      })();
    } catch (err) {
      // Nothing was committed (disk full, I/O error): put the rules back where the disk says they are,
      // so the next reading raises again instead of the alarm being lost between memory and disk. The
      // import marks everything for the next commit, which rewrites every row.
      run.engine.importState(Object.fromEntries([...run.savedRules].map(([k, json]) => [k, JSON.parse(json) as unknown])));
      this.refreshDue(run, [], 'all');
      throw err;
    }
    if (changes.all) run.savedRules.clear();
    for (const k of deleted) run.savedRules.delete(k);
    for (const [k, json] of set) run.savedRules.set(k, json);
    this.logAlarms(envelopes);
    if (envelopes.length > 0) run.uplink.nudge();
    // Stored first, acted on after: a siren or a camera never holds back (or undoes) an alarm.
    if (alarms.length > 0) run.actions.run(run.engine.intents(alarms));
    return touched;
  }

  private logDropped(dropped: Array<{ key: string; reason: string }>): void {
    if (dropped.length > 0) this.logger.warn({ dropped: dropped.slice(0, 20), count: dropped.length }, 'saved rule state entries dropped');
  }
}

function localDevice(u: DeviceUnit | undefined): { id: string; name: string; profile: string; kind: string } {
  return { id: u?.config.id ?? '', name: u?.config.name ?? '', profile: u?.profile.id ?? '', kind: u?.profile.kind ?? '' };
}

/** Device ids by site (RuleDevice.site), for the `all:` rules' per-site state. */
function sitesOf(units: Map<string, DeviceUnit>): Map<string, string[]> {
  const sites = new Map<string, string[]>();
  for (const [id, u] of units) {
    if (u.rule.site === undefined) continue;
    const ids = sites.get(u.rule.site);
    if (ids) ids.push(id);
    else sites.set(u.rule.site, [id]);
  }
  return sites;
}

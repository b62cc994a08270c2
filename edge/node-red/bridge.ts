// The in-process bridge between the edge agent and the gridsense Node-RED nodes. When the editor runs
// inside the edge, the nodes find it in Node-RED's settings (`RED.settings.gridsense`) and call it
// directly: readings arrive as the agent stores them, alarms go into the agent's outbox through the
// same commit as rule alarms, and rule nodes run the rule language's own evaluator. No copy of the rule
// code in JavaScript, no second queue, no socket between the two. The node files stay thin glue.
import { systemClock, type Clock } from '../../contracts/clock.js';
import type { AlarmEnvelope } from '../../contracts/alarm.js';
import type { Reading } from '../../contracts/reading.js';
import { ProfileLibrary } from '../../device-profiles/library.js';
import type { RuleAlarm, RuleDevice } from '../../rules/types.js';
import { envelopeProblems, toEnvelope } from '../alarm-envelope.js';
import type { DeviceConfig, EdgeConfig } from '../config.js';
import { errFields, silentLogger, type Logger } from '../log.js';
import { systemScheduler, type Scheduler } from '../scheduler.js';
import { badMsg, flowAlarmOf, FlowAlarms, type AlarmNodeSettings } from './flow-alarm.js';
import { FlowRule, type RuleOutput } from './flow-rule.js';

/** What the bridge needs of the edge; EdgeAgent has exactly this. */
export interface EdgeHost {
  readonly config: Pick<EdgeConfig, 'devices' | 'profileDirs'>;
  tap(listener: (readings: Reading[], device: DeviceConfig) => void): () => void;
  putAlarms(alarms: RuleAlarm[], state?: { name: string; json: string }): void;
  loadState(name: string): string | undefined;
}

/** Which readings a `gridsense readings` node wants; empty fields take everything. */
export interface ReadingFilter {
  /** Device ids, comma-separated. */
  device?: string;
  /** Profile ids, comma-separated. */
  profile?: string;
  /** Point names, comma-separated. */
  point?: string;
  /** 'good' (default): only good readings; 'all': bad and stale ones too. */
  quality?: 'good' | 'all';
}

export interface ReadingMsg {
  topic: string;
  payload: Reading['value'];
  reading: Reading;
  device: { id: string; name: string; profile: string; kind?: string; site?: string; place?: string };
}

export interface RuleRunner {
  readonly ruleIds: string[];
  /** Evaluates the reading the message carries; throws GS_ERR_NODE_RED_MSG when it carries none. */
  process(msg: unknown): RuleOutput[];
  close(): void;
}

/** What `RED.settings.gridsense` holds: the whole surface the node files use. */
export interface GridsenseNodeApi {
  readonly transport: 'embedded' | 'mqtt';
  subscribe(filter: ReadingFilter, send: (msg: ReadingMsg) => void): () => void;
  alarm(msg: unknown, node: AlarmNodeSettings): AlarmEnvelope[];
  rule(yaml: string, nodeId: string, send: (out: RuleOutput[]) => void): RuleRunner;
}

export interface BridgeOptions {
  clock?: Clock;
  scheduler?: Scheduler;
  logger?: Logger;
}

/** The state document of the flow alarms, beside the rules' in the edge's state database. */
export const FLOW_ALARMS_STATE = 'node-red:alarms';

const list = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);

export class EdgeBridge implements GridsenseNodeApi {
  readonly transport = 'embedded';
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly subscribers = new Set<{ accept: (r: Reading, d: DeviceConfig) => boolean; send: (msg: ReadingMsg) => void }>();
  private untap?: () => void;
  private flowAlarms?: FlowAlarms;
  private profiles?: { dirs: string[]; library: ProfileLibrary };
  private readonly ruleDevices = new WeakMap<DeviceConfig, RuleDevice>();

  constructor(private readonly host: EdgeHost, opts: BridgeOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.scheduler = opts.scheduler ?? systemScheduler;
    this.logger = opts.logger ?? silentLogger();
  }

  /** Taps the agent's readings (call after the agent started). */
  start(): void {
    this.untap ??= this.host.tap((readings, device) => this.fanOut(readings, device));
  }

  stop(): void {
    this.untap?.();
    this.untap = undefined;
    this.subscribers.clear();
  }

  subscribe(filter: ReadingFilter, send: (msg: ReadingMsg) => void): () => void {
    const devices = new Set(list(filter.device));
    const profiles = new Set(list(filter.profile));
    const points = new Set(list(filter.point));
    const goodOnly = filter.quality !== 'all';
    const sub = {
      accept: (r: Reading, d: DeviceConfig) =>
        (!goodOnly || r.quality === 'good') && (devices.size === 0 || devices.has(d.id)) && (profiles.size === 0 || profiles.has(d.profile)) && (points.size === 0 || points.has(r.point)),
      send,
    };
    this.subscribers.add(sub);
    return () => void this.subscribers.delete(sub);
  }

  /**
   * A flow's alarm request into the outbox: validated, given its identity, checked against the envelope
   * schema, committed with the flow-alarm state in one transaction. Returns the envelopes committed
   * (none for a repeat). Throws GS_ERR_NODE_RED_MSG for a message it cannot take.
   */
  alarm(msg: unknown, node: AlarmNodeSettings): AlarmEnvelope[] {
    const a = flowAlarmOf(msg, node);
    const device = this.host.config.devices.find((d) => d.id === a.deviceId);
    if (!device) throw badMsg(`device "${a.deviceId}" is not one of this edge's devices`, [{ path: '/alarm/deviceId', message: 'unknown device' }]);
    const alarms = this.alarmState();
    const plan = alarms.plan(a, this.clock.now());
    if (plan.alarms.length === 0) return [];
    const envelopes = plan.alarms.map((x) => toEnvelope(x, device));
    const problems = envelopes.flatMap((e) => envelopeProblems(e));
    if (problems.length > 0) throw badMsg(`the alarm would not be a valid envelope: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, problems);
    this.host.putAlarms(plan.alarms, { name: FLOW_ALARMS_STATE, json: plan.json() });
    plan.commit();
    return envelopes;
  }

  rule(yaml: string, nodeId: string, send: (out: RuleOutput[]) => void): RuleRunner {
    const name = `node-red:rule:${nodeId}`;
    const host = {
      now: () => this.clock.now(),
      load: () => this.host.loadState(name),
      save: (json: string) => this.host.putAlarms([], { name, json }),
      setTimeout: (fn: () => void, ms: number) => this.scheduler.setTimeout(fn, ms),
      clearTimeout: (h: unknown) => this.scheduler.clearTimeout(h),
    };
    const emit = (out: RuleOutput[]) => {
      try {
        send(out);
      } catch (err) {
        this.logger.error(errFields(err), 'node-red rule output failed');
      }
    };
    const rule = new FlowRule(yaml, nodeId, host, emit);
    return {
      ruleIds: rule.ruleIds,
      process: (msg: unknown) => {
        const { reading, device } = this.readingOf(msg);
        return rule.process(reading, device);
      },
      close: () => rule.close(),
    };
  }

  private fanOut(readings: Reading[], device: DeviceConfig): void {
    if (this.subscribers.size === 0) return;
    for (const r of readings) {
      let msg: ReadingMsg | undefined;
      for (const s of this.subscribers) {
        if (!s.accept(r, device)) continue;
        msg ??= this.readingMsg(r, device);
        try {
          // Each subscriber gets its own object: a flow that changes its message changes no other flow's.
          s.send(structuredClone(msg));
        } catch (err) {
          // A broken flow must not break the edge's pipeline, which called us.
          this.logger.error({ ...errFields(err), deviceId: device.id }, 'node-red readings node failed');
        }
      }
    }
  }

  private readingMsg(r: Reading, d: DeviceConfig): ReadingMsg {
    const rd = this.ruleDevice(d);
    return {
      topic: `${r.deviceId}/${r.point}`,
      payload: r.value,
      reading: r,
      device: {
        id: d.id, name: d.name, profile: d.profile,
        ...(rd?.kind ? { kind: rd.kind } : {}),
        ...(d.site !== undefined ? { site: d.site } : {}),
        ...(d.place !== undefined ? { place: d.place } : {}),
      },
    };
  }

  /** The reading a message carries: msg.reading, or msg.topic "<device>/<point>" with a plain payload. */
  private readingOf(msg: unknown): { reading: Reading; device: RuleDevice } {
    if (typeof msg !== 'object' || msg === null) throw badMsg('msg is not an object');
    const m = msg as { reading?: unknown; topic?: unknown; payload?: unknown };
    let reading: Reading;
    if (typeof m.reading === 'object' && m.reading !== null) {
      const r = m.reading as Partial<Reading>;
      if (typeof r.deviceId !== 'string' || typeof r.point !== 'string' || typeof r.quality !== 'string' || !Number.isInteger(r.ts) || !('value' in r)) {
        throw badMsg('msg.reading is not a reading: it needs deviceId, point, value, quality and ts', [{ path: '/reading', message: 'not a reading' }]);
      }
      reading = r as Reading;
    } else {
      const slash = typeof m.topic === 'string' ? m.topic.indexOf('/') : -1;
      const value = m.payload;
      if (slash <= 0 || slash === (m.topic as string).length - 1 || !(value === null || ['number', 'boolean', 'string'].includes(typeof value))) {
        throw badMsg('the message carries no reading: give msg.reading, or msg.topic "<device>/<point>" with a number, boolean or string payload', [{ path: '/topic', message: 'no reading' }]);
      }
      const topic = m.topic as string;
      reading = { deviceId: topic.slice(0, slash), point: topic.slice(slash + 1), value: value as Reading['value'], quality: value === null ? 'bad' : 'good', ts: this.clock.now() };
    }
    const d = this.host.config.devices.find((x) => x.id === reading.deviceId);
    const device = d ? this.ruleDevice(d) : undefined;
    if (!device) throw badMsg(`device "${reading.deviceId}" is not one of this edge's devices`, [{ path: '/reading/deviceId', message: 'unknown device' }]);
    return { reading, device };
  }

  /** The device as rules see it (its profile's kind included); undefined when its profile cannot be found. */
  private ruleDevice(d: DeviceConfig): RuleDevice | undefined {
    const known = this.ruleDevices.get(d);
    if (known) return known;
    const dirs = this.host.config.profileDirs;
    if (this.profiles?.dirs !== dirs) this.profiles = { dirs, library: ProfileLibrary.load(dirs) };
    if (!this.profiles.library.has(d.profile)) return undefined;
    const rd: RuleDevice = {
      id: d.id, profile: d.profile, kind: this.profiles.library.get(d.profile).kind,
      ...(d.place !== undefined ? { site: d.place } : {}),
      ...(d.overrides ? { overrides: d.overrides } : {}),
    };
    this.ruleDevices.set(d, rd);
    return rd;
  }

  private alarmState(): FlowAlarms {
    if (this.flowAlarms) return this.flowAlarms;
    const { alarms, unreadable } = FlowAlarms.restore(this.host.loadState(FLOW_ALARMS_STATE));
    if (unreadable) this.logger.error({ code: 'GS_ERR_STATE_CORRUPT' }, 'saved Node-RED flow alarms cannot be read; starting them afresh');
    this.flowAlarms = alarms;
    return alarms;
  }
}

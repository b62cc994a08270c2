// What a flow's `gridsense alarm` node takes, and the identity the edge gives it. A flow says "raise
// water_level_high on wl-001" or "clear it"; the edge makes the alarm id, numbers the transitions and
// drops repeats, exactly the lifecycle rule alarms have (raise → update → clear, seq 0, 1, 2…), so the
// cloud cannot tell a flow's alarm from a rule's.
import Type from 'typebox';
import { SEVERITIES, type Severity } from '../../contracts/alarm.js';
import { GsError, type ErrorDetail } from '../../contracts/errors.js';
import { schemaErrors } from '../../contracts/validate.js';
import { alarmIdFor } from '../../rules/alarm-id.js';
import type { RuleAlarm } from '../../rules/types.js';

export const FLOW_ALARM_ACTIONS = ['raise', 'update', 'clear'] as const;
export type FlowAlarmAction = (typeof FLOW_ALARM_ACTIONS)[number];

/** `msg.alarm` as a flow sets it; every field may also come from the node's settings or the reading. */
export const FlowAlarmFields = Type.Object(
  {
    action: Type.Optional(Type.Enum(FLOW_ALARM_ACTIONS)),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' })),
    severity: Type.Optional(Type.Enum(SEVERITIES)),
    deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    point: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    value: Type.Optional(Type.Union([Type.Number(), Type.Boolean(), Type.String({ maxLength: 256 }), Type.Null()])),
    unit: Type.Optional(Type.String({ maxLength: 16 })),
    threshold: Type.Optional(Type.Number()),
    message: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type FlowAlarmFields = Type.Static<typeof FlowAlarmFields>;

/** A complete request: what is left after the node's defaults and the reading filled the gaps. */
export type FlowAlarm = Required<Pick<FlowAlarmFields, 'action' | 'type' | 'severity' | 'deviceId' | 'point'>> & Omit<FlowAlarmFields, 'action' | 'type' | 'severity' | 'deviceId' | 'point'>;

/** The alarm node's settings in the editor; `action: 'msg'` takes msg.alarm.action. */
export interface AlarmNodeSettings {
  action?: FlowAlarmAction | 'msg';
  alarmType?: string;
  severity?: Severity;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function badMsg(message: string, details: ErrorDetail[] = []): GsError {
  return new GsError('GS_ERR_NODE_RED_MSG', message, details);
}

/**
 * msg → FlowAlarm: `msg.alarm` first, then the node's settings, then the reading the message carries
 * (`msg.reading`, or `msg.topic` "<device>/<point>" with a plain `msg.payload` as the value).
 * Throws GS_ERR_NODE_RED_MSG naming every problem.
 */
export function flowAlarmOf(msg: unknown, node: AlarmNodeSettings): FlowAlarm {
  if (!isObj(msg)) throw badMsg('msg is not an object');
  const given = msg.alarm ?? {};
  const details = schemaErrors(FlowAlarmFields, given).map((d) => ({ ...d, path: `/alarm${d.path}` }));
  if (details.length > 0) throw badMsg(`msg.alarm is not valid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`, details);
  const a = given as FlowAlarmFields;
  const reading = isObj(msg.reading) ? msg.reading : {};
  const [topicDevice, ...rest] = typeof msg.topic === 'string' ? msg.topic.split('/') : [];
  const topicPoint = rest.length > 0 ? rest.join('/') : undefined;
  const payload = msg.payload;
  const plain = payload === null || ['number', 'boolean', 'string'].includes(typeof payload);
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const merged = {
    action: node.action && node.action !== 'msg' ? node.action : a.action,
    type: a.type ?? str(node.alarmType),
    severity: a.severity ?? node.severity,
    deviceId: a.deviceId ?? str(reading.deviceId) ?? str(topicDevice),
    point: a.point ?? str(reading.point) ?? str(topicPoint),
    ...(a.value !== undefined ? { value: a.value } : 'value' in reading ? { value: reading.value } : plain ? { value: payload } : {}),
    ...(a.unit !== undefined ? { unit: a.unit } : typeof reading.unit === 'string' ? { unit: reading.unit } : {}),
    ...(a.threshold !== undefined ? { threshold: a.threshold } : {}),
    ...(a.message !== undefined ? { message: a.message } : {}),
  };
  const missing: ErrorDetail[] = [];
  const hint: Record<string, string> = {
    action: 'set msg.alarm.action (raise, update or clear) or pick one in the node',
    type: 'set msg.alarm.type or the node\'s alarm type',
    severity: 'set msg.alarm.severity or the node\'s severity',
    deviceId: 'set msg.alarm.deviceId, msg.reading or msg.topic "<device>/<point>"',
    point: 'set msg.alarm.point, msg.reading or msg.topic "<device>/<point>"',
  };
  for (const k of ['action', 'type', 'severity', 'deviceId', 'point'] as const) if (merged[k] === undefined) missing.push({ path: `/alarm/${k}`, message: `is missing: ${hint[k]}` });
  // The merged value went through the schema too: a reading's string value may be longer than an envelope takes.
  const checked = missing.length > 0 ? missing : schemaErrors(FlowAlarmFields, merged).map((d) => ({ ...d, path: `/alarm${d.path}` }));
  if (checked.length > 0) throw badMsg(`the alarm is not complete: ${checked.map((d) => `${d.path} ${d.message}`).join('; ')}`, checked);
  return merged as FlowAlarm;
}

/** An alarm a flow raised and has not cleared: enough to number its next transition. */
interface Active {
  alarmId: string;
  seq: number;
  severity: Severity;
}

/** The ruleId flow alarms carry, so the cloud and the logs can tell where they came from. */
export const FLOW_RULE_ID = 'node-red';

/**
 * The active flow alarms by dedup key (device + type), as JSON the edge saves in the same transaction
 * as the transitions. Repeats are dropped: a second raise at the same severity, a clear of nothing.
 */
export class FlowAlarms {
  private active = new Map<string, Active>();

  /** Restores a saved document; a document that cannot be read starts empty (and says so). */
  static restore(json: string | undefined): { alarms: FlowAlarms; unreadable: boolean } {
    const alarms = new FlowAlarms();
    if (json === undefined) return { alarms, unreadable: false };
    try {
      const doc = JSON.parse(json) as unknown;
      if (!isObj(doc)) return { alarms, unreadable: true };
      for (const [k, v] of Object.entries(doc)) {
        if (isObj(v) && typeof v.alarmId === 'string' && Number.isInteger(v.seq) && SEVERITIES.includes(v.severity as Severity)) {
          alarms.active.set(k, { alarmId: v.alarmId, seq: v.seq as number, severity: v.severity as Severity });
        }
      }
      return { alarms, unreadable: false };
    } catch {
      return { alarms, unreadable: true };
    }
  }

  /**
   * The transitions `a` causes at `now` and the state after them (not applied: commit() applies it
   * once the outbox has taken the transitions, so a failed write changes nothing).
   */
  plan(a: FlowAlarm, now: number): { alarms: RuleAlarm[]; commit: () => void; json: () => string } {
    const key = `${a.deviceId}|${a.type}`;
    const was = this.active.get(key);
    let next: Active | undefined = was;
    let action: RuleAlarm['action'] | undefined;
    if (a.action === 'raise' && !was) {
      next = { alarmId: alarmIdFor(a.deviceId, `${FLOW_RULE_ID}/${a.type}`, now), seq: 0, severity: a.severity };
      action = 'raise';
    } else if ((a.action === 'raise' || a.action === 'update') && was && (a.action === 'update' || was.severity !== a.severity)) {
      next = { ...was, seq: was.seq + 1, severity: a.severity };
      action = 'update';
    } else if (a.action === 'clear' && was) {
      next = undefined;
      action = 'clear';
    }
    if (action === undefined) return { alarms: [], commit: () => undefined, json: () => this.toJSON(this.active) };
    const seq = action === 'clear' ? was!.seq + 1 : next!.seq;
    const alarm: RuleAlarm = {
      alarmId: (next ?? was)!.alarmId,
      seq,
      action,
      type: a.type,
      // A clear keeps the severity the alarm had, as rule alarms do.
      severity: action === 'clear' ? was!.severity : a.severity,
      ruleId: FLOW_RULE_ID,
      deviceId: a.deviceId,
      point: a.point,
      value: a.value ?? null,
      message: a.message ?? defaultMessage(a, action),
      ts: now,
    };
    if (a.unit !== undefined) alarm.unit = a.unit;
    if (a.threshold !== undefined) alarm.threshold = a.threshold;
    const after = new Map(this.active);
    if (next) after.set(key, next);
    else after.delete(key);
    return { alarms: [alarm], commit: () => void (this.active = after), json: () => this.toJSON(after) };
  }

  get size(): number {
    return this.active.size;
  }

  private toJSON(m: Map<string, Active>): string {
    return JSON.stringify(Object.fromEntries(m));
  }
}

function defaultMessage(a: FlowAlarm, action: RuleAlarm['action']): string {
  const value = a.value === undefined || a.value === null ? '' : ` = ${String(a.value)}${a.unit ? ` ${a.unit}` : ''}`;
  const verb = action === 'raise' ? 'raised' : action === 'clear' ? 'cleared' : `now ${a.severity}`;
  return `${a.type} ${verb} by a Node-RED flow at ${a.deviceId} ${a.point}${value}`;
}

// What every compiled rule shares, whatever its condition: severity, escalation and `during:` as
// resolved for one device, and turning a lifecycle transition into a RuleAlarm with its message.
import type { Severity } from '../contracts/alarm.js';
import { durationMs } from '../contracts/duration.js';
import type { ReadingValue } from '../contracts/reading.js';
import { durationText } from './conditions/kind.js';
import { compileSchedule, type Schedule } from './conditions/schedule.js';
import type { Escalation, Transition } from './lifecycle.js';
import { formatValue, renderMessage, type MessageVars } from './message.js';
import type { EscalateSpec, RuleSpec } from './schema.js';
import type { RuleAlarm, RuleState } from './types.js';

export interface Common {
  severity: Severity;
  escalation?: Escalation & { text: string; message?: string };
  schedule?: Schedule;
}

/** Rule-level settings with a device's override of severity / escalate / during laid over them. */
export function resolveCommon(spec: RuleSpec, override: Record<string, unknown> | undefined): Common {
  const severity = (override?.severity as Severity | undefined) ?? spec.severity;
  const esc = (override?.escalate as EscalateSpec | undefined) ?? spec.escalate;
  const during = (override?.during as RuleSpec['during']) ?? spec.during;
  const out: Common = { severity };
  if (esc) out.escalation = { afterMs: durationMs(esc.after), to: esc.to, text: durationText(esc.after), ...(esc.message !== undefined ? { message: esc.message } : {}) };
  if (during) out.schedule = compileSchedule(during);
  return out;
}

/** "<description>: " for default messages. The description is text, not a template: no braces. */
export function leadOf(spec: RuleSpec): string {
  return spec.description ? `${spec.description.replace(/[{}]/g, '')}: ` : '';
}

export interface AlarmFacts {
  deviceId: string;
  point: string;
  site?: string;
  value: ReadingValue;
  unit?: string;
  threshold?: number;
  vars?: Partial<MessageVars>;
}

/** A transition as the RuleAlarm the engine emits, its message rendered. */
export function makeAlarm(spec: RuleSpec, tr: Transition, f: AlarmFacts, templates: { raise: string; clear: string }, common: Common): RuleAlarm {
  const vars: Partial<MessageVars> = {
    value: formatValue(f.value),
    unit: f.unit ?? '',
    threshold: f.threshold === undefined ? '' : formatValue(f.threshold),
    device: f.deviceId,
    point: f.point,
    site: f.site ?? '',
    severity: tr.severity,
    ...f.vars,
  };
  let template: string;
  if (tr.action === 'raise') template = spec.message ?? templates.raise;
  else if (tr.action === 'clear') template = spec.clearMessage ?? templates.clear;
  else {
    const e = common.escalation;
    vars.window = e?.text ?? '';
    template = e?.message ?? `${leadOf(spec)}${spec.alarm} still active after {window}; severity raised to {severity}`;
  }
  const alarm: RuleAlarm = {
    alarmId: tr.alarmId,
    seq: tr.seq,
    action: tr.action,
    type: spec.alarm,
    severity: tr.severity,
    ruleId: spec.id,
    deviceId: f.deviceId,
    point: f.point,
    value: f.value,
    message: renderMessage(template, vars),
    ts: tr.at,
  };
  if (f.unit !== undefined) alarm.unit = f.unit;
  if (f.threshold !== undefined) alarm.threshold = f.threshold;
  if (f.site !== undefined) alarm.site = f.site;
  return alarm;
}

/** Loop guard for applying due transitions: far more than any real state can owe. */
export const MAX_DUE_STEPS = 1000;

/** Removes undefined-valued keys, so a written state is exactly its JSON. */
export function compact(o: RuleState): RuleState {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

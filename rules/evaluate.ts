// The pure evaluator: a compiled rule turns (state, reading, device, now) into (state, alarms). No I/O,
// no clock, no timers, so the edge runs it live and `rules backtest` runs it over stored history with
// identical results.
import type { Reading } from '../contracts/reading.js';
import type { Severity } from '../contracts/alarm.js';
import {
  mergeThreshold,
  thresholdParams,
  thresholdVerdict,
  type ThresholdOverride,
  type ThresholdParams,
  type ThresholdSpec,
} from './conditions/threshold.js';
import { readLifecycle, step, type Transition } from './lifecycle.js';
import { formatValue, renderMessage } from './message.js';
import type { RuleSpec } from './schema.js';
import type { CompiledRule, EvalResult, RuleAlarm, RuleDevice, RuleState } from './types.js';

/** The spec each compiled rule came from, for override validation (see overrides.ts). */
const specs = new WeakMap<CompiledRule, RuleSpec>();

export function ruleSpecOf(rule: CompiledRule): RuleSpec | undefined {
  return specs.get(rule);
}

/** `spec` must have passed the schema and check.ts; parseRuleFile guarantees that. */
export function compileRule(spec: RuleSpec, file: string): CompiledRule {
  // One branch per condition kind; `rate:`, `stale:`… add theirs here.
  if (!spec.threshold) throw new Error(`rule ${spec.id}: no condition (check.ts should have rejected it)`);
  const rule = new ThresholdRule(spec, spec.threshold, file);
  specs.set(rule, spec);
  return rule;
}

export function matches(spec: RuleSpec, device: RuleDevice): boolean {
  const m = spec.match;
  return (
    (m.kind === undefined || m.kind === device.kind) &&
    (m.profile === undefined || m.profile === device.profile) &&
    (m.devices === undefined || m.devices.includes(device.id))
  );
}

class ThresholdRule implements CompiledRule {
  readonly id: string;
  readonly description?: string;
  private readonly base: ThresholdParams;

  constructor(
    private readonly spec: RuleSpec,
    private readonly condition: ThresholdSpec,
    readonly file: string,
  ) {
    this.id = spec.id;
    if (spec.description !== undefined) this.description = spec.description;
    this.base = thresholdParams(condition);
  }

  appliesTo(device: RuleDevice): boolean {
    return matches(this.spec, device);
  }

  evaluate(state: RuleState, reading: Reading, device: RuleDevice, now: number): EvalResult {
    if (reading.deviceId !== device.id || reading.point !== this.spec.point || !this.appliesTo(device)) {
      return { state, alarms: [] };
    }
    // A bad reading has no value and a stale one re-reports an old value: neither says anything about
    // the level now. Letting them reset a hold would let one Modbus timeout cancel a real flood alarm;
    // letting them extend it would raise on a value nobody measured. So they record nothing. A gauge
    // that stops answering is the job of an offline/stale rule, not of this one.
    const value = reading.value;
    if (reading.quality !== 'good' || typeof value !== 'number' || !Number.isFinite(value)) return { state, alarms: [] };

    const override = device.overrides?.[this.id];
    const p = override ? thresholdParams(mergeThreshold(this.condition, override as ThresholdOverride)) : this.base;
    const severity = (override?.severity as Severity | undefined) ?? this.spec.severity;
    const { state: next, transition } = step(readLifecycle(state), {
      verdict: thresholdVerdict(p, value),
      now,
      holdMs: p.holdMs,
      clearHoldMs: p.clearHoldMs,
      deviceId: device.id,
      ruleId: this.id,
      severity,
    });
    return { state: next, alarms: transition ? [this.alarm(transition, reading, device, p, now)] : [] };
  }

  private alarm(tr: Transition, reading: Reading, device: RuleDevice, p: ThresholdParams, now: number): RuleAlarm {
    // A transition carries the line that was crossed: the raise line on raise, the clear line on clear.
    const threshold = tr.action === 'raise' ? p.raiseAt : p.clearAt;
    const vars = {
      value: formatValue(reading.value),
      unit: reading.unit ?? '',
      threshold: formatValue(threshold),
      device: device.id,
      point: this.spec.point,
    };
    const alarm: RuleAlarm = {
      alarmId: tr.alarmId,
      seq: tr.seq,
      action: tr.action,
      type: this.spec.alarm,
      severity: tr.severity,
      ruleId: this.id,
      deviceId: device.id,
      point: this.spec.point,
      value: reading.value,
      threshold,
      message: renderMessage(this.template(tr.action, p), vars),
      ts: now,
    };
    if (reading.unit !== undefined) alarm.unit = reading.unit;
    return alarm;
  }

  private template(action: 'raise' | 'clear', p: ThresholdParams): string {
    const given = action === 'raise' ? this.spec.message : this.spec.clearMessage;
    if (given !== undefined) return given;
    // The description is text, not a template: braces in it must not be read as placeholders.
    const lead = this.spec.description ? `${this.spec.description.replace(/[{}]/g, '')}: ` : '';
    return action === 'raise'
      ? `${lead}{point} {value} {unit} ${p.direction} {threshold} {unit}`
      : `${lead}cleared, {point} back to {value} {unit} (clear line {threshold} {unit})`;
  }
}

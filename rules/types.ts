// The contract between the rule language and whoever runs it (the edge live, `rules backtest` over
// history). Rules are pure: evaluate(state, reading, now) → { state, alarms }; no I/O, no timers.
import type { Reading } from '../contracts/reading.js';
import type { AlarmAction, Severity } from '../contracts/alarm.js';

/** What a rule needs to know about the device a reading came from. */
export interface RuleDevice {
  id: string;
  /** Device profile id, e.g. generic/radar-water-level-gauge. */
  profile: string;
  /** The profile's kind, e.g. water_level. */
  kind: string;
  /** Per-device overrides of rule parameters, by rule id, e.g. { 'water-level-warning': { above: 3.2, clearBelow: 3.0 } }. */
  overrides?: Record<string, Record<string, unknown>>;
}

/**
 * One alarm transition a rule emits. The id is derived from (device, rule, raise time), so the same
 * history always yields the same ids: live and backtest agree, and a replay is idempotent.
 */
export interface RuleAlarm {
  alarmId: string;
  seq: number;
  action: AlarmAction;
  type: string;
  severity: Severity;
  ruleId: string;
  deviceId: string;
  point: string;
  value: Reading['value'];
  unit?: string;
  threshold?: number;
  message: string;
  ts: number;
}

/** Per (rule, device) state; JSON-serialisable so the edge can persist it across restarts. */
export type RuleState = Record<string, unknown>;

export interface EvalResult {
  state: RuleState;
  alarms: RuleAlarm[];
}

export interface CompiledRule {
  id: string;
  /** The file it came from, for error messages. */
  file: string;
  description?: string;
  /** Does this rule watch this device at all? */
  appliesTo(device: RuleDevice): boolean;
  /** Pure. `state` is {} the first time; a reading of another point or device returns state unchanged. */
  evaluate(state: RuleState, reading: Reading, device: RuleDevice, now: number): EvalResult;
}

export interface RuleSet {
  file: string;
  rules: CompiledRule[];
}

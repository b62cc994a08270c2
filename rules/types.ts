// The contract between the rule language and whoever runs it (the edge live, `rules backtest` over
// history). Rules are pure: evaluate(state, reading, now) → { state, alarms }; tick(state, now) →
// { state, alarms } for what time alone causes. No I/O, no timers, no clock of their own.
import type { Reading } from '../contracts/reading.js';
import type { AlarmAction, Severity } from '../contracts/alarm.js';

/** What a rule needs to know about the device a reading came from. */
export interface RuleDevice {
  id: string;
  /** Device profile id, e.g. generic/radar-water-level-gauge. */
  profile: string;
  /** The profile's kind, e.g. water_level. */
  kind: string;
  /**
   * The place the device is in — one building, one compound — as an id (e.g. "xinhe-nursing-home").
   * Devices with the same site are combined by `all:` rules (smoke in one detector AND heat in
   * another sensor of the same building). Not the alarm envelope's `site`, which is a kind of place
   * (nursing_home, school) shared by every such place in the county.
   */
  site?: string;
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
  /** raise (seq 0), update (escalated severity), clear. */
  action: AlarmAction;
  type: string;
  severity: Severity;
  ruleId: string;
  /**
   * The device the alarm is on. For an `all:` rule this may be another device of the site than the
   * one whose reading (or tick) caused the transition: look the device up by this id.
   */
  deviceId: string;
  point: string;
  value: Reading['value'];
  unit?: string;
  threshold?: number;
  message: string;
  /** The site (RuleDevice.site) of the device, when it has one. */
  site?: string;
  /** When the transition happened: the reading's `now`, or the moment a time-made transition fell due. */
  ts: number;
}

/** Per (rule, device) — or per (rule, site) for `all:` — state; JSON-serialisable so the edge can persist it. */
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
  /** `device`: one state per (rule, device); `site`: one per (rule, site), shared by the site's devices (`all:`). */
  readonly scope: 'device' | 'site';
  /** Does this rule watch this device at all? */
  appliesTo(device: RuleDevice): boolean;
  /**
   * Pure. `state` is {} the first time; the same object comes back when nothing changed. Transitions
   * that fell due before `now` (see tick) are applied first, so a reading never skips them.
   */
  evaluate(state: RuleState, reading: Reading, device: RuleDevice, now: number): EvalResult;
  /**
   * Pure. Time passing with no reading: applies every transition due at or before `now` — a stale
   * point, the quiet period of a count, the expiry of an `all:` member, a `during:` window opening,
   * an escalation — each stamped with the time it fell due, not with `now`. So calling it late, often,
   * or not at all before the next reading gives the same alarms: only their latency changes.
   */
  tick(state: RuleState, device: RuleDevice, now: number): EvalResult;
  /** The earliest time at which tick would change something, or undefined when nothing is pending. */
  nextDue(state: RuleState, device: RuleDevice): number | undefined;
  /** A saved state as this rule reads it: fields it cannot read (an older or garbled save) are dropped. */
  normalizeState(state: RuleState): RuleState;
}

export interface RuleSet {
  file: string;
  rules: CompiledRule[];
}

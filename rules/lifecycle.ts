// The alarm lifecycle every condition kind shares: hold before raising, hysteresis while raised,
// clear-hold before clearing, escalation while it persists, one alarm identity from raise to clear. A
// condition kind only has to say, per reading (or per due time), which side of its lines it is on (a
// Verdict). Pure: time comes in as `now`.
import { SEVERITIES, type AlarmAction, type Severity } from '../contracts/alarm.js';
import { alarmIdFor } from './alarm-id.js';

/**
 * What one reading says: `raise` = the raise condition is true, `clear` = the clear condition is
 * true, `between` = neither (inside the hysteresis band). A condition must never say raise and clear
 * at once, which is why the clear line sits on the safe side of the raise line.
 */
export type Verdict = 'raise' | 'clear' | 'between';

export type ActiveAlarm = {
  alarmId: string;
  /** Seq of the last transition emitted; the next one takes seq + 1. */
  seq: number;
  severity: Severity;
  raisedAt: number;
};

/**
 * Plain JSON on purpose: the edge persists it and restores it after a restart. `since` is when the
 * current streak of raise verdicts (no alarm) or clear verdicts (alarm active) began; `n` how many
 * verdicts the streak has had, kept only by a rule that needs N in a row (state written before `n`
 * existed reads as a streak of one).
 */
export type LifecycleState = {
  since?: number;
  n?: number;
  active?: ActiveAlarm;
};

export interface Transition {
  action: AlarmAction;
  alarmId: string;
  seq: number;
  severity: Severity;
  /** When it happened: `now` for a reading, the due time for a transition time alone caused. */
  at: number;
}

export interface StepInput {
  verdict: Verdict;
  now: number;
  holdMs: number;
  clearHoldMs: number;
  /** Raise verdicts needed in a row (default 1). */
  holdCount?: number;
  /** Clear verdicts needed in a row (default 1). */
  clearHoldCount?: number;
  deviceId: string;
  ruleId: string;
  /** Severity to raise with; a clear keeps the severity the alarm has. */
  severity: Severity;
}

export function step(s: LifecycleState, i: StepInput): { state: LifecycleState; transition?: Transition } {
  const wanted = s.active ? 'clear' : 'raise';
  if (i.verdict !== wanted) return { state: s.active ? { active: s.active } : {} };
  // A clock stepped backwards (NTP) makes the streak unmeasurable; restart it rather than extend it.
  const restart = s.since === undefined || i.now < s.since;
  const since = restart ? i.now : (s.since as number);
  const n = restart ? 1 : (s.n ?? 1) + 1;
  const neededMs = s.active ? i.clearHoldMs : i.holdMs;
  const neededCount = (s.active ? i.clearHoldCount : i.holdCount) ?? 1;
  if (i.now - since < neededMs || n < neededCount) {
    const streak: LifecycleState = neededCount > 1 ? { since, n } : { since };
    return { state: s.active ? { active: s.active, ...streak } : streak };
  }
  if (!s.active) {
    const active: ActiveAlarm = { alarmId: alarmIdFor(i.deviceId, i.ruleId, i.now), seq: 0, severity: i.severity, raisedAt: i.now };
    return { state: { active }, transition: { action: 'raise', alarmId: active.alarmId, seq: 0, severity: active.severity, at: i.now } };
  }
  const { alarmId, seq, severity } = s.active;
  return { state: {}, transition: { action: 'clear', alarmId, seq: seq + 1, severity, at: i.now } };
}

/** Lower is more urgent: critical 0 … warning 3. */
export function urgency(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** An escalation policy resolved to numbers: after `afterMs` of being raised, severity `to`. */
export interface Escalation {
  afterMs: number;
  to: Severity;
}

/** When the active alarm is due to escalate, or undefined (none active, no policy, already that urgent). */
export function escalationDue(s: LifecycleState, e: Escalation | undefined): number | undefined {
  if (!s.active || !e || urgency(e.to) >= urgency(s.active.severity)) return undefined;
  return s.active.raisedAt + e.afterMs;
}

/** The `update` transition of an escalation at `at`: the next seq, the higher severity, the streak kept. */
export function escalate(s: LifecycleState, e: Escalation, at: number): { state: LifecycleState; transition: Transition } {
  const a = s.active as ActiveAlarm;
  const active: ActiveAlarm = { ...a, seq: a.seq + 1, severity: e.to };
  return { state: { ...s, active }, transition: { action: 'update', alarmId: a.alarmId, seq: active.seq, severity: e.to, at } };
}

/**
 * Reads persisted state defensively: it comes back from disk, possibly written by an older version.
 * Anything malformed is dropped rather than trusted, so a bad file cannot crash the evaluator.
 */
export function readLifecycle(state: Record<string, unknown>): LifecycleState {
  const out: LifecycleState = {};
  if (isTime(state.since)) out.since = state.since;
  if (out.since !== undefined && Number.isInteger(state.n) && (state.n as number) >= 1) out.n = state.n as number;
  const a = state.active;
  if (a !== null && typeof a === 'object') {
    const r = a as Record<string, unknown>;
    if (
      typeof r.alarmId === 'string' &&
      r.alarmId.length > 0 &&
      Number.isInteger(r.seq) &&
      (r.seq as number) >= 0 &&
      SEVERITIES.includes(r.severity as Severity) &&
      isTime(r.raisedAt)
    ) {
      out.active = { alarmId: r.alarmId, seq: r.seq as number, severity: r.severity as Severity, raisedAt: r.raisedAt };
    }
  }
  return out;
}

export function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

// The alarm lifecycle every "condition held for a while" rule shares: hold before raising, hysteresis
// while raised, clear-hold before clearing, one alarm identity from raise to clear. A condition kind
// only has to say, per reading, which side of its lines the value is on (a Verdict); later kinds
// (rate, deadband…) reuse this unchanged. Pure: time comes in as `now`.
import { SEVERITIES, type Severity } from '../contracts/alarm.js';
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
 * current streak of raise verdicts (no alarm) or clear verdicts (alarm active) began.
 */
export type LifecycleState = {
  since?: number;
  active?: ActiveAlarm;
};

export interface Transition {
  action: 'raise' | 'clear';
  alarmId: string;
  seq: number;
  severity: Severity;
}

export interface StepInput {
  verdict: Verdict;
  now: number;
  holdMs: number;
  clearHoldMs: number;
  deviceId: string;
  ruleId: string;
  /** Severity to raise with; a clear keeps the severity the alarm was raised with. */
  severity: Severity;
}

export function step(s: LifecycleState, i: StepInput): { state: LifecycleState; transition?: Transition } {
  const wanted = s.active ? 'clear' : 'raise';
  if (i.verdict !== wanted) return { state: s.active ? { active: s.active } : {} };
  // A clock stepped backwards (NTP) makes the streak unmeasurable; restart it rather than extend it.
  const since = s.since === undefined || i.now < s.since ? i.now : s.since;
  const needed = s.active ? i.clearHoldMs : i.holdMs;
  if (i.now - since < needed) return { state: s.active ? { active: s.active, since } : { since } };
  if (!s.active) {
    const active: ActiveAlarm = { alarmId: alarmIdFor(i.deviceId, i.ruleId, i.now), seq: 0, severity: i.severity, raisedAt: i.now };
    return { state: { active }, transition: { action: 'raise', alarmId: active.alarmId, seq: 0, severity: active.severity } };
  }
  const { alarmId, seq, severity } = s.active;
  return { state: {}, transition: { action: 'clear', alarmId, seq: seq + 1, severity } };
}

/**
 * Reads persisted state defensively: it comes back from disk, possibly written by an older version.
 * Anything malformed is dropped rather than trusted, so a bad file cannot crash the evaluator.
 */
export function readLifecycle(state: Record<string, unknown>): LifecycleState {
  const out: LifecycleState = {};
  if (isTime(state.since)) out.since = state.since;
  const a = state.active;
  if (a !== null && typeof a === 'object') {
    const r = a as Record<string, unknown>;
    if (
      typeof r.alarmId === 'string' &&
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

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

// What a condition kind that watches one point of one device provides (threshold, value, rate, stale,
// count). The rule runner (../point-rule.ts) does the rest the same way for every kind: lifecycle
// (hold, consecutive, hysteresis, identity), `during:` windows, escalation, messages, due times.
import type { TSchema } from 'typebox';
import type { Duration } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import type { Reading, ReadingValue } from '../../contracts/reading.js';
import type { Verdict } from '../lifecycle.js';
import type { MessageVars, Placeholder } from '../message.js';

/** What one reading says, and what the alarm it may cause carries. */
export interface Judgement {
  verdict: Verdict;
  /** alarm.value: the quantity compared with the line (the level; the change for `rate`; the count for `count`). */
  value: ReadingValue;
  unit?: string;
  /** alarm.threshold of a raise and of a clear, when the kind has lines. */
  raiseLine?: number;
  clearLine?: number;
  vars?: Partial<MessageVars>;
}

/** The streak a raise or a clear needs (lifecycle.ts). */
export interface HoldParams {
  holdMs: number;
  clearHoldMs: number;
  holdCount: number;
  clearHoldCount: number;
}
export const NO_HOLD: HoldParams = { holdMs: 0, clearHoldMs: 0, holdCount: 1, clearHoldCount: 1 };

/** The kind's own fields of a rule's state, beside the lifecycle's (since, n, active). Plain JSON. */
export type CondState = Record<string, unknown>;

export interface PointKind<Spec, P extends HoldParams = HoldParams> {
  /** Placeholders its messages may use besides device, point, site, severity. */
  readonly placeholders: readonly Placeholder[];
  /** Schema of the kind's overridable fields (severity, escalate, during are added for every kind). */
  readonly overrideProps: Record<string, TSchema>;
  /** Checks beyond the schema; paths relative to the condition block. */
  problems(spec: Spec): ErrorDetail[];
  /** Problems of a device's override (shape already checked); paths relative to the override. */
  overrideProblems(spec: Spec, override: Partial<Spec>): ErrorDetail[];
  /** Resolved numbers for one (rule, device). `spec` has passed `problems`. */
  params(spec: Spec): P;
  /** Its fields of a persisted state, read defensively: anything malformed is left out. */
  read(raw: Record<string, unknown>): CondState;
  /**
   * A reading of the device (any point, any quality: most kinds only look at good readings of their
   * point). A judgement when the reading says something about the condition.
   */
  onReading(s: CondState, r: Reading, point: string, p: P, now: number): { state: CondState; judgement?: Judgement };
  /** Level conditions (threshold, value): what a value alone says, to judge the last value again when a `during` window opens. */
  verdictOf?(value: ReadingValue, p: P): Verdict | undefined;
  /** A tick (time passing, no reading); e.g. `stale` starts watching. */
  onTick?(s: CondState, now: number): CondState;
  /** With no alarm: when the condition becomes true by time alone (`stale`: last good reading + after). */
  raiseFrom?(s: CondState, p: P): number | undefined;
  /** With an alarm: when the condition ends by time alone (`count`: last hit + quiet). */
  clearAt?(s: CondState, p: P): number | undefined;
  /** What an alarm raised or cleared by time alone carries. */
  timeJudgement?(s: CondState, p: P, action: 'raise' | 'clear', at: number): Omit<Judgement, 'verdict'>;
  /** After a clear: forget what the next alarm must not count (`count` drops its hits). */
  onClear?(s: CondState): CondState;
  /** Default messages; `lead` is "<description>: " or "". */
  messages(p: P, lead: string): { raise: string; clear: string };
  /** The kind's default words for the escalation message ("still above 3.5 m"). */
  readonly name: string;
}

/** Lines of a numeric parameter the spec says must be > 0; paths relative to the condition block. */
export function positive(out: ErrorDetail[], key: string, ms: number | undefined): void {
  if (ms !== undefined && !(ms > 0)) out.push({ path: `/${key}`, message: 'must be longer than 0' });
}

/** A duration as written ("10m"), or "600s" for a bare number of seconds: for messages. */
export function durationText(d: Duration): string {
  return typeof d === 'number' ? `${d}s` : d.trim();
}

// The `threshold:` condition: raise when a value stays beyond a line, clear when it comes back past a
// (possibly different) clear line. Options: a deadband (a reading within `deadband` of the last
// significant value counts as that value, so dither around a line changes nothing) and debounce (`consecutive` readings in a row before raising,
// `clearConsecutive` before clearing). Hold, hysteresis and debounce timing live in ../lifecycle.ts;
// this file only says which side of the lines a value is on.
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import type { Reading, ReadingValue } from '../../contracts/reading.js';
import type { Verdict } from '../lifecycle.js';
import { tidy } from '../message.js';
import type { CondState, HoldParams, PointKind } from './kind.js';

export const ThresholdSpec = Type.Object(
  {
    /** Raise when value > above. Exactly one of above/below. */
    above: Type.Optional(Type.Number()),
    /** Raise when value < below. */
    below: Type.Optional(Type.Number()),
    /** With `above`: clear when value < clearBelow (default: the raise value). */
    clearBelow: Type.Optional(Type.Number()),
    /** With `below`: clear when value > clearAbove (default: the raise value). */
    clearAbove: Type.Optional(Type.Number()),
    /** How long the raise condition must hold before the alarm is raised (default 0). */
    hold: Type.Optional(Duration),
    /** How long the clear condition must hold before the alarm is cleared (default 0). */
    clearHold: Type.Optional(Duration),
    /** A reading within this of the last significant value counts as that value (default 0: off). */
    deadband: Type.Optional(Type.Number({ minimum: 0 })),
    /** Readings in a row over the line before raising (default 1); with `hold`, both must be met. */
    consecutive: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** Readings in a row past the clear line before clearing (default: `consecutive`). */
    clearConsecutive: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export type ThresholdSpec = Type.Static<typeof ThresholdSpec>;

/** What a device may override: every parameter, never the direction (that would be another rule). */
export const THRESHOLD_OVERRIDE_KEYS = ['above', 'below', 'clearBelow', 'clearAbove', 'hold', 'clearHold', 'deadband', 'consecutive', 'clearConsecutive'] as const;
export type ThresholdOverride = Pick<ThresholdSpec, (typeof THRESHOLD_OVERRIDE_KEYS)[number]>;

export interface ThresholdParams extends HoldParams {
  direction: 'above' | 'below';
  raiseAt: number;
  clearAt: number;
  deadband: number;
}

/** Checks the schema cannot express. Paths are relative to the `threshold` block. */
export function thresholdProblems(spec: ThresholdSpec): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const add = (path: string, message: string) => out.push({ path, message });
  const { above, below, clearBelow, clearAbove } = spec;
  if (above === undefined && below === undefined) {
    add('', 'needs exactly one of "above" (raise when the value goes over it) or "below" (raise when it goes under)');
    return out;
  }
  if (above !== undefined && below !== undefined) {
    add('/below', '"above" and "below" are both given; a threshold watches one direction (write two rules for a band)');
    return out;
  }
  if (above !== undefined) {
    if (clearAbove !== undefined) add('/clearAbove', '"clearAbove" goes with "below"; with "above" the clear line is "clearBelow"');
    if (clearBelow !== undefined && clearBelow > above) {
      add('/clearBelow', `clearBelow (${clearBelow}) must not be above the raise line above (${above}): the alarm clears on the safe side of it`);
    }
  } else if (below !== undefined) {
    if (clearBelow !== undefined) add('/clearBelow', '"clearBelow" goes with "above"; with "below" the clear line is "clearAbove"');
    if (clearAbove !== undefined && clearAbove < below) {
      add('/clearAbove', `clearAbove (${clearAbove}) must not be below the raise line below (${below}): the alarm clears on the safe side of it`);
    }
  }
  return out;
}

/** The spec with a device's override laid over it (the override is assumed valid: see ../overrides.ts). */
export function mergeThreshold(spec: ThresholdSpec, override: ThresholdOverride | undefined): ThresholdSpec {
  if (!override) return spec;
  const merged: ThresholdSpec = { ...spec };
  for (const key of THRESHOLD_OVERRIDE_KEYS) {
    if (override[key] !== undefined) (merged as Record<string, unknown>)[key] = override[key];
  }
  return merged;
}

/** Resolved numbers for one (rule, device). `spec` must have passed thresholdProblems. */
export function thresholdParams(spec: ThresholdSpec): ThresholdParams {
  const holdMs = spec.hold === undefined ? 0 : durationMs(spec.hold);
  const clearHoldMs = spec.clearHold === undefined ? 0 : durationMs(spec.clearHold);
  const holdCount = spec.consecutive ?? 1;
  const clearHoldCount = spec.clearConsecutive ?? holdCount;
  const common = { holdMs, clearHoldMs, holdCount, clearHoldCount, deadband: spec.deadband ?? 0 };
  if (spec.above !== undefined) {
    return { direction: 'above', raiseAt: spec.above, clearAt: spec.clearBelow ?? spec.above, ...common };
  }
  const below = spec.below as number;
  return { direction: 'below', raiseAt: below, clearAt: spec.clearAbove ?? below, ...common };
}

/**
 * Which side of the lines a value is on. Strict comparisons: a value exactly on the raise line does
 * not raise and exactly on the clear line does not clear, so with the default clear line (= raise
 * line) a value sitting on it neither raises nor clears.
 */
export function thresholdVerdict(p: ThresholdParams, value: number): Verdict {
  if (p.direction === 'above') {
    if (value > p.raiseAt) return 'raise';
    if (value < p.clearAt) return 'clear';
  } else {
    if (value < p.raiseAt) return 'raise';
    if (value > p.clearAt) return 'clear';
  }
  return 'between';
}

function goodNumber(r: Reading): number | undefined {
  // A bad reading has no value and a stale one re-reports an old value: neither says anything about
  // the level now. Letting them reset a hold would let one Modbus timeout cancel a real flood alarm;
  // letting them extend it would raise on a value nobody measured. So they record nothing. A gauge
  // that stops answering is the job of a `stale:` rule (or the edge's device health), not this one.
  return r.quality === 'good' && typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : undefined;
}

const t = ThresholdSpec.properties;

export const THRESHOLD: PointKind<ThresholdSpec, ThresholdParams> = {
  name: 'threshold',
  placeholders: ['value', 'unit', 'threshold'],
  overrideProps: {
    above: t.above, below: t.below, clearBelow: t.clearBelow, clearAbove: t.clearAbove, hold: t.hold, clearHold: t.clearHold,
    deadband: t.deadband, consecutive: t.consecutive, clearConsecutive: t.clearConsecutive,
  },
  problems: thresholdProblems,
  overrideProblems(spec, o) {
    const raisesAbove = spec.above !== undefined;
    const foreign = raisesAbove ? (['below', 'clearAbove'] as const) : (['above', 'clearBelow'] as const);
    const own = raisesAbove ? '"above" and "clearBelow"' : '"below" and "clearAbove"';
    const wrongWay = foreign.filter((k) => o[k] !== undefined);
    if (wrongWay.length > 0) {
      return wrongWay.map((k) => ({ path: `/${k}`, message: `this rule raises ${raisesAbove ? 'above' : 'below'} a line; override ${own}, not "${k}"` }));
    }
    // Check the rule as this device will run it: lowering `above` alone can leave clearBelow above it.
    // A problem in a field the device did not override is the override's doing: point at the raise line.
    const raiseKey = raisesAbove ? 'above' : 'below';
    return thresholdProblems(mergeThreshold(spec, o as ThresholdOverride)).map((d) => {
      const key = d.path.slice(1);
      if (Object.hasOwn(o, key)) return d;
      return { path: `/${raiseKey}`, message: `${d.message}; the rule's ${key} applies unless this device overrides it too` };
    });
  },
  params: thresholdParams,
  read(raw) {
    return typeof raw.ref === 'number' && Number.isFinite(raw.ref) ? { ref: raw.ref } : {};
  },
  onReading(s, r, point, p) {
    const v = r.point === point ? goodNumber(r) : undefined;
    if (v === undefined) return { state: s };
    let state: CondState = s;
    let judged = v;
    if (p.deadband > 0) {
      // Deadband: a value that moved less than the band since the last significant one is not news;
      // the last significant value stands and is judged again now (so a hold still completes).
      const ref = s.ref as number | undefined;
      if (ref !== undefined && tidy(Math.abs(v - ref)) < p.deadband) judged = ref;
      else state = { ref: v };
    } else if (s.ref !== undefined) {
      state = {};
    }
    const judgement = { verdict: thresholdVerdict(p, judged), value: judged, raiseLine: p.raiseAt, clearLine: p.clearAt, ...(r.unit !== undefined ? { unit: r.unit } : {}) };
    return { state, judgement };
  },
  verdictOf(value: ReadingValue, p) {
    return typeof value === 'number' && Number.isFinite(value) ? thresholdVerdict(p, value) : undefined;
  },
  messages: (p, lead) => ({
    raise: `${lead}{point} {value} {unit} ${p.direction} {threshold} {unit}`,
    clear: `${lead}cleared, {point} back to {value} {unit} (clear line {threshold} {unit})`,
  }),
};

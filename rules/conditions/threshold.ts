// The `threshold:` condition: raise when a value stays beyond a line, clear when it comes back past a
// (possibly different) clear line. Hysteresis and hold timing live in ../lifecycle.ts; this file only
// says which side of the lines a value is on.
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import type { Verdict } from '../lifecycle.js';

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
  },
  { additionalProperties: false },
);
export type ThresholdSpec = Type.Static<typeof ThresholdSpec>;

/** What a device may override: every parameter, never the direction (that would be another rule). */
export const THRESHOLD_OVERRIDE_KEYS = ['above', 'below', 'clearBelow', 'clearAbove', 'hold', 'clearHold'] as const;
export type ThresholdOverride = Pick<ThresholdSpec, (typeof THRESHOLD_OVERRIDE_KEYS)[number]>;

export interface ThresholdParams {
  direction: 'above' | 'below';
  raiseAt: number;
  clearAt: number;
  holdMs: number;
  clearHoldMs: number;
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
  if (spec.above !== undefined) {
    return { direction: 'above', raiseAt: spec.above, clearAt: spec.clearBelow ?? spec.above, holdMs, clearHoldMs };
  }
  const below = spec.below as number;
  return { direction: 'below', raiseAt: below, clearAt: spec.clearAbove ?? below, holdMs, clearHoldMs };
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

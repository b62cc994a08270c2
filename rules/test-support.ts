// Shared by the rules tests: a gauge, readings, and a driver that feeds a rule a timed sequence.
import { isGsError, type GsError } from '../contracts/errors.js';
import type { Quality, Reading, ReadingValue } from '../contracts/reading.js';
import { parseRuleFile } from './compile.js';
import type { CompiledRule, RuleAlarm, RuleDevice, RuleState } from './types.js';

export const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);
export const SEC = 1000;
export const MIN = 60 * SEC;

export const gauge: RuleDevice = { id: 'wl-001', profile: 'generic/radar-water-level-gauge', kind: 'water_level' };

export function level(value: number | null, ts: number, quality: Quality = 'good', deviceId = gauge.id, point = 'water_level'): Reading {
  return { deviceId, point, value, unit: 'm', quality, ts };
}

/** One rule from inline YAML (the rule body, indented as a list item under `rules:`). */
export function ruleFrom(yaml: string, file = 'test.yaml'): CompiledRule {
  const set = parseRuleFile(`rules:\n${yaml}`, file);
  return set.rules[0]!;
}

export const WARNING = `
  - id: wl-warning
    alarm: water_level_warning
    severity: major
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3.5, clearBelow: 3.3, hold: 2m, clearHold: 30s }
    message: "Water level {value} {unit} above warning line {threshold} {unit} at {device} ({point})"
`;

export type Step = [offsetMs: number, value: number | null, quality?: Quality];

/** Feeds readings at T0 + offset (now = reading time) and collects every alarm. */
export function feed(rule: CompiledRule, steps: Step[], o: { device?: RuleDevice; state?: RuleState } = {}): { state: RuleState; alarms: RuleAlarm[] } {
  const device = o.device ?? gauge;
  let state = o.state ?? {};
  const alarms: RuleAlarm[] = [];
  for (const [offset, value, quality] of steps) {
    const r = rule.evaluate(state, level(value, T0 + offset, quality, device.id), device, T0 + offset);
    state = r.state;
    alarms.push(...r.alarms);
  }
  return { state, alarms };
}

/** A reading every `everyMs` from `from` to `to` inclusive, all at `value`. */
export function steady(value: number, from: number, to: number, everyMs = 10 * SEC): Step[] {
  const out: Step[] = [];
  for (let t = from; t <= to; t += everyMs) out.push([t, value]);
  return out;
}

/** The GsError `fn` throws, or undefined when it does not throw; any other error propagates. */
export function gsErrorOf(fn: () => unknown): GsError | undefined {
  try {
    fn();
  } catch (err) {
    if (isGsError(err)) return err;
    throw err;
  }
  return undefined;
}

/** One step of a timed run: a reading of `point` (default the rule's test point) or a tick. */
export type Ev =
  | { at: number; value: ReadingValue; point?: string; quality?: Quality; unit?: string; device?: RuleDevice }
  | { tick: number; device?: RuleDevice };

/**
 * Drives one rule through readings and ticks at T0 + offset (now = that time); every alarm, the
 * final state, and the state after each step (to check it stays plain JSON).
 */
export function drive(rule: CompiledRule, events: Ev[], o: { device?: RuleDevice; state?: RuleState; point?: string } = {}): { state: RuleState; alarms: RuleAlarm[] } {
  let state = o.state ?? {};
  const alarms: RuleAlarm[] = [];
  for (const e of events) {
    const device = e.device ?? o.device ?? gauge;
    const r =
      'tick' in e
        ? rule.tick(state, device, T0 + e.tick)
        : rule.evaluate(
            state,
            { deviceId: device.id, point: e.point ?? o.point ?? 'water_level', value: e.value, quality: e.quality ?? 'good', ts: T0 + e.at, ...(e.unit !== undefined ? { unit: e.unit } : {}) },
            device,
            T0 + e.at,
          );
    state = r.state;
    alarms.push(...r.alarms);
  }
  return { state, alarms };
}

/** "raise@120s major" per alarm, for compact assertions. */
export function brief(alarms: RuleAlarm[]): string[] {
  return alarms.map((a) => `${a.action}@${(a.ts - T0) / SEC}s ${a.severity}${a.value === null || a.value === undefined ? '' : ` ${String(a.value)}`}`);
}

/** A JSON round trip, as the edge's save and load do. */
export const viaJson = <T>(s: T): T => JSON.parse(JSON.stringify(s)) as T;

// A test on one value, shared by `value:`, `count:` and the members of `all:`: exactly one of
// `equals`, `in`, `above`, `below` (the last two with an optional hysteresis line where allowed).
import Type from 'typebox';
import type { ErrorDetail } from '../../contracts/errors.js';
import type { ReadingValue } from '../../contracts/reading.js';
import type { Verdict } from '../lifecycle.js';
import { formatValue } from '../message.js';

const Scalar = Type.Union([Type.Boolean(), Type.Number(), Type.String({ maxLength: 256 })]);

/** Schema properties of a test; spread into a condition's object schema. */
export const TEST_PROPS = {
  /** Raise when the value is exactly this (true, false, a number or a string). */
  equals: Type.Optional(Scalar),
  /** Raise when the value is one of these. */
  in: Type.Optional(Type.Array(Type.Union([Type.Number(), Type.String({ maxLength: 256 })]), { minItems: 1, maxItems: 64 })),
  /** Raise when the value > above. */
  above: Type.Optional(Type.Number()),
  /** Raise when the value < below. */
  below: Type.Optional(Type.Number()),
};
/** Hysteresis lines for above/below, where a test keeps a raised state (members of `all:`). */
export const HYSTERESIS_PROPS = {
  clearBelow: Type.Optional(Type.Number()),
  clearAbove: Type.Optional(Type.Number()),
};

export const TEST_KEYS = ['equals', 'in', 'above', 'below'] as const;
export type TestKey = (typeof TEST_KEYS)[number];

export interface ValueTest {
  equals?: boolean | number | string;
  in?: Array<number | string>;
  above?: number;
  below?: number;
  clearBelow?: number;
  clearAbove?: number;
}

/** The test key a (checked) test uses. */
export function testKey(t: ValueTest): TestKey {
  return TEST_KEYS.find((k) => t[k] !== undefined) ?? 'equals';
}

/** Checks the schema cannot express; paths relative to the block holding the test. */
export function testProblems(t: ValueTest, allowed: readonly TestKey[] = TEST_KEYS): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const present = TEST_KEYS.filter((k) => t[k] !== undefined);
  const names = allowed.map((k) => `"${k}"`).join(', ');
  if (present.length === 0) return [{ path: '', message: `needs one test: ${names}` }];
  for (const k of present) {
    if (!allowed.includes(k)) out.push({ path: `/${k}`, message: `"${k}" is not a test here; use one of ${names}` });
  }
  for (const extra of present.slice(1)) out.push({ path: `/${extra}`, message: `one test only; "${present[0]}" is already given` });
  if (out.length > 0) return out;
  const { above, below, clearBelow, clearAbove } = t;
  if (clearBelow !== undefined && above === undefined) out.push({ path: '/clearBelow', message: '"clearBelow" goes with "above"' });
  if (clearAbove !== undefined && below === undefined) out.push({ path: '/clearAbove', message: '"clearAbove" goes with "below"' });
  if (above !== undefined && clearBelow !== undefined && clearBelow > above) {
    out.push({ path: '/clearBelow', message: `clearBelow (${clearBelow}) must not be above the raise line above (${above})` });
  }
  if (below !== undefined && clearAbove !== undefined && clearAbove < below) {
    out.push({ path: '/clearAbove', message: `clearAbove (${clearAbove}) must not be below the raise line below (${below})` });
  }
  if (t.in && new Set(t.in).size !== t.in.length) out.push({ path: '/in', message: 'lists a value twice' });
  return out;
}

/**
 * What a value says under the test; undefined when the test cannot judge it (a number test on a
 * string). equals/in never say `between`; above/below do between their raise and clear lines.
 */
export function testVerdict(t: ValueTest, v: ReadingValue): Verdict | undefined {
  if (v === null) return undefined;
  if (t.above !== undefined || t.below !== undefined) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    if (t.above !== undefined) return v > t.above ? 'raise' : v < (t.clearBelow ?? t.above) ? 'clear' : 'between';
    const below = t.below as number;
    return v < below ? 'raise' : v > (t.clearAbove ?? below) ? 'clear' : 'between';
  }
  if (t.in !== undefined) return (t.in as ReadingValue[]).includes(v) ? 'raise' : 'clear';
  return v === t.equals ? 'raise' : 'clear';
}

/** "= true", "in forced_open, held_open", "> 57", "< 10": for default messages (no braces, so never a placeholder). */
export function describeTest(t: ValueTest): string {
  return describe(t).replace(/[{}]/g, '');
}

function describe(t: ValueTest): string {
  if (t.above !== undefined) return `> ${formatValue(t.above)}`;
  if (t.below !== undefined) return `< ${formatValue(t.below)}`;
  if (t.in !== undefined) return `in ${t.in.map((v) => formatValue(v)).join(', ')}`;
  return `= ${formatValue(t.equals)}`;
}

/**
 * An override of a test may change its value, not its kind: `above` stays `above`. Returns the
 * problems, paths relative to the override.
 */
export function testOverrideProblems(spec: ValueTest, o: ValueTest): ErrorDetail[] {
  const own = testKey(spec);
  const companions: Record<TestKey, string[]> = { above: ['above', 'clearBelow'], below: ['below', 'clearAbove'], equals: ['equals'], in: ['in'] };
  const out: ErrorDetail[] = [];
  for (const k of [...TEST_KEYS, 'clearBelow', 'clearAbove'] as const) {
    if (o[k] !== undefined && !companions[own].includes(k)) {
      out.push({ path: `/${k}`, message: `this rule tests "${own}"; override ${companions[own].map((c) => `"${c}"`).join(' and ')}, not "${k}"` });
    }
  }
  return out;
}

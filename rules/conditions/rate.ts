// The `rate:` condition: the change of a value within a sliding window — water rising 0.3 m within
// 10 minutes (`rise: 0.3, within: 10m`), or falling (`fall:`). The change is measured from the lowest
// (for a rise) or highest (for a fall) good value in the window to the value now, so it does not
// depend on the poll interval. Clears when the change over the window is back under `clearRise`
// (`clearFall`), default the raise amount.
//
// State keeps only the samples the window can still need: a monotonic queue (for a rise, each kept
// sample is higher than the one before it; a newer lower value makes older higher ones useless), and
// at most one sample per 1/64 of the window, so a steadily rising counter does not keep every poll.
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import { formatValue, tidy } from '../message.js';
import { durationText, NO_HOLD, positive, type HoldParams, type PointKind } from './kind.js';

export const RateSpec = Type.Object(
  {
    /** Raise when the value has risen by at least this within the window. Exactly one of rise/fall. */
    rise: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** Raise when the value has fallen by at least this within the window. */
    fall: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /** The window, e.g. 10m. */
    within: Duration,
    /** With `rise`: clear when the rise within the window is less than this (default: `rise`). */
    clearRise: Type.Optional(Type.Number({ minimum: 0 })),
    /** With `fall`: clear when the fall within the window is less than this (default: `fall`). */
    clearFall: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type RateSpec = Type.Static<typeof RateSpec>;

export interface RateParams extends HoldParams {
  /** +1 for a rise, -1 for a fall. */
  sign: 1 | -1;
  amount: number;
  clearAmount: number;
  withinMs: number;
  /** Samples closer than this to the last kept one are not kept (1/64 of the window). */
  resolutionMs: number;
  /** "10m" as written, for messages. */
  window: string;
}

/** Kept samples, oldest first: [time, value]. */
type Sample = [number, number];

export function rateProblems(spec: RateSpec): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  if (spec.rise === undefined && spec.fall === undefined) return [{ path: '', message: 'needs exactly one of "rise" or "fall" (how much within the window)' }];
  if (spec.rise !== undefined && spec.fall !== undefined) return [{ path: '/fall', message: '"rise" and "fall" are both given; write two rules' }];
  positive(out, 'within', durationMs(spec.within));
  if (spec.rise !== undefined) {
    if (spec.clearFall !== undefined) out.push({ path: '/clearFall', message: '"clearFall" goes with "fall"; with "rise" the clear amount is "clearRise"' });
    if (spec.clearRise !== undefined && spec.clearRise > spec.rise) out.push({ path: '/clearRise', message: `clearRise (${spec.clearRise}) must not be more than rise (${spec.rise})` });
  } else if (spec.fall !== undefined) {
    if (spec.clearRise !== undefined) out.push({ path: '/clearRise', message: '"clearRise" goes with "rise"; with "fall" the clear amount is "clearFall"' });
    if (spec.clearFall !== undefined && spec.clearFall > spec.fall) out.push({ path: '/clearFall', message: `clearFall (${spec.clearFall}) must not be more than fall (${spec.fall})` });
  }
  return out;
}

function readSamples(raw: unknown): Sample[] | undefined {
  if (!Array.isArray(raw) || raw.length > 1000) return undefined;
  let last = -Infinity;
  for (const s of raw) {
    if (!Array.isArray(s) || s.length !== 2 || !s.every((x) => typeof x === 'number' && Number.isFinite(x)) || s[0] < last) return undefined;
    last = s[0];
  }
  return raw as Sample[];
}

const r = RateSpec.properties;

export const RATE: PointKind<RateSpec, RateParams> = {
  name: 'rate',
  placeholders: ['value', 'unit', 'threshold', 'change', 'window'],
  overrideProps: { rise: r.rise, fall: r.fall, within: Type.Optional(r.within), clearRise: r.clearRise, clearFall: r.clearFall },
  problems: rateProblems,
  overrideProblems(spec, o) {
    const own = spec.rise !== undefined ? ['rise', 'clearRise'] : ['fall', 'clearFall'];
    const wrong = (['rise', 'fall', 'clearRise', 'clearFall'] as const).filter((k) => o[k] !== undefined && !own.includes(k));
    if (wrong.length > 0) return wrong.map((k) => ({ path: `/${k}`, message: `this rule watches a ${own[0]}; override "${own[0]}" and "${own[1]}", not "${k}"` }));
    return rateProblems({ ...spec, ...o }).map((d) => (Object.hasOwn(o, d.path.slice(1)) ? d : { path: `/${own[0]}`, message: `${d.message}; the rule's ${d.path.slice(1)} applies unless this device overrides it too` }));
  },
  params(spec) {
    const withinMs = durationMs(spec.within);
    const sign = spec.rise !== undefined ? 1 : -1;
    const amount = (spec.rise ?? spec.fall) as number;
    const clearAmount = (sign === 1 ? spec.clearRise : spec.clearFall) ?? amount;
    return { ...NO_HOLD, sign, amount, clearAmount, withinMs, resolutionMs: Math.floor(withinMs / 64), window: durationText(spec.within) };
  },
  read(raw) {
    const w = readSamples(raw.w);
    return w ? { w } : {};
  },
  onReading(s, reading, point, p, now) {
    const v = reading.value;
    if (reading.point !== point || reading.quality !== 'good' || typeof v !== 'number' || !Number.isFinite(v)) return { state: s };
    // Samples from the future (a clock stepped back) or out of the window are no use.
    const kept = ((s.w as Sample[] | undefined) ?? []).filter(([ts]) => ts <= now && now - ts <= p.withinMs);
    // Monotonic queue: a sample at least as extreme as v (for a rise: at least as high) can never be
    // the window's low point again, since v is newer.
    while (kept.length > 0 && p.sign * kept[kept.length - 1]![1] >= p.sign * v) kept.pop();
    const back = kept[kept.length - 1];
    if (!back || now - back[0] >= p.resolutionMs) kept.push([now, v]);
    const base = kept[0]![1];
    const change = tidy(p.sign * (v - base));
    const verdict = change >= p.amount ? 'raise' : change < p.clearAmount ? 'clear' : 'between';
    return {
      state: sameSamples(s.w, kept) ? s : { w: kept },
      judgement: {
        verdict, value: change, raiseLine: p.amount, clearLine: p.clearAmount,
        ...(reading.unit !== undefined ? { unit: reading.unit } : {}),
        vars: { value: formatValue(v), change: formatValue(change), window: p.window },
      },
    };
  },
  messages: (p, lead) => ({
    raise: `${lead}{point} ${p.sign === 1 ? 'rose' : 'fell'} {change} {unit} within {window} (now {value} {unit}; alarm at {threshold} {unit})`,
    clear: `${lead}cleared, {point} ${p.sign === 1 ? 'rise' : 'fall'} within {window} down to {change} {unit} (now {value} {unit})`,
  }),
};

function sameSamples(before: unknown, after: Sample[]): boolean {
  if (!Array.isArray(before) || before.length !== after.length) return false;
  return after.every((s, i) => {
    const b = (before as unknown[])[i];
    return Array.isArray(b) && b[0] === s[0] && b[1] === s[1];
  });
}

// The `stale:` condition: no good reading of the point for `after` → raise; the next good reading →
// clear. Nothing arrives when a point goes quiet, so the raise is made by time alone: the engine's
// tick (or the next reading of the device, whichever comes first) raises it, stamped with the moment
// it became due (last good reading + after), so live and backtest give the same alarm.
//
// Watching starts at the point's first good reading, or — for a point that has never given one —
// at the first reading of the device (any point, any quality) or the first tick, whichever is first.
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import { isTime } from '../lifecycle.js';
import { durationText, NO_HOLD, positive, type HoldParams, type PointKind } from './kind.js';

export const StaleSpec = Type.Object(
  {
    /** How long without a good reading before the point counts as stale, e.g. 30m. */
    after: Duration,
  },
  { additionalProperties: false },
);
export type StaleSpec = Type.Static<typeof StaleSpec>;

export interface StaleParams extends HoldParams {
  afterMs: number;
  window: string;
}

function staleProblems(spec: StaleSpec): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  positive(out, 'after', durationMs(spec.after));
  return out;
}

export const STALE: PointKind<StaleSpec, StaleParams> = {
  name: 'stale',
  placeholders: ['value', 'unit', 'window'],
  overrideProps: { after: Type.Optional(StaleSpec.properties.after) },
  problems: staleProblems,
  overrideProblems: (spec, o) => staleProblems({ ...spec, ...o }),
  params: (spec) => ({ ...NO_HOLD, afterMs: durationMs(spec.after), window: durationText(spec.after) }),
  // `from`: the last good reading of the point, or when watching began.
  read: (raw) => (isTime(raw.from) ? { from: raw.from } : {}),
  onReading(s, r, point, p, now) {
    const good = r.point === point && r.quality === 'good' && r.value !== null;
    if (!good) return { state: s.from === undefined ? { from: now } : s };
    return {
      state: s.from === now ? s : { from: now },
      judgement: { verdict: 'clear', value: r.value, ...(r.unit !== undefined ? { unit: r.unit } : {}), vars: { window: p.window } },
    };
  },
  onTick: (s, now) => (s.from === undefined ? { from: now } : s),
  raiseFrom: (s, p) => (isTime(s.from) ? s.from + p.afterMs : undefined),
  timeJudgement: (_s, p) => ({ value: null, vars: { window: p.window, value: '' } }),
  messages: (_p, lead) => ({
    raise: `${lead}no good reading of {point} for {window}`,
    clear: `${lead}{point} reporting again ({value} {unit})`,
  }),
};

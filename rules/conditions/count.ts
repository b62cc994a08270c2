// The `count:` condition: at least `atLeast` readings passing a test within a sliding window — five
// access denials in two minutes (`equals: false, atLeast: 5, within: 2m` on card_granted). It counts
// readings, so it suits event points (a card swipe, a door event), where each message is one reading.
// Clears after `quiet` (default: the window) without a further hit; that clear is made by time alone
// (see the engine's tick), stamped last hit + quiet.
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import { formatValue } from '../message.js';
import { durationText, NO_HOLD, positive, type HoldParams, type PointKind } from './kind.js';
import { describeTest, TEST_PROPS, testOverrideProblems, testProblems, testVerdict, type ValueTest } from './value-test.js';

export const CountSpec = Type.Object(
  {
    ...TEST_PROPS,
    /** How many hits within the window raise. */
    atLeast: Type.Integer({ minimum: 1, maximum: 1000 }),
    /** The sliding window, e.g. 2m. */
    within: Duration,
    /** Clear after this long without a hit (default: `within`). */
    quiet: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type CountSpec = Type.Static<typeof CountSpec>;

export interface CountParams extends HoldParams {
  test: ValueTest;
  atLeast: number;
  withinMs: number;
  quietMs: number;
  window: string;
  quiet: string;
}

function countProblems(spec: CountSpec): ErrorDetail[] {
  const out = testProblems(spec);
  positive(out, 'within', durationMs(spec.within));
  if (spec.quiet !== undefined) positive(out, 'quiet', durationMs(spec.quiet));
  return out;
}

function hitsOf(raw: unknown): number[] | undefined {
  if (!Array.isArray(raw) || raw.length > 1000 || !raw.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  for (let i = 1; i < raw.length; i++) if ((raw[i] as number) < (raw[i - 1] as number)) return undefined;
  return raw as number[];
}

const c = CountSpec.properties;

export const COUNT: PointKind<CountSpec, CountParams> = {
  name: 'count',
  placeholders: ['value', 'count', 'threshold', 'window'],
  overrideProps: { equals: c.equals, in: c.in, above: c.above, below: c.below, atLeast: Type.Optional(c.atLeast), within: Type.Optional(c.within), quiet: c.quiet },
  problems: countProblems,
  overrideProblems: (spec, o) => {
    const wrong = testOverrideProblems(spec, o);
    return wrong.length > 0 ? wrong : countProblems({ ...spec, ...o });
  },
  params(spec) {
    const { equals, in: list, above, below } = spec;
    const test: ValueTest = list !== undefined ? { in: list } : above !== undefined ? { above } : below !== undefined ? { below } : { equals: equals as boolean | number | string };
    const withinMs = durationMs(spec.within);
    const quiet = spec.quiet ?? spec.within;
    return { ...NO_HOLD, test, atLeast: spec.atLeast, withinMs, quietMs: durationMs(quiet), window: durationText(spec.within), quiet: durationText(quiet) };
  },
  // `hits`: times of the latest hits (at most atLeast of them), oldest first.
  read: (raw) => {
    const hits = hitsOf(raw.hits);
    return hits ? { hits } : {};
  },
  onReading(s, r, point, p, now) {
    if (r.point !== point || r.quality !== 'good' || testVerdict(p.test, r.value) !== 'raise') return { state: s };
    // Only hits inside the window count (one exactly `within` old still does, as for `rate:`), and no
    // more than atLeast are ever needed to decide.
    const hits = [...((s.hits as number[] | undefined) ?? []).filter((ts) => ts <= now && now - ts <= p.withinMs), now].slice(-p.atLeast);
    return {
      state: { hits },
      judgement: {
        verdict: hits.length >= p.atLeast ? 'raise' : 'between',
        value: hits.length,
        raiseLine: p.atLeast,
        vars: { value: formatValue(r.value), count: String(hits.length), window: p.window },
      },
    };
  },
  clearAt: (s, p) => {
    const hits = s.hits as number[] | undefined;
    return hits && hits.length > 0 ? hits[hits.length - 1]! + p.quietMs : undefined;
  },
  timeJudgement: (_s, p) => ({ value: 0, vars: { count: '0', window: p.quiet } }),
  onClear: () => ({}),
  messages: (p, lead) => ({
    raise: `${lead}{point} ${describeTest(p.test)} {count} times within {window}`,
    clear: `${lead}cleared, no {point} ${describeTest(p.test)} for ${p.quiet}`,
  }),
};

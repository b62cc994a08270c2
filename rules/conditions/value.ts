// The `value:` condition: raise while a point has a given value — a boolean flag (smoke_alarm: true),
// a state string (door_event in [forced_open]), a status code. Clears when the value is anything
// else. Hold and clearHold as for a threshold.
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ReadingValue } from '../../contracts/reading.js';
import type { HoldParams, PointKind } from './kind.js';
import { describeTest, TEST_PROPS, testOverrideProblems, testProblems, testVerdict, type ValueTest } from './value-test.js';

export const ValueSpec = Type.Object(
  {
    /** Raise while the value is exactly this: true, false, a number or a string. */
    equals: TEST_PROPS.equals,
    /** Raise while the value is one of these. */
    in: TEST_PROPS.in,
    /** How long the value must stay before the alarm is raised (default 0). */
    hold: Type.Optional(Duration),
    /** How long it must stay something else before the alarm clears (default 0). */
    clearHold: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type ValueSpec = Type.Static<typeof ValueSpec>;

export interface ValueParams extends HoldParams {
  test: ValueTest;
}

const v = ValueSpec.properties;

export const VALUE: PointKind<ValueSpec, ValueParams> = {
  name: 'value',
  placeholders: ['value', 'unit'],
  overrideProps: { equals: v.equals, in: v.in, hold: v.hold, clearHold: v.clearHold },
  problems: (spec) => testProblems(spec, ['equals', 'in']),
  overrideProblems: (spec, o) => testOverrideProblems(spec, o),
  params: (spec) => ({
    test: spec.in !== undefined ? { in: spec.in } : { equals: spec.equals as boolean | number | string },
    holdMs: spec.hold === undefined ? 0 : durationMs(spec.hold),
    clearHoldMs: spec.clearHold === undefined ? 0 : durationMs(spec.clearHold),
    holdCount: 1,
    clearHoldCount: 1,
  }),
  read: () => ({}),
  onReading(s, r, point, p) {
    if (r.point !== point || r.quality !== 'good') return { state: s };
    const verdict = testVerdict(p.test, r.value);
    if (verdict === undefined) return { state: s };
    return { state: s, judgement: { verdict, value: r.value, ...(r.unit !== undefined ? { unit: r.unit } : {}) } };
  },
  verdictOf: (value: ReadingValue, p) => testVerdict(p.test, value),
  messages: (p, lead) => ({
    raise: `${lead}{point} is {value} {unit}`,
    clear: `${lead}cleared, {point} is {value} {unit} (alarm while {point} ${describeTest(p.test)})`,
  }),
};

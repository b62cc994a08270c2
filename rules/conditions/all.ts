// The `all:` condition: a combination of tests on points of several devices of ONE site — smoke
// alarm AND temperature above 57 °C in the same building. The rule keeps the latest good value of
// each member point per device of the site, and judges the combination whenever one of them arrives.
// A member is met when any device of the site meets it (ten smoke detectors in a nursing home: one in
// alarm is enough). The alarm is raised on the device whose reading completed the combination, or
// with `raiseOn: <kind>` on the latest device of that kind that meets its member; it carries the site.
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import { DeviceProfile, ProfilePoint } from '../../contracts/profile.js';
import { KindMatch, listOf, matches, matchProblems, ProfileMatch } from '../match.js';
import type { RuleDevice } from '../types.js';
import { positive } from './kind.js';
import { describeTest, HYSTERESIS_PROPS, TEST_PROPS, testOverrideProblems, testProblems, type ValueTest } from './value-test.js';

export const AllMember = Type.Object(
  {
    /** Devices of this kind (or any of these kinds) at the site… */
    kind: Type.Optional(KindMatch),
    /** …and/or of this profile. */
    profile: Type.Optional(ProfileMatch),
    /** The point tested. */
    point: ProfilePoint.properties.name,
    ...TEST_PROPS,
    ...HYSTERESIS_PROPS,
  },
  { additionalProperties: false },
);
export type AllMember = Type.Static<typeof AllMember>;

export const AllSpec = Type.Object(
  {
    /** The members: every one must be met at once. */
    of: Type.Array(AllMember, { minItems: 2, maxItems: 16 }),
    /** A member value older than this no longer counts (default: the latest value counts however old). */
    within: Type.Optional(Duration),
    /** Raise on the device of this kind that meets its member (default: the device whose reading completed the combination). */
    raiseOn: Type.Optional(DeviceProfile.properties.kind),
  },
  { additionalProperties: false },
);
export type AllSpec = Type.Static<typeof AllSpec>;

/** Per device: `points: { <point>: { above: 70 } }` changes the test of that device's member on that point. */
export const AllOverride = Type.Object(
  {
    points: Type.Optional(Type.Record(Type.String(), Type.Object({ ...TEST_PROPS, ...HYSTERESIS_PROPS }, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);
export type AllOverride = Type.Static<typeof AllOverride>;

export function memberMatches(m: AllMember, device: Pick<RuleDevice, 'id' | 'kind' | 'profile'>): boolean {
  return matches({ ...(m.kind !== undefined ? { kind: m.kind } : {}), ...(m.profile !== undefined ? { profile: m.profile } : {}) }, device);
}

export function memberTest(m: AllMember): ValueTest {
  const { equals, in: list, above, below, clearBelow, clearAbove } = m;
  return Object.fromEntries(Object.entries({ equals, in: list, above, below, clearBelow, clearAbove }).filter(([, v]) => v !== undefined)) as ValueTest;
}

export function allProblems(spec: AllSpec): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  spec.of.forEach((m, i) => {
    const at = `/of/${i}`;
    if (m.kind === undefined && m.profile === undefined) out.push({ path: at, message: 'needs "kind" or "profile": which devices of the site it takes' });
    else out.push(...matchProblems({ ...(m.kind !== undefined ? { kind: m.kind } : {}), ...(m.profile !== undefined ? { profile: m.profile } : {}) }).map((d) => ({ ...d, path: `${at}${d.path}` })));
    out.push(...testProblems(m).map((d) => ({ ...d, path: `${at}${d.path}` })));
  });
  if (spec.within !== undefined) positive(out, 'within', durationMs(spec.within));
  if (spec.raiseOn !== undefined && !spec.of.some((m) => listOf(m.kind)?.includes(spec.raiseOn!))) {
    const kinds = [...new Set(spec.of.flatMap((m) => listOf(m.kind) ?? []))];
    out.push({ path: '/raiseOn', message: `no member takes devices of kind "${spec.raiseOn}" (members' kinds: ${kinds.join(', ') || 'none'})` });
  }
  return out;
}

/** Problems of a device's override (shape already checked); paths relative to the override. */
export function allOverrideProblems(spec: AllSpec, device: Pick<RuleDevice, 'id' | 'kind' | 'profile'>, o: AllOverride): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const [point, test] of Object.entries(o.points ?? {})) {
    const at = `/points/${point.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const members = spec.of.filter((m) => m.point === point && memberMatches(m, device));
    if (members.length === 0) {
      const mine = [...new Set(spec.of.filter((m) => memberMatches(m, device)).map((m) => m.point))];
      out.push({ path: at, message: `no member of this rule tests point "${point}" of a ${device.kind} device (its members here: ${mine.join(', ') || 'none'})` });
      continue;
    }
    for (const m of members) {
      const wrong = testOverrideProblems(memberTest(m), test);
      const merged = wrong.length > 0 ? [] : testProblems({ ...memberTest(m), ...test });
      out.push(...[...wrong, ...merged].map((d) => ({ ...d, path: `${at}${d.path}` })));
    }
  }
  return out;
}

/** "smoke_detector smoke_alarm = true and smoke_detector, temperature_humidity temperature > 57". */
export function describeMembers(spec: AllSpec): string {
  return spec.of
    .map((m) => `${(listOf(m.kind) ?? listOf(m.profile) ?? []).join(', ')} ${m.point} ${describeTest(memberTest(m))}`.replace(/[{}]/g, ''))
    .join(' and ');
}

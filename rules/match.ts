// Which devices a rule (or a member of an `all:` rule) watches: by profile kind, profile id and/or
// device id. Kept apart from schema.ts so condition kinds can use it without an import cycle.
import Type, { type TSchema } from 'typebox';
import { DeviceProfile } from '../contracts/profile.js';
import type { RuleDevice } from './types.js';

const oneOrMore = <T extends TSchema>(s: T) => Type.Union([s, Type.Array(s, { minItems: 1, maxItems: 32 })]);

/** A profile kind (water_level) or a list of them ([smoke_detector, temperature_humidity]). */
export const KindMatch = oneOrMore(DeviceProfile.properties.kind);
/** A profile id (generic/radar-water-level-gauge) or a list of them. */
export const ProfileMatch = oneOrMore(DeviceProfile.properties.id);

/** Which devices a rule watches. Every key given must match; at least one must be given. */
export const RuleMatch = Type.Object(
  {
    /** The profile's kind, e.g. water_level, or a list of kinds (any of them matches). */
    kind: Type.Optional(KindMatch),
    /** A profile id, e.g. generic/radar-water-level-gauge, or a list of them. */
    profile: Type.Optional(ProfileMatch),
    /** Device ids, for a rule that only some devices get. */
    devices: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type RuleMatch = Type.Static<typeof RuleMatch>;

export function listOf(x: string | string[] | undefined): string[] | undefined {
  return x === undefined ? undefined : Array.isArray(x) ? x : [x];
}

export function matches(m: RuleMatch, device: Pick<RuleDevice, 'id' | 'kind' | 'profile'>): boolean {
  const kinds = listOf(m.kind);
  const profiles = listOf(m.profile);
  return (
    (kinds === undefined || kinds.includes(device.kind)) &&
    (profiles === undefined || profiles.includes(device.profile)) &&
    (m.devices === undefined || m.devices.includes(device.id))
  );
}

/** Problems of a match block: empty, or a value listed twice. Paths relative to the block. */
export function matchProblems(m: RuleMatch, what = 'a rule for every device is almost always a mistake'): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  if (m.kind === undefined && m.profile === undefined && m.devices === undefined) {
    out.push({ path: '', message: `needs at least one of "kind", "profile" or "devices" (${what})` });
  }
  for (const key of ['kind', 'profile', 'devices'] as const) {
    const list = m[key];
    if (!Array.isArray(list)) continue;
    list.forEach((d, j) => {
      if (list.indexOf(d) !== j) out.push({ path: `/${key}/${j}`, message: `${key === 'devices' ? 'device' : key} "${d}" is listed twice` });
    });
  }
  return out;
}

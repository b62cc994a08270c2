// The rule file format (rules/library/*.yaml). A rule is the common part (id, alarm, severity, match,
// point, messages) plus exactly one condition, under a key naming its kind: `threshold:` today;
// `rate:`, `stale:`, `count:`… slot in beside it as further optional keys in CONDITIONS.
import Type from 'typebox';
import { Severity } from '../contracts/alarm.js';
import { DeviceProfile, ProfilePoint } from '../contracts/profile.js';
import { ThresholdSpec } from './conditions/threshold.js';

/** Every condition kind, by the key that introduces it in a rule. A rule has exactly one. */
export const CONDITIONS = {
  threshold: ThresholdSpec,
} as const;
export type ConditionKey = keyof typeof CONDITIONS;
export const CONDITION_KEYS = Object.keys(CONDITIONS) as ConditionKey[];

export const RULE_ID_PATTERN = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';

/** Which devices a rule watches. Every key given must match; at least one must be given. */
export const RuleMatch = Type.Object(
  {
    /** The profile's kind, e.g. water_level. */
    kind: Type.Optional(DeviceProfile.properties.kind),
    /** A profile id, e.g. generic/radar-water-level-gauge. */
    profile: Type.Optional(DeviceProfile.properties.id),
    /** Device ids, for a rule that only some devices get. */
    devices: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type RuleMatch = Type.Static<typeof RuleMatch>;

const Template = Type.String({ minLength: 1, maxLength: 512 });

export const RuleSpec = Type.Object(
  {
    /** kebab-case, unique in the file (and among every file an edge loads). */
    id: Type.String({ pattern: RULE_ID_PATTERN, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 512 })),
    /** The alarm type it raises, snake_case: part of the cloud's dedup key (device + type). */
    alarm: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 64 }),
    severity: Severity,
    match: RuleMatch,
    /** The profile point it watches. */
    point: ProfilePoint.properties.name,
    /** Raise message; placeholders {value} {unit} {threshold} {device} {point}. */
    message: Type.Optional(Template),
    /** Clear message, same placeholders ({threshold} is then the clear line). */
    clearMessage: Type.Optional(Template),
    threshold: Type.Optional(CONDITIONS.threshold),
  },
  { additionalProperties: false },
);
export type RuleSpec = Type.Static<typeof RuleSpec>;

export const RuleFile = Type.Object(
  {
    rules: Type.Array(RuleSpec, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type RuleFile = Type.Static<typeof RuleFile>;

/**
 * Rule-level fields a device may override; each condition adds its own (see conditions/*.ts).
 * Identity fields (id, alarm, match, point) are not here: changing them makes a different rule.
 */
export const RULE_OVERRIDE_SCHEMA = {
  severity: Type.Optional(Severity),
} as const;

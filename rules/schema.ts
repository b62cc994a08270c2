// The rule file format (rules/library/*.yaml). A rule is the common part (id, alarm, severity, match,
// point, messages, during, escalate) plus exactly one condition, under a key naming its kind.
import Type from 'typebox';
import { Duration } from '../contracts/duration.js';
import { Severity } from '../contracts/alarm.js';
import { ProfilePoint } from '../contracts/profile.js';
import { AllSpec } from './conditions/all.js';
import { CountSpec } from './conditions/count.js';
import { RateSpec } from './conditions/rate.js';
import { DuringSpec } from './conditions/schedule.js';
import { StaleSpec } from './conditions/stale.js';
import { ThresholdSpec } from './conditions/threshold.js';
import { ValueSpec } from './conditions/value.js';
import { RuleMatch } from './match.js';
import { RuleActionSpec } from './actions.js';

export { RuleMatch };

/** Every condition kind, by the key that introduces it in a rule. A rule has exactly one. */
export const CONDITIONS = {
  threshold: ThresholdSpec,
  value: ValueSpec,
  rate: RateSpec,
  stale: StaleSpec,
  count: CountSpec,
  all: AllSpec,
} as const;
export type ConditionKey = keyof typeof CONDITIONS;
export const CONDITION_KEYS = Object.keys(CONDITIONS) as ConditionKey[];

export const RULE_ID_PATTERN = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';

const Template = Type.String({ minLength: 1, maxLength: 512 });

/** `escalate:` — an alarm still active after `after` is updated (action update, next seq) to severity `to`. */
export const EscalateSpec = Type.Object(
  {
    after: Duration,
    /** More urgent than the rule's severity. */
    to: Severity,
    /** Message of the update; placeholders {device} {point} {site} {severity} {window} (= after). */
    message: Type.Optional(Template),
  },
  { additionalProperties: false },
);
export type EscalateSpec = Type.Static<typeof EscalateSpec>;

export const RuleSpec = Type.Object(
  {
    /** kebab-case, unique in the file (and among every file an edge loads). */
    id: Type.String({ pattern: RULE_ID_PATTERN, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 512 })),
    /** The alarm type it raises, snake_case: part of the cloud's dedup key (device + type). */
    alarm: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 64 }),
    severity: Severity,
    /** Which devices (every condition but `all`, whose members say it themselves). */
    match: Type.Optional(RuleMatch),
    /** The profile point it watches (every condition but `all`). */
    point: Type.Optional(ProfilePoint.properties.name),
    /** Raise message; placeholders {value} {unit} {threshold} {device} {point} {site} {severity}, and the condition's own. */
    message: Type.Optional(Template),
    /** Clear message, same placeholders ({threshold} is then the clear line). */
    clearMessage: Type.Optional(Template),
    /** Raise only inside this window of local time (22:00–06:00). */
    during: Type.Optional(DuringSpec),
    /** Raise the severity of an alarm that persists. */
    escalate: Type.Optional(EscalateSpec),
    threshold: Type.Optional(CONDITIONS.threshold),
    value: Type.Optional(CONDITIONS.value),
    rate: Type.Optional(CONDITIONS.rate),
    stale: Type.Optional(CONDITIONS.stale),
    count: Type.Optional(CONDITIONS.count),
    all: Type.Optional(CONDITIONS.all),
    /** What the edge does on a raise or a clear: write a point (a siren), take camera snapshots (rules/actions.ts). */
    actions: Type.Optional(Type.Array(RuleActionSpec, { minItems: 1, maxItems: 16 })),
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
 * Rule-level fields a device may override, for every condition but `all`; each condition adds its
 * own (see conditions/*.ts). Identity fields (id, alarm, match, point) are not here: changing them
 * makes a different rule.
 */
export const RULE_OVERRIDE_SCHEMA = {
  severity: Type.Optional(Severity),
  escalate: Type.Optional(EscalateSpec),
  during: Type.Optional(DuringSpec),
} as const;

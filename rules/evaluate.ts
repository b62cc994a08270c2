// The pure evaluator: a compiled rule turns (state, reading, device, now) into (state, alarms), and
// (state, device, now) into what time alone causes (tick). No I/O, no clock, no timers, so the edge
// runs it live and `rules backtest` runs it over stored history with identical results.
import { COUNT } from './conditions/count.js';
import type { HoldParams, PointKind } from './conditions/kind.js';
import { RATE } from './conditions/rate.js';
import { STALE } from './conditions/stale.js';
import { THRESHOLD } from './conditions/threshold.js';
import { VALUE } from './conditions/value.js';
import { matches as matchesBlock } from './match.js';
import { PointRule } from './point-rule.js';
import type { ConditionKey, RuleSpec } from './schema.js';
import { SiteRule } from './site-rule.js';
import type { CompiledRule, RuleDevice } from './types.js';

/** The kinds that watch one point of one device, by their key in a rule. `all` is the site kind. */
export const POINT_KINDS: Record<Exclude<ConditionKey, 'all'>, PointKind<never, HoldParams>> = {
  threshold: THRESHOLD as unknown as PointKind<never, HoldParams>,
  value: VALUE as unknown as PointKind<never, HoldParams>,
  rate: RATE as unknown as PointKind<never, HoldParams>,
  stale: STALE as unknown as PointKind<never, HoldParams>,
  count: COUNT as unknown as PointKind<never, HoldParams>,
};

/** The spec each compiled rule came from, for override validation (see overrides.ts). */
const specs = new WeakMap<CompiledRule, RuleSpec>();

export function ruleSpecOf(rule: CompiledRule): RuleSpec | undefined {
  return specs.get(rule);
}

/** The condition key a (checked) rule uses. */
export function conditionKeyOf(spec: RuleSpec): ConditionKey {
  if (spec.all) return 'all';
  const key = (Object.keys(POINT_KINDS) as Array<keyof typeof POINT_KINDS>).find((k) => spec[k] !== undefined);
  if (!key) throw new Error(`rule ${spec.id}: no condition (check.ts should have rejected it)`);
  return key;
}

/** `spec` must have passed the schema and check.ts; parseRuleFile guarantees that. */
export function compileRule(spec: RuleSpec, file: string): CompiledRule {
  const key = conditionKeyOf(spec);
  const rule = key === 'all' ? new SiteRule(spec, spec.all!, file) : new PointRule(spec, POINT_KINDS[key], spec[key] as never, file);
  specs.set(rule, spec);
  return rule;
}

/** Does the rule's `match:` take this device? (False for an `all:` rule, whose members match instead.) */
export function matches(spec: RuleSpec, device: RuleDevice): boolean {
  return spec.match !== undefined && matchesBlock(spec.match, device);
}

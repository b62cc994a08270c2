// Per-device overrides (edge.yaml: devices[].overrides.<rule id>) are checked once, when the edge
// loads its config, so the evaluator can take them as valid and stay a pure function.
import Type, { type TSchema } from 'typebox';
import { durationMs } from '../contracts/duration.js';
import { GsError, type ErrorDetail } from '../contracts/errors.js';
import { schemaErrors } from '../contracts/validate.js';
import { AllOverride, allOverrideProblems } from './conditions/all.js';
import { conditionKeyOf, POINT_KINDS, ruleSpecOf } from './evaluate.js';
import { urgency } from './lifecycle.js';
import { RULE_OVERRIDE_SCHEMA, type EscalateSpec, type RuleSpec } from './schema.js';
import { scheduleProblems } from './conditions/schedule.js';
import { readableSchemaErrors } from './schema-errors.js';
import type { CompiledRule, RuleDevice, RuleSet } from './types.js';
import type { Severity } from '../contracts/alarm.js';

/** The schema of an override per condition kind: the common fields plus the kind's own. */
const OVERRIDE_SCHEMAS = new Map<string, TSchema>(
  Object.entries(POINT_KINDS).map(([key, kind]) => [key, Type.Object({ ...RULE_OVERRIDE_SCHEMA, ...kind.overrideProps }, { additionalProperties: false })]),
);

/** Where the device sits in its config file, so errors point at the right lines. */
export interface OverrideLocation {
  file?: string;
  /** JSON pointer of the device, e.g. /devices/0. */
  path?: string;
}

/**
 * Throws GS_ERR_RULE_INVALID naming the device, the rule and the field when an override is unknown,
 * malformed, switches a rule's direction or puts the clear line on the wrong side. Pass every rule set
 * the device runs: an override for a rule id none of them has is reported (usually a typo).
 */
export function validateOverrides(ruleSets: RuleSet | RuleSet[], device: RuleDevice, at: OverrideLocation = {}): void {
  const sets = Array.isArray(ruleSets) ? ruleSets : [ruleSets];
  const byId = new Map<string, CompiledRule>();
  for (const set of sets) for (const rule of set.rules) byId.set(rule.id, rule);
  const details: ErrorDetail[] = [];
  for (const [ruleId, override] of Object.entries(device.overrides ?? {})) {
    const base = `${at.path ?? ''}/overrides/${ruleId.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const add = (path: string, message: string) =>
      details.push({ ...(at.file ? { file: at.file } : {}), path: `${base}${path}`, message: `device "${device.id}", rule "${ruleId}": ${message}` });
    const rule = byId.get(ruleId);
    const spec = rule && ruleSpecOf(rule);
    if (!rule) add('', `no loaded rule has this id (loaded: ${[...byId.keys()].join(', ') || 'none'})`);
    else if (!spec) add('', 'this rule takes no overrides');
    else for (const d of overrideProblems(spec, override, device)) add(d.path, d.message);
  }
  if (details.length > 0) {
    throw new GsError('GS_ERR_RULE_INVALID', `device ${device.id}: ${details.length} invalid rule override(s)`, details);
  }
}

/** Problems of one override against the rule it overrides; paths relative to the override. */
export function overrideProblems(spec: RuleSpec, override: unknown, device?: Pick<RuleDevice, 'id' | 'kind' | 'profile'>): ErrorDetail[] {
  const key = conditionKeyOf(spec);
  if (key === 'all') {
    const shape = readableSchemaErrors(schemaErrors(AllOverride, override));
    if (shape.length > 0) return shape.map((d) => (d.message === 'is not a known field' ? { ...d, message: `${d.message}; an "all" rule takes "points: { <point>: { <test> } }" only` } : d));
    return device ? allOverrideProblems(spec.all!, device, override as AllOverride) : [];
  }
  const shape = readableSchemaErrors(schemaErrors(OVERRIDE_SCHEMAS.get(key)!, override));
  if (shape.length > 0) return shape;
  const o = override as Record<string, unknown>;
  const own = Object.fromEntries(Object.entries(o).filter(([k]) => !Object.hasOwn(RULE_OVERRIDE_SCHEMA, k)));
  const out = POINT_KINDS[key].overrideProblems(spec[key] as never, own as never);
  if (o.during !== undefined) out.push(...scheduleProblems(o.during as NonNullable<RuleSpec['during']>).map((d) => ({ ...d, path: `/during${d.path}` })));
  const severity = (o.severity as Severity | undefined) ?? spec.severity;
  const esc = (o.escalate as EscalateSpec | undefined) ?? spec.escalate;
  if (o.escalate !== undefined && !(durationMs((o.escalate as EscalateSpec).after) > 0)) out.push({ path: '/escalate/after', message: 'must be longer than 0' });
  if (esc && urgency(esc.to) >= urgency(severity)) {
    const path = o.escalate !== undefined ? '/escalate/to' : '/severity';
    out.push({ path, message: `escalation to "${esc.to}" must be more urgent than the severity "${severity}"` });
  }
  return out;
}

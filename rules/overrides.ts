// Per-device overrides (edge.yaml: devices[].overrides.<rule id>) are checked once, when the edge
// loads its config, so the evaluator can take them as valid and stay a pure function.
import Type from 'typebox';
import { GsError, type ErrorDetail } from '../contracts/errors.js';
import { schemaErrors } from '../contracts/validate.js';
import { ThresholdSpec, THRESHOLD_OVERRIDE_KEYS, mergeThreshold, thresholdProblems, type ThresholdOverride } from './conditions/threshold.js';
import { ruleSpecOf } from './evaluate.js';
import { RULE_OVERRIDE_SCHEMA, type RuleSpec } from './schema.js';
import { readableSchemaErrors } from './schema-errors.js';
import type { CompiledRule, RuleDevice, RuleSet } from './types.js';

const t = ThresholdSpec.properties;
const ThresholdOverrideSchema = Type.Object(
  {
    ...RULE_OVERRIDE_SCHEMA,
    above: t.above,
    below: t.below,
    clearBelow: t.clearBelow,
    clearAbove: t.clearAbove,
    hold: t.hold,
    clearHold: t.clearHold,
  } satisfies Record<(typeof THRESHOLD_OVERRIDE_KEYS)[number], unknown> & typeof RULE_OVERRIDE_SCHEMA,
  { additionalProperties: false },
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
    else for (const d of overrideProblems(spec, override)) add(d.path, d.message);
  }
  if (details.length > 0) {
    throw new GsError('GS_ERR_RULE_INVALID', `device ${device.id}: ${details.length} invalid rule override(s)`, details);
  }
}

/** Problems of one override against the rule it overrides; paths relative to the override. */
export function overrideProblems(spec: RuleSpec, override: unknown): ErrorDetail[] {
  if (!spec.threshold) return [{ path: '', message: 'this rule takes no overrides' }];
  const shape = readableSchemaErrors(schemaErrors(ThresholdOverrideSchema, override));
  if (shape.length > 0) return shape;
  const o = override as ThresholdOverride;
  const raisesAbove = spec.threshold.above !== undefined;
  const foreign = raisesAbove ? (['below', 'clearAbove'] as const) : (['above', 'clearBelow'] as const);
  const own = raisesAbove ? '"above" and "clearBelow"' : '"below" and "clearAbove"';
  const wrongWay = foreign.filter((k) => o[k] !== undefined);
  if (wrongWay.length > 0) {
    return wrongWay.map((k) => ({
      path: `/${k}`,
      message: `this rule raises ${raisesAbove ? 'above' : 'below'} a line; override ${own}, not "${k}"`,
    }));
  }
  // Check the rule as this device will run it: lowering `above` alone can leave clearBelow above it.
  // A problem in a field the device did not override is the override's doing: point at the raise line.
  const raiseKey = raisesAbove ? 'above' : 'below';
  return thresholdProblems(mergeThreshold(spec.threshold, o)).map((d) => {
    const key = d.path.slice(1);
    if (Object.hasOwn(o, key)) return d;
    return { path: `/${raiseKey}`, message: `${d.message}; the rule's ${key} applies unless this device overrides it too` };
  });
}

// Checks on rule files that JSON Schema cannot express. Paths are JSON pointers into the file
// (/rules/0/threshold/clearBelow).
import Value from 'typebox/value';
import type { ErrorDetail } from '../contracts/errors.js';
import { thresholdProblems } from './conditions/threshold.js';
import { unknownPlaceholders, PLACEHOLDERS } from './message.js';
import { CONDITION_KEYS, RuleSpec } from './schema.js';

/**
 * Runs on every rule that passes the schema, even when others do not, so a technician sees the
 * whole list at once instead of fixing a file one round at a time.
 */
export function ruleFileProblems(rules: unknown[]): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const firstAt = new Map<string, number>();
  rules.forEach((rule, i) => {
    const at = `/rules/${i}`;
    const id = (rule as { id?: unknown } | null)?.id;
    if (typeof id === 'string') {
      const prior = firstAt.get(id);
      if (prior === undefined) firstAt.set(id, i);
      else out.push({ path: `${at}/id`, message: `duplicate rule id "${id}" (first defined at /rules/${prior})` });
    }
    if (Value.Check(RuleSpec, rule)) out.push(...ruleProblems(rule).map((d) => ({ ...d, path: `${at}${d.path}` })));
  });
  return out;
}

/** Problems of one rule, paths relative to the rule. */
export function ruleProblems(rule: RuleSpec): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const present = CONDITION_KEYS.filter((k) => rule[k] !== undefined);
  if (present.length === 0) {
    out.push({ path: '', message: `needs one condition: ${CONDITION_KEYS.map((k) => `"${k}"`).join(' or ')}` });
  }
  for (const extra of present.slice(1)) {
    out.push({ path: `/${extra}`, message: `a rule has exactly one condition; "${present[0]}" is already given (write another rule)` });
  }
  if (rule.threshold) out.push(...thresholdProblems(rule.threshold).map((d) => ({ ...d, path: `/threshold${d.path}` })));

  const m = rule.match;
  if (m.kind === undefined && m.profile === undefined && m.devices === undefined) {
    out.push({ path: '/match', message: 'needs at least one of "kind", "profile" or "devices" (a rule for every device is almost always a mistake)' });
  }
  m.devices?.forEach((d, j) => {
    if (m.devices!.indexOf(d) !== j) out.push({ path: `/match/devices/${j}`, message: `device "${d}" is listed twice` });
  });

  for (const key of ['message', 'clearMessage'] as const) {
    const template = rule[key];
    if (template === undefined) continue;
    for (const name of unknownPlaceholders(template)) {
      out.push({ path: `/${key}`, message: `unknown placeholder {${name}}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}` });
    }
  }
  return out;
}

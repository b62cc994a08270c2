// Checks on rule files that JSON Schema cannot express. Paths are JSON pointers into the file
// (/rules/0/threshold/clearBelow).
import Value from 'typebox/value';
import { durationMs } from '../contracts/duration.js';
import type { ErrorDetail } from '../contracts/errors.js';
import { actionProblems } from './actions.js';
import { allProblems } from './conditions/all.js';
import { scheduleProblems } from './conditions/schedule.js';
import { POINT_KINDS } from './evaluate.js';
import { urgency } from './lifecycle.js';
import { matchProblems } from './match.js';
import { COMMON_PLACEHOLDERS, PLACEHOLDERS, unknownPlaceholders, type Placeholder } from './message.js';
import { CONDITION_KEYS, RuleSpec, type ConditionKey } from './schema.js';

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

/** Placeholders the messages of a rule with this condition may use, in the order errors list them. */
export function placeholdersFor(key: ConditionKey): Placeholder[] {
  const own: readonly Placeholder[] = key === 'all' ? ['value', 'unit'] : POINT_KINDS[key].placeholders;
  return PLACEHOLDERS.filter((p) => own.includes(p) || COMMON_PLACEHOLDERS.includes(p));
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
  const key = present[0];
  const under = (prefix: string, ds: ErrorDetail[]) => out.push(...ds.map((d) => ({ ...d, path: `${prefix}${d.path}` })));
  if (key === 'all') {
    under('/all', allProblems(rule.all!));
    for (const field of ['match', 'point'] as const) {
      if (rule[field] !== undefined) out.push({ path: `/${field}`, message: `an "all" rule names its devices and points in each member of all.of, not in "${field}"` });
    }
  } else if (key !== undefined) {
    under(`/${key}`, POINT_KINDS[key].problems(rule[key] as never));
    if (rule.match === undefined) out.push({ path: '', message: 'needs "match": which devices the rule watches (kind, profile and/or devices)' });
    if (rule.point === undefined) out.push({ path: '', message: 'needs "point": the profile point the rule watches' });
  }
  if (rule.match) under('/match', matchProblems(rule.match));
  if (rule.during) under('/during', scheduleProblems(rule.during));
  if (rule.actions) under('/actions', actionProblems(rule.actions));
  if (rule.escalate) {
    if (!(durationMs(rule.escalate.after) > 0)) out.push({ path: '/escalate/after', message: 'must be longer than 0' });
    if (urgency(rule.escalate.to) >= urgency(rule.severity)) {
      out.push({ path: '/escalate/to', message: `must be more urgent than the rule's severity "${rule.severity}" (critical > major > minor > warning)` });
    }
  }

  const known = key ? placeholdersFor(key) : [...PLACEHOLDERS];
  const templates: Array<[string, string | undefined, readonly string[]]> = [
    ['/message', rule.message, known],
    ['/clearMessage', rule.clearMessage, known],
    ['/escalate/message', rule.escalate?.message, [...COMMON_PLACEHOLDERS, 'window']],
  ];
  for (const [path, template, allowed] of templates) {
    if (template === undefined) continue;
    for (const name of unknownPlaceholders(template, allowed)) {
      const list = allowed.map((p) => `{${p}}`).join(' ');
      out.push({
        path,
        message: (PLACEHOLDERS as readonly string[]).includes(name)
          ? `placeholder {${name}} has no value in ${path === '/escalate/message' ? 'an escalation' : `a "${key}" rule`}; available: ${list}`
          : `unknown placeholder {${name}}; known: ${list}`,
      });
    }
  }
  return out;
}

// JSON Schema reports a failed union branch by branch ("must be equal to constant" four times, then
// "must match a schema in anyOf"); a technician needs the one sentence that says what is allowed.
import { SEVERITIES } from '../contracts/alarm.js';
import type { ErrorDetail } from '../contracts/errors.js';

const DURATION = 'must be a duration such as 500ms, 30s, 2m, 1h, 1d, or a number of seconds';

/**
 * What each union-typed (or pattern-checked) field of a rule file accepts, by field name. Keyed by name rather than by
 * spotting the "anyOf" error because TypeBox stops after 8 errors and may cut that one off.
 */
const UNION_HINTS: Record<string, string> = {
  severity: `must be one of ${SEVERITIES.join(', ')}`,
  to: `must be one of ${SEVERITIES.join(', ')}`,
  hold: DURATION,
  clearHold: DURATION,
  within: DURATION,
  after: DURATION,
  quiet: DURATION,
  kind: 'must be a profile kind (snake_case, e.g. smoke_detector) or a list of them',
  profile: 'must be a profile id (vendor/model, e.g. generic/radar-water-level-gauge) or a list of them',
  equals: 'must be true, false, a number or a string',
  days: 'must be a list of days: mon, tue, wed, thu, fri, sat, sun',
  between: 'must be a 24-hour local time "HH:MM" such as "22:00" (quote it in YAML)',
  and: 'must be a 24-hour local time "HH:MM" such as "06:00" (quote it in YAML)',
};

export function readableSchemaErrors(details: ErrorDetail[]): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const done = new Set<string>();
  for (const d of details) {
    // Inside `actions`, names such as `within` (metres there) mean something else than in a condition.
    const hint = d.path.includes('/actions/') ? undefined : UNION_HINTS[d.path.slice(d.path.lastIndexOf('/') + 1)];
    if (hint === undefined || d.message === 'is not a known field') out.push(d);
    else if (!done.has(d.path)) {
      done.add(d.path);
      out.push({ ...d, message: hint });
    }
  }
  return out;
}

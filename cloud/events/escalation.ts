// Supervision (督办) on its own: an event still `reported` past its priority's accept time, or still
// open past its deadline, is escalated by 'system' through the same state machine a person uses.
// `sweep(now)` is the whole job; the cloud runs it on a timer, tests call it with a manual clock.
import { sql, type Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import type { Database } from '../db/schema.js';
import { GsError } from '../../contracts/errors.js';
import { PRIORITIES, type EventPolicy } from './policy.js';
import { applyTransition } from './transitions.js';

export interface EscalationDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  policy: EventPolicy;
}

/** Statuses supervision can escalate from (the state machine's `escalate` sources), minus late acceptance. */
const WORKING = ['accepted', 'dispatched', 'handling', 'returned'] as const;

export async function escalationSweep(deps: EscalationDeps): Promise<string[]> {
  const now = deps.clock.now();
  const { db, policy } = deps;
  const due = new Map<string, string>();
  // Not accepted in time: opened_at + acceptMinutes[priority] < now, escalated at most once for it.
  for (const pr of PRIORITIES) {
    const rows = await db
      .selectFrom('events')
      .select(['id'])
      .where('status', '=', 'reported')
      .where('priority', '=', pr)
      .where('opened_at', '<', now - policy.acceptMinutes[pr] * 60_000)
      .execute();
    for (const r of rows) due.set(r.id, `not accepted within ${policy.acceptMinutes[pr]} min (priority ${pr})`);
  }
  // Overdue: past the deadline and not escalated since it passed.
  const late = await db
    .selectFrom('events')
    .select(['id'])
    .where('status', 'in', ['reported', ...WORKING])
    .where('deadline_at', '<', now)
    .where((eb) => eb.or([eb('escalated_at', 'is', null), eb('escalated_at', '<', sql<number>`deadline_at`)]))
    .execute();
  for (const r of late) due.set(r.id, 'overdue: past its deadline');

  const escalated: string[] = [];
  for (const [id, why] of due) {
    try {
      await applyTransition(deps, id, { action: 'escalate', actor: 'system', note: why });
      escalated.push(id);
    } catch (err) {
      // Someone moved it meanwhile (accepted it, closed it): that is the point of supervision.
      if (!(err instanceof GsError) || !['GS_ERR_EVENT_TRANSITION', 'GS_ERR_CONFLICT'].includes(err.code)) throw err;
    }
  }
  return escalated;
}

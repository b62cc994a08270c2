// Moves a stored event one step along the loop: loads it, asks the pure state machine, writes the
// new status with a compare-and-set on the old one (two dispatchers racing: one wins, the other gets
// 409), and records who/when/why/attachments in the timeline — all in one transaction.
import type { Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import type { Database } from '../db/schema.js';
import { transition, type Assignee, type TransitionRequest, type TransitionResult } from './lifecycle.js';
import type { EventStatus } from './status.js';
import { appendToFeed } from './feed.js';
import { resolveAssignee } from '../grids/assignee.js';
import type { EventPolicy } from './policy.js';

export interface TransitionDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  /** To write the event into the feed with the step (event.updated, or event.closed). */
  policy: EventPolicy;
}

export async function applyTransition(deps: TransitionDeps, eventId: string, req: TransitionRequest): Promise<TransitionResult> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('events').select(['status', 'assignee_kind', 'assignee_id', 'assignee_name', 'town_id', 'category']).where('id', '=', eventId).executeTakeFirst();
    if (!row) throw new GsError('GS_ERR_EVENT_NOT_FOUND', `grid event "${eventId}" not found`);
    const assignee: Assignee | null = row.assignee_kind && row.assignee_id ? { kind: row.assignee_kind, id: row.assignee_id } : null;
    const result = transition({ status: row.status as EventStatus, assignee }, req, now);
    // Dispatch names a real, serving worker or department of this town and category; its name is kept.
    const dispatchedTo = req.action === 'dispatch' ? await resolveAssignee(trx, result.assignee!, { townId: row.town_id, category: row.category }) : null;
    const assigneeName = dispatchedTo ? dispatchedTo.name : result.assignee ? row.assignee_name : null;
    const s = result.stamps;
    const updated = await trx
      .updateTable('events')
      .set((eb) => ({
        status: result.to,
        updated_at: now,
        assignee_kind: result.assignee?.kind ?? null,
        assignee_id: result.assignee?.id ?? null,
        assignee_name: assigneeName,
        ...(s.acceptedAt !== undefined ? { accepted_at: s.acceptedAt } : {}),
        ...(s.dispatchedAt !== undefined ? { dispatched_at: s.dispatchedAt } : {}),
        ...(s.resolvedAt !== undefined ? { resolved_at: s.resolvedAt } : {}),
        ...(s.closedAt !== undefined ? { closed_at: s.closedAt, open_dedup_key: null } : {}),
        ...(s.escalatedAt !== undefined ? { escalated_at: s.escalatedAt, escalations: eb('escalations', '+', 1) } : {}),
      }))
      .where('id', '=', eventId)
      .where('status', '=', row.status)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      throw new GsError('GS_ERR_CONFLICT', `grid event "${eventId}" changed while this request was being handled; read it again and retry`);
    }
    await trx
      .insertInto('event_timeline')
      .values({
        id: deps.newId(),
        event_id: eventId,
        at: now,
        kind: req.action,
        actor: req.actor,
        note: req.note ?? null,
        data: JSON.stringify({ from: result.from, to: result.to, ...(dispatchedTo ? { assignee: dispatchedTo } : {}), ...(req.attachments?.length ? { attachments: req.attachments } : {}) }),
      })
      .execute();
    await appendToFeed(trx, deps.policy, [{ eventId, type: result.to === 'closed' ? 'event.closed' : 'event.updated' }], now);
    return result;
  });
}

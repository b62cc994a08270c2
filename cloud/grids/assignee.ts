// Who a grid event may be dispatched to (分流交办): a serving grid worker of the event's town, or a
// serving department that serves the town (the county's, or that town's) and handles the event's
// category. Checked inside the dispatch transaction; the name is kept on the event as it is now.
import type { Kysely } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import type { Database } from '../db/schema.js';

export interface AssigneeRef {
  kind: 'department' | 'worker';
  id: string;
}

export interface ResolvedAssignee extends AssigneeRef {
  name: string;
}

/**
 * @throws GsError GS_ERR_ASSIGNEE_UNKNOWN (no such serving worker/department) or GS_ERR_ASSIGNEE_SCOPE
 * (another town's, or a department that does not handle the category). An event outside every town
 * may go to any worker and to county departments.
 */
export async function resolveAssignee(db: Kysely<Database>, a: AssigneeRef, event: { townId: string | null; category: string }): Promise<ResolvedAssignee> {
  const at = [{ path: '/assignee/id', message: '' }];
  if (a.kind === 'worker') {
    const w = await db.selectFrom('grid_workers').select(['name', 'town_id']).where('id', '=', a.id).where('retired_at', 'is', null).executeTakeFirst();
    if (!w) throw new GsError('GS_ERR_ASSIGNEE_UNKNOWN', `no serving grid worker "${a.id}"`, [{ ...at[0]!, message: 'see GET /grid-workers' }]);
    if (event.townId !== null && w.town_id !== event.townId) {
      throw new GsError('GS_ERR_ASSIGNEE_SCOPE', `grid worker "${a.id}" serves ${w.town_id ? `town "${w.town_id}"` : 'no town'}; the event is in town "${event.townId}"`, [
        { ...at[0]!, message: `must serve town ${event.townId}` },
      ]);
    }
    return { ...a, name: w.name };
  }
  const d = await db.selectFrom('departments').select(['name', 'name_zh', 'town_id', 'categories']).where('id', '=', a.id).where('retired_at', 'is', null).executeTakeFirst();
  if (!d) throw new GsError('GS_ERR_ASSIGNEE_UNKNOWN', `no serving department "${a.id}"`, [{ ...at[0]!, message: 'see GET /departments' }]);
  if (d.town_id !== null && d.town_id !== event.townId) {
    throw new GsError('GS_ERR_ASSIGNEE_SCOPE', `department "${a.id}" serves town "${d.town_id}"; the event is in ${event.townId ? `town "${event.townId}"` : 'no town'}`, [
      { ...at[0]!, message: event.townId ? `must serve town ${event.townId} or the whole county` : 'must serve the whole county' },
    ]);
  }
  const categories = JSON.parse(d.categories) as string[];
  if (!categories.includes(event.category)) {
    throw new GsError('GS_ERR_ASSIGNEE_SCOPE', `department "${a.id}" handles ${categories.join(', ')}, not ${event.category}`, [{ ...at[0]!, message: `must handle category ${event.category}` }]);
  }
  return { ...a, name: d.name_zh ?? d.name };
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { errorResponses } from '../http/schemas.js';
import { getEventDetail, listEvents } from './repo.js';
import { EventDetailJson, EventList, EventListQuery, TransitionBody, type EventList as EventListT } from './schemas.js';
import { applyTransition } from './transitions.js';
import { inScope, townOf } from '../plugins/auth.js';
import { eventStats, STATS_GROUPS } from './stats.js';
import { parseTimeParam } from '../http/time.js';
import { nullable } from '../http/schemas.js';

const tags = ['events'];

export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/events',
    {
      onRequest: app.requireScope('events:read'),
      schema: {
        tags,
        summary: 'List grid events, newest first',
        description: 'Filters combine with AND. `from` (inclusive) and `to` (exclusive) bound openedAt. Page with `limit` and the opaque `nextCursor`.',
        querystring: EventListQuery,
        response: { 200: EventList, ...errorResponses(400) },
      },
    },
    async (req): Promise<EventListT> => {
      const town = townOf(req);
      if (town && req.query.townId !== undefined && req.query.townId !== town) {
        throw new GsError('GS_ERR_AUTH_FORBIDDEN', `this key sees only town "${town}"`, [{ path: '/townId', message: `must be ${town} or absent` }]);
      }
      return listEvents(app.db, app.policy, town ? { ...req.query, townId: town } : req.query, app.clock);
    },
  );

  app.get(
    '/events/:id',
    {
      onRequest: app.requireScope('events:read'),
      schema: {
        tags,
        summary: 'One grid event with its alarms and timeline',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: EventDetailJson, ...errorResponses(404) },
      },
    },
    async (req) => {
      const e = await getEventDetail(app.db, app.policy, req.params.id);
      // Another town's event answers as if it did not exist: a town key learns nothing of it.
      if (!e || !inScope(req, e.townId)) throw new GsError('GS_ERR_EVENT_NOT_FOUND', `grid event "${req.params.id}" not found`);
      return e;
    },
  );

  app.get(
    '/stats/events',
    {
      onRequest: app.requireScope('events:read'),
      schema: {
        tags,
        summary: 'Event statistics per town, grid or category: counts, handling rate (处置率), overdue rate, mean time to accept and to resolve',
        description: 'Events opened in [from, to). `handled` counts resolved, verified and closed events; `overdue` those handled after their deadline or still open past it.',
        querystring: Type.Object(
          {
            groupBy: Type.Optional(Type.Enum(STATS_GROUPS, { description: 'default town' })),
            from: Type.Optional(Type.String({ maxLength: 40, description: 'ms since the epoch or ISO 8601' })),
            to: Type.Optional(Type.String({ maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            groupBy: Type.String(),
            items: Type.Array(
              Type.Object({
                key: nullable(Type.String({ description: 'town or grid id, or category code; null: outside every grid' })),
                label: nullable(Type.String({ description: 'Chinese name of the town/grid, or the category label' })),
                total: Type.Integer(),
                open: Type.Integer(),
                handled: Type.Integer(),
                handlingRate: nullable(Type.Number({ description: '处置率, 0–1' })),
                overdue: Type.Integer(),
                overdueRate: nullable(Type.Number()),
                meanMinutesToAccept: nullable(Type.Number()),
                meanMinutesToResolve: nullable(Type.Number()),
              }),
            ),
          }),
          ...errorResponses(400),
        },
      },
    },
    async (req) => {
      const groupBy = req.query.groupBy ?? 'town';
      const from = parseTimeParam(req.query.from, 'from');
      const to = parseTimeParam(req.query.to, 'to');
      const town = townOf(req);
      const items = await eventStats(app.db, app.policy, { groupBy, now: app.clock.now(), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}), ...(town ? { townId: town } : {}) });
      return { groupBy, items };
    },
  );

  app.post(
    '/events/:id/transitions',
    {
      onRequest: app.requireScope('events:write'),
      schema: {
        tags,
        summary: 'Move an event one step along the governance loop',
        description:
          'accept 受理 · dispatch 分流交办 (with an assignee) · start 开始处置 · resolve 办结 · verify 核查 · close 归档 · return 退回 · escalate 督办. A step the event does not allow from its status is refused with 409 GS_ERR_EVENT_TRANSITION naming the allowed ones (also listed in the event\'s `allowedActions`). Recorded in the timeline with who, when, why and attachments.',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: TransitionBody,
        response: { 200: EventDetailJson, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const b = req.body;
      const own = await app.db.selectFrom('events').select(['town_id']).where('id', '=', id).executeTakeFirst();
      if (!own || !inScope(req, own.town_id)) throw new GsError('GS_ERR_EVENT_NOT_FOUND', `grid event "${id}" not found`);
      const p = req.principal!;
      await applyTransition({ db: app.db, clock: app.clock, newId: app.newId, policy: app.policy }, id, {
        action: b.action,
        // A key acts under its own name; only the shared admin token may say on whose behalf.
        actor: p.kind === 'admin-token' ? (b.actor ?? 'admin') : p.name,
        ...(b.note !== undefined ? { note: b.note } : {}),
        ...(b.assignee ? { assignee: b.assignee } : {}),
        ...(b.attachments ? { attachments: b.attachments } : {}),
      });
      await app.bus.wake();
      return (await getEventDetail(app.db, app.policy, id))!;
    },
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { errorResponses } from '../http/schemas.js';
import { getEventDetail, listEvents } from './repo.js';
import { EventDetailJson, EventList, EventListQuery, type EventList as EventListT } from './schemas.js';

const tags = ['events'];

export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/events',
    {
      schema: {
        tags,
        summary: 'List grid events, newest first',
        description: 'Filters combine with AND. `from` (inclusive) and `to` (exclusive) bound openedAt. Page with `limit` and the opaque `nextCursor`.',
        querystring: EventListQuery,
        response: { 200: EventList, ...errorResponses(400) },
      },
    },
    async (req): Promise<EventListT> => listEvents(app.db, app.policy, req.query),
  );

  app.get(
    '/events/:id',
    {
      schema: {
        tags,
        summary: 'One grid event with its alarms and timeline',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: EventDetailJson, ...errorResponses(404) },
      },
    },
    async (req) => {
      const e = await getEventDetail(app.db, app.policy, req.params.id);
      if (!e) throw new GsError('GS_ERR_EVENT_NOT_FOUND', `grid event "${req.params.id}" not found`);
      return e;
    },
  );
};

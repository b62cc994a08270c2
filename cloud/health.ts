import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import Type from 'typebox';

const Health = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]), db: Type.Union([Type.Literal('ok'), Type.Literal('error')]) });

/** GET /healthz — for load balancers: 200 when the database answers, 503 when it does not. */
export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    { schema: { tags: ['system'], summary: 'Liveness and database check', response: { 200: Health, 503: Health } } },
    async (req, reply) => {
      try {
        await sql`select 1`.execute(app.db);
        return { status: 'ok' as const, db: 'ok' as const };
      } catch (err) {
        req.log.error({ err }, 'health check: database does not answer');
        return reply.status(503).send({ status: 'degraded', db: 'error' });
      }
    },
  );
};

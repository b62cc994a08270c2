import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../http/schemas.js';
import { iso } from '../http/time.js';
import { CreateEdgeBody, CreatedEdgeJson, EdgeList, type CreatedEdgeJson as CreatedEdgeJsonT, type EdgeList as EdgeListT } from './schemas.js';
import { createEdge, listEdges } from './service.js';

const tags = ['edges'];
const security = [{ bearer: [] }];

export const edgeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/edges',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags,
        summary: 'Register a town edge (admin); returns its token once',
        security,
        body: CreateEdgeBody,
        response: { 201: CreatedEdgeJson, ...errorResponses(400, 401, 403, 409, 413, 415) },
      },
    },
    async (req, reply): Promise<CreatedEdgeJsonT> => {
      const e = await createEdge(app.db, req.body, app.clock);
      reply.status(201);
      return { id: e.id, name: e.name, token: e.token, createdAt: iso(e.createdAt), revokedAt: null };
    },
  );

  app.get(
    '/edges',
    {
      onRequest: app.requireAdmin,
      schema: { tags, summary: 'List registered edges (admin)', security, response: { 200: EdgeList, ...errorResponses(401, 403) } },
    },
    async (): Promise<EdgeListT> => ({ items: await listEdges(app.db) }),
  );
};

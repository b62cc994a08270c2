import type { FastifyReply, FastifyRequest } from 'fastify';
import { GsError } from '../../contracts/errors.js';
import { bearerToken, hashToken, sameSecret } from '../edges/token.js';
import { definePlugin } from './define.js';

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest guard: a live edge's Bearer token; sets `request.edgeId`. */
    requireEdge: Guard;
    /** onRequest guard: the admin Bearer token. */
    requireAdmin: Guard;
  }
  interface FastifyRequest {
    edgeId: string | null;
  }
}

/**
 * Bearer-token guards, used as `onRequest` hooks so an unauthenticated request is refused before its
 * body is read. Edge tokens are looked up by their sha256 (never stored in clear); the admin token is
 * compared in constant time. API keys for the governance platform are a later issue.
 */
export const authPlugin = definePlugin<{ adminToken: string | undefined }>('gs-auth', ['gs-db'], async (app, opts) => {
  app.decorateRequest('edgeId', null);

  app.decorate('requireEdge', async (req: FastifyRequest) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new GsError('GS_ERR_AUTH_MISSING', 'an edge token is required: Authorization: Bearer <token>');
    const edge = await app.db
      .selectFrom('edges')
      .select(['id'])
      .where('token_hash', '=', hashToken(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!edge) throw new GsError('GS_ERR_EDGE_UNKNOWN');
    req.edgeId = edge.id;
  });

  const adminToken = opts.adminToken;
  app.decorate('requireAdmin', async (req: FastifyRequest) => {
    if (!adminToken) throw new GsError('GS_ERR_AUTH_FORBIDDEN', 'admin routes are disabled: no admin token is configured (GRIDSENSE_ADMIN_TOKEN)');
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new GsError('GS_ERR_AUTH_MISSING', 'the admin token is required: Authorization: Bearer <token>');
    if (!sameSecret(token, adminToken)) throw new GsError('GS_ERR_AUTH_INVALID', 'the admin token is not valid');
  });
});

import type { FastifyReply, FastifyRequest } from 'fastify';
import { GsError } from '../../contracts/errors.js';
import { ROLES, scopesOf, type Principal, type Role, type Scope } from '../auth/roles.js';
import { bearerToken, hashToken, sameSecret } from '../edges/token.js';
import { definePlugin } from './define.js';

type Guard = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest guard: a live edge's Bearer token; sets `request.edgeId` and `request.principal`. */
    requireEdge: Guard;
    /** onRequest guard: the admin token, or an API key with the `admin` scope. */
    requireAdmin: Guard;
    /** onRequest guard: the admin token, or an API key whose role has `scope`. */
    requireScope: (scope: Scope) => Guard;
  }
  interface FastifyRequest {
    edgeId: string | null;
    principal: Principal | null;
  }
}

const ADMIN_PRINCIPAL: Principal = { kind: 'admin-token', id: 'admin', name: 'admin', role: 'admin', scopes: new Set(ROLES.admin.scopes), townId: null };

/**
 * Bearer-token guards, used as `onRequest` hooks so an unauthenticated request is refused before its
 * body is read. Edge tokens and API keys are looked up by their sha256 (never stored in clear); the
 * admin token is compared in constant time.
 */
export const authPlugin = definePlugin<{ adminToken: string | undefined }>('gs-auth', ['gs-db'], async (app, opts) => {
  app.decorateRequest('edgeId', null);
  app.decorateRequest('principal', null);

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
    req.principal = { kind: 'edge', id: edge.id, name: edge.id, role: 'edge', scopes: new Set(), townId: null };
  });

  const adminToken = opts.adminToken;

  /** The principal behind the Authorization header; throws 401 when there is none or it is not valid. */
  const authenticate = async (req: FastifyRequest): Promise<Principal> => {
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new GsError('GS_ERR_AUTH_MISSING', 'a credential is required: Authorization: Bearer <API key>');
    if (adminToken && sameSecret(token, adminToken)) return ADMIN_PRINCIPAL;
    const key = await app.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'role', 'scopes', 'town_id'])
      .where('key_hash', '=', hashToken(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!key) throw new GsError('GS_ERR_AUTH_INVALID', 'the credential is not valid (unknown or revoked)');
    const role = key.role as Role;
    return { kind: 'api-key', id: key.id, name: key.name, role, scopes: scopesOf(role, key.scopes ? (JSON.parse(key.scopes) as Scope[]) : undefined), townId: key.town_id };
  };

  const requireScope = (scope: Scope): Guard => async (req: FastifyRequest) => {
    if (scope === 'admin' && !adminToken && !bearerToken(req.headers.authorization)?.startsWith('gsk_')) {
      throw new GsError('GS_ERR_AUTH_FORBIDDEN', 'admin routes are disabled: no admin token is configured (GRIDSENSE_ADMIN_TOKEN)');
    }
    const p = await authenticate(req);
    if (!p.scopes.has(scope)) throw new GsError('GS_ERR_AUTH_FORBIDDEN', `this credential (${p.role}) lacks the "${scope}" scope`);
    req.principal = p;
  };
  app.decorate('requireScope', requireScope);
  app.decorate('requireAdmin', requireScope('admin'));
});

/** Town scope: a town's key may only touch that town's data; others see everything. */
export function townOf(req: FastifyRequest): string | null {
  return req.principal?.townId ?? null;
}

/** Whether something of `townId` is visible to the caller. */
export function inScope(req: FastifyRequest, townId: string | null): boolean {
  const town = townOf(req);
  return town === null || town === townId;
}

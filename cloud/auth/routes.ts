import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { hashToken } from '../edges/token.js';
import { decodeCursor, encodeCursor } from '../http/cursor.js';
import { errorResponses, IsoTime, nullable, NullableIsoTime, PageQuery, NextCursor, DEFAULT_PAGE_SIZE } from '../http/schemas.js';
import { iso, isoOrNull, parseTimeParam } from '../http/time.js';
import { ROLE_CODES, ROLES, SCOPES } from './roles.js';

const security = [{ bearer: [] }];

const ApiKeyJson = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  roleLabel: Type.String(),
  scopes: Type.Array(Type.String()),
  townId: nullable(Type.String()),
  createdAt: IsoTime,
  revokedAt: NullableIsoTime,
});

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api-keys',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: ['auth'],
        security,
        summary: 'Issue an API key (admin); the key is shown once',
        description: `Roles: ${ROLE_CODES.map((r) => `${r} ${ROLES[r].label} (${ROLES[r].scopes.join(', ')})`).join('; ')}. A key with townId sees and changes only that town's events; scopes narrow the role's.`,
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 128 }),
            role: Type.Enum(ROLE_CODES),
            townId: Type.Optional(Type.String({ maxLength: 128 })),
            scopes: Type.Optional(Type.Array(Type.Enum(SCOPES), { minItems: 1, uniqueItems: true })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ ...ApiKeyJson.properties, key: Type.String() }), ...errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if (b.scopes) {
        const outside = b.scopes.filter((s) => !(ROLES[b.role].scopes as readonly string[]).includes(s));
        if (outside.length > 0) throw new GsError('GS_ERR_VALIDATION', `role ${b.role} does not have ${outside.join(', ')}`, [{ path: '/scopes', message: `allowed for ${b.role}: ${ROLES[b.role].scopes.join(', ')}` }]);
      }
      if (b.townId !== undefined) {
        const town = await app.db.selectFrom('grids').select(['id']).where('id', '=', b.townId).where('level', '=', 'town').executeTakeFirst();
        if (!town) throw new GsError('GS_ERR_VALIDATION', `no town "${b.townId}"`, [{ path: '/townId', message: 'must be the id of an imported town-level grid' }]);
      }
      const id = app.newId();
      const key = `gsk_${randomBytes(32).toString('base64url')}`;
      const now = app.clock.now();
      await app.db.insertInto('api_keys').values({ id, name: b.name, key_hash: hashToken(key), role: b.role, scopes: b.scopes ? JSON.stringify(b.scopes) : null, town_id: b.townId ?? null, created_at: now, revoked_at: null }).execute();
      reply.status(201);
      return { id, name: b.name, role: b.role, roleLabel: ROLES[b.role].label, scopes: b.scopes ?? [...ROLES[b.role].scopes], townId: b.townId ?? null, createdAt: iso(now), revokedAt: null, key };
    },
  );

  app.get(
    '/api-keys',
    { onRequest: app.requireAdmin, schema: { tags: ['auth'], security, summary: 'API keys (never the keys themselves)', response: { 200: Type.Object({ items: Type.Array(ApiKeyJson) }), ...errorResponses(401, 403) } } },
    async () => {
      const rows = await app.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
      return {
        items: rows.map((r) => {
          const role = r.role as keyof typeof ROLES;
          return { id: r.id, name: r.name, role, roleLabel: ROLES[role].label, scopes: r.scopes ? (JSON.parse(r.scopes) as string[]) : [...ROLES[role].scopes], townId: r.town_id, createdAt: iso(r.created_at), revokedAt: isoOrNull(r.revoked_at) };
        }),
      };
    },
  );

  app.delete(
    '/api-keys/:id',
    { onRequest: app.requireAdmin, schema: { tags: ['auth'], security, summary: 'Revoke an API key; it stops working at once', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } } },
    async (req, reply) => {
      const r = await app.db.updateTable('api_keys').set({ revoked_at: app.clock.now() }).where('id', '=', req.params.id).where('revoked_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new GsError('GS_ERR_NOT_FOUND', `no live API key "${req.params.id}"`);
      reply.status(204);
      return null;
    },
  );

  app.get(
    '/audit',
    {
      onRequest: app.requireScope('audit:read'),
      schema: {
        tags: ['auth'],
        security,
        summary: 'The audit log: every write through the API, newest first',
        querystring: Type.Object(
          { actorId: Type.Optional(Type.String({ maxLength: 128 })), from: Type.Optional(Type.String({ maxLength: 40 })), to: Type.Optional(Type.String({ maxLength: 40 })), ...PageQuery },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                at: IsoTime, actorKind: Type.String(), actorId: Type.String(), actorName: Type.String(), method: Type.String(), route: Type.String(),
                targetId: nullable(Type.String()), status: Type.Integer(), body: Type.Unknown(),
              }),
            ),
            nextCursor: NextCursor,
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? DEFAULT_PAGE_SIZE;
      let q = app.db.selectFrom('audit_log').selectAll();
      if (req.query.actorId) q = q.where('actor_id', '=', req.query.actorId);
      const from = parseTimeParam(req.query.from, 'from');
      const to = parseTimeParam(req.query.to, 'to');
      if (from !== undefined) q = q.where('at', '>=', from);
      if (to !== undefined) q = q.where('at', '<', to);
      if (req.query.cursor) {
        const c = decodeCursor(req.query.cursor);
        q = q.where((eb) => eb.or([eb('at', '<', c.t), eb.and([eb('at', '=', c.t), eb('id', '<', c.id)])]));
      }
      const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => ({ at: iso(r.at), actorKind: r.actor_kind, actorId: r.actor_id, actorName: r.actor_name, method: r.method, route: r.route, targetId: r.target_id, status: r.status, body: r.body === null ? null : (JSON.parse(r.body) as unknown) })),
        nextCursor: rows.length > limit && last ? encodeCursor({ t: last.at, id: last.id }) : null,
      };
    },
  );
};

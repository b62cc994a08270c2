import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { DesiredConfig } from '../../contracts/edge-config.js';
import { redactConnection } from '../devices/connection.js';
import { inScope, townOf } from '../plugins/auth.js';
import { errorResponses, IsoTime } from '../http/schemas.js';
import { iso } from '../http/time.js';
import { bumpConfig, desiredConfig, ensureEdgeFleet } from './desired.js';
import { assertTown, enrollEdge, issueEnrollmentToken, revokeEdge } from './enroll.js';
import { CreateEdgeBody, CreatedEdgeJson, EDGE_ID_PATTERN, type CreatedEdgeJson as CreatedEdgeJsonT } from './schemas.js';
import { createEdge } from './service.js';
import { edgeViews, EdgeViewJson, type EdgeViewJson as EdgeViewJsonT } from './view.js';

const tags = ['edges'];
const security = [{ bearer: [] }];
const IdParams = Type.Object({ id: Type.String({ pattern: EDGE_ID_PATTERN }) });

export const edgeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const now = () => app.clock.now();

  /** The edge, when it exists and the caller's town may see it. */
  const viewOf = async (req: Parameters<typeof townOf>[0], id: string): Promise<EdgeViewJsonT> => {
    const [e] = await edgeViews(app.db, now(), { id });
    if (!e || !inScope(req, e.townId)) throw new GsError('GS_ERR_EDGE_NOT_FOUND', `no edge "${id}"`);
    return e;
  };

  app.post(
    '/edges',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags,
        summary: 'Register a town edge (admin); returns its token once',
        description: 'The manual way; `POST /edges/enrollment-tokens` lets the box fetch its own token instead.',
        security,
        body: CreateEdgeBody,
        response: { 201: CreatedEdgeJson, ...errorResponses(400, 401, 403, 409, 413, 415) },
      },
    },
    async (req, reply): Promise<CreatedEdgeJsonT> => {
      const e = await createEdge(app.db, req.body, app.clock);
      await ensureEdgeFleet(app.db, e.id, e.createdAt);
      reply.status(201);
      return { id: e.id, name: e.name, token: e.token, createdAt: iso(e.createdAt), revokedAt: null };
    },
  );

  app.get(
    '/edges',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: 'Edges with their heartbeat, version and configuration state',
        description: "A town's key sees its town's edges only.",
        security,
        response: { 200: Type.Object({ items: Type.Array(EdgeViewJson) }, { additionalProperties: false }), ...errorResponses(401, 403) },
      },
    },
    async (req) => {
      const town = townOf(req);
      return { items: await edgeViews(app.db, now(), town ? { town } : {}) };
    },
  );

  app.get(
    '/edges/:id',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: 'One edge: heartbeat, uptime, outbox depth, desired and applied configuration versions, the last report',
        security,
        params: IdParams,
        response: { 200: EdgeViewJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => viewOf(req, req.params.id),
  );

  app.get(
    '/edges/:id/config',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: 'The configuration the cloud holds for an edge (what GET /edges/config gives the edge), secrets hidden',
        security,
        params: IdParams,
        response: { 200: DesiredConfig, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      await viewOf(req, req.params.id);
      const c = await desiredConfig(app.db, req.params.id, now());
      return { ...c, devices: c.devices.map((dev) => ({ ...dev, connection: redactConnection(dev.connection as Record<string, unknown>) })) };
    },
  );

  app.patch(
    '/edges/:id',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags,
        summary: "Rename an edge or set its town (admin); devices without a location take the edge's town",
        security,
        params: IdParams,
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), townId: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: EdgeViewJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params;
      await viewOf(req, id);
      if (req.body.townId !== undefined) await assertTown(app.db, req.body.townId);
      await app.db.transaction().execute(async (trx) => {
        if (req.body.name !== undefined) await trx.updateTable('edges').set({ name: req.body.name }).where('id', '=', id).execute();
        if (req.body.townId !== undefined) {
          await ensureEdgeFleet(trx, id, now());
          await trx.updateTable('edge_fleet').set({ town_id: req.body.townId }).where('edge_id', '=', id).execute();
          await trx.updateTable('devices').set({ town_id: req.body.townId }).where('edge_id', '=', id).where('lon', 'is', null).execute();
        }
      });
      return viewOf(req, id);
    },
  );

  app.post(
    '/edges/enrollment-tokens',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags,
        summary: 'Issue a one-time enrollment token for an edge (admin); registers the edge when it is new',
        description:
          'The token (gsn_…) is shown once, stored as its SHA-256, and expires after `ttlHours` (default 24). On the box: `gridsense edge enroll <cloud url> <token>`. Enrolling an edge again (a replaced box) rotates its token; a revoked edge cannot be enrolled (409 GS_ERR_EDGE_REVOKED).',
        security,
        body: Type.Object(
          {
            edgeId: Type.String({ pattern: EDGE_ID_PATTERN }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            townId: Type.Optional(Type.String({ maxLength: 128, description: 'the town-level grid it serves' })),
            ttlHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ edgeId: Type.String(), token: Type.String(), expiresAt: IsoTime, created: Type.Boolean(), command: Type.String() }, { additionalProperties: false }),
          ...errorResponses(400, 401, 403, 409, 413, 415),
        },
      },
    },
    async (req, reply) => {
      const issued = await issueEnrollmentToken(app.fleet, req.body, req.principal?.name ?? 'admin');
      reply.status(201);
      return { ...issued, command: `gridsense edge enroll ${publicUrl(req)} ${issued.token}` };
    },
  );

  app.post(
    '/edges/enroll',
    {
      schema: {
        tags,
        summary: "Trade an enrollment token for the edge's own token (no other credential; once)",
        description: 'A token used twice is `410 GS_ERR_ENROLL_TOKEN_USED`, an expired one `410 GS_ERR_ENROLL_TOKEN_EXPIRED`, an unknown one `401 GS_ERR_ENROLL_TOKEN_INVALID`.',
        body: Type.Object({ token: Type.String({ minLength: 8, maxLength: 256 }) }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            { edgeId: Type.String(), edgeToken: Type.String({ description: 'gse_…: shown this once' }), cloudUrl: Type.String({ description: 'the URL this request reached (a hint)' }), remoteConfig: Type.Boolean() },
            { additionalProperties: false },
          ),
          ...errorResponses(400, 401, 409, 410, 413, 415),
        },
      },
    },
    async (req) => {
      const r = await enrollEdge(app.fleet, req.body.token);
      return { edgeId: r.edgeId, edgeToken: r.edgeToken, cloudUrl: publicUrl(req), remoteConfig: true };
    },
  );

  const revoke = async (id: string) => {
    await revokeEdge(app.fleet, id);
    // Its waiting long-polls end now (they check the edge again and answer 401).
    app.fleet.watch.notify([id]);
  };

  app.delete(
    '/edges/:id',
    {
      onRequest: app.requireAdmin,
      schema: { tags, summary: 'Revoke an edge (admin): its token is refused from the next request on', security, params: IdParams, response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) } },
    },
    async (req, reply) => {
      await revoke(req.params.id);
      reply.status(204);
      return null;
    },
  );

  app.post(
    '/edges/:id/revoke',
    {
      onRequest: app.requireAdmin,
      schema: { tags, summary: 'Revoke an edge (admin); same as DELETE /edges/{id}', security, params: IdParams, response: { 200: EdgeViewJson, ...errorResponses(400, 401, 403, 404, 409) } },
    },
    async (req) => {
      await revoke(req.params.id);
      return viewOf(req, req.params.id);
    },
  );

  app.put(
    '/edges/:id/rules',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags,
        summary: "Set the library rule files an edge runs besides its devices' profile default rules (admin)",
        description: "Every file must be in the rules library, and every device override on the edge must still name a rule it runs. Bumps the edge's configuration version.",
        security,
        params: IdParams,
        body: Type.Object({ rules: Type.Array(Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._-]+$' }), { maxItems: 200 }) }, { additionalProperties: false }),
        response: { 200: EdgeViewJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params;
      const edge = await viewOf(req, id);
      if (edge.status === 'revoked') throw new GsError('GS_ERR_EDGE_REVOKED', `edge "${id}" is revoked`);
      const rules = req.body.rules;
      const problems = app.fleet.rules.ruleListProblems(rules);
      if (problems.length > 0) throw new GsError('GS_ERR_VALIDATION', `${problems.length} rule file(s) cannot be used`, problems);
      const devices = await app.db.selectFrom('devices').select(['id', 'profile', 'site', 'overrides']).where('edge_id', '=', id).where('status', '=', 'active').execute();
      const sets = app.fleet.rules.setsFor(rules, devices.map((d) => d.profile), app.fleet.profiles);
      const broken = devices.flatMap((d) =>
        app.fleet.rules
          .overrideProblems(sets, { id: d.id, profile: d.profile, site: d.site, overrides: d.overrides ? (JSON.parse(d.overrides) as Record<string, Record<string, unknown>>) : null }, app.fleet.profiles)
          .map((p) => ({ path: `/devices/${d.id}${p.path}`, message: p.message })),
      );
      if (broken.length > 0) throw new GsError('GS_ERR_VALIDATION', 'device overrides name rules the edge would no longer run; change them first', broken);
      const edges = await app.db.transaction().execute(async (trx) => {
        await ensureEdgeFleet(trx, id, now());
        await trx.updateTable('edge_fleet').set({ rules: JSON.stringify(rules) }).where('edge_id', '=', id).execute();
        return bumpConfig(trx, [id], now());
      });
      app.fleet.watch.notify(edges);
      return viewOf(req, id);
    },
  );
};

/** The cloud's URL as this request reached it (GRIDSENSE_PUBLIC_URL wins). */
function publicUrl(req: { protocol: string; host: string }): string {
  return (process.env.GRIDSENSE_PUBLIC_URL || `${req.protocol}://${req.host}`).replace(/\/$/, '');
}

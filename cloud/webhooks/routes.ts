import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { BUS_MESSAGE_TYPES } from '../events/bus.js';
import { errorResponses, nullable, NullableIsoTime, IsoTime } from '../http/schemas.js';
import { iso, isoOrNull } from '../http/time.js';
import { inScope, townOf } from '../plugins/auth.js';
import type { FastifyRequest } from 'fastify';

const tags = ['webhooks'];
const security = [{ bearer: [] }];

const Subscription = Type.Object({
  id: Type.String(),
  url: Type.String(),
  types: Type.Array(Type.String()),
  townId: nullable(Type.String()),
  description: nullable(Type.String()),
  createdAt: IsoTime,
  disabledAt: NullableIsoTime,
});

const Delivery = Type.Object({
  id: Type.String(),
  subscriptionId: Type.String(),
  seq: Type.Integer({ description: 'the feed sequence number (the SSE id of the same message)' }),
  type: Type.String(),
  status: Type.String({ description: 'pending | delivered | dead' }),
  attempts: Type.Integer(),
  nextAttemptAt: IsoTime,
  lastStatus: nullable(Type.Integer()),
  lastError: nullable(Type.String()),
  createdAt: IsoTime,
  deliveredAt: NullableIsoTime,
});

export const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  /** A town key manages only its town's subscriptions; another's answers 404. */
  const ownSubscription = async (req: FastifyRequest, id: string): Promise<void> => {
    const s = await app.db.selectFrom('webhook_subscriptions').select(['town_id']).where('id', '=', id).executeTakeFirst();
    if (!s || !inScope(req, s.town_id)) throw new GsError('GS_ERR_NOT_FOUND', `no webhook subscription "${id}"`);
  };

  app.post(
    '/webhooks',
    {
      onRequest: app.requireScope('webhooks:write'),
      schema: {
        tags,
        security,
        summary: 'Subscribe a URL to event notifications; the signing secret is returned once',
        description:
          'Each delivery is a POST of {id, type, seq, event} with X-Gridsense-Event, X-Gridsense-Delivery and X-Gridsense-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>. Answer 2xx within 10 s; anything else is retried with exponential backoff, then dead-lettered (see /webhooks/{id}/deliveries and replay).',
        body: Type.Object(
          {
            url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
            types: Type.Array(Type.Enum(BUS_MESSAGE_TYPES), { minItems: 1, uniqueItems: true }),
            townId: Type.Optional(Type.String({ maxLength: 128, description: 'only events of this town' })),
            description: Type.Optional(Type.String({ maxLength: 500 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ ...Subscription.properties, secret: Type.String() }), ...errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (req, reply) => {
      const id = app.newId();
      const secret = `whsec_${randomBytes(24).toString('base64url')}`;
      const now = app.clock.now();
      const town = townOf(req);
      if (town && req.body.townId !== undefined && req.body.townId !== town) {
        throw new GsError('GS_ERR_AUTH_FORBIDDEN', `this key subscribes only to town "${town}"`, [{ path: '/townId', message: `must be ${town} or absent` }]);
      }
      const b = town ? { ...req.body, townId: town } : req.body;
      await app.db.insertInto('webhook_subscriptions').values({ id, url: b.url, secret, types: JSON.stringify(b.types), town_id: b.townId ?? null, description: b.description ?? null, created_at: now, disabled_at: null }).execute();
      reply.status(201);
      return { id, url: b.url, types: b.types, townId: b.townId ?? null, description: b.description ?? null, createdAt: iso(now), disabledAt: null, secret };
    },
  );

  app.get(
    '/webhooks',
    { onRequest: app.requireScope('webhooks:write'), schema: { tags, security, summary: 'List webhook subscriptions (secrets are not shown again)', response: { 200: Type.Object({ items: Type.Array(Subscription) }), ...errorResponses(401, 403) } } },
    async (req) => {
      const town = townOf(req);
      let q = app.db.selectFrom('webhook_subscriptions').selectAll();
      if (town) q = q.where('town_id', '=', town);
      const rows = await q.orderBy('created_at').orderBy('id').execute();
      return { items: rows.map((r) => ({ id: r.id, url: r.url, types: JSON.parse(r.types) as string[], townId: r.town_id, description: r.description, createdAt: iso(r.created_at), disabledAt: isoOrNull(r.disabled_at) })) };
    },
  );

  app.delete(
    '/webhooks/:id',
    { onRequest: app.requireScope('webhooks:write'), schema: { tags, security, summary: 'Disable a subscription (its deliveries stay on record)', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } } },
    async (req, reply) => {
      await ownSubscription(req, req.params.id);
      const r = await app.db.updateTable('webhook_subscriptions').set({ disabled_at: app.clock.now() }).where('id', '=', req.params.id).where('disabled_at', 'is', null).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new GsError('GS_ERR_NOT_FOUND', `no active webhook subscription "${req.params.id}"`);
      reply.status(204);
      return null;
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      onRequest: app.requireScope('webhooks:write'),
      schema: {
        tags,
        security,
        summary: "A subscription's deliveries, newest first; status=dead is the dead-letter list",
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({ status: Type.Optional(Type.Enum(['pending', 'delivered', 'dead'] as const)), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(Delivery) }), ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      await ownSubscription(req, req.params.id);
      let q = app.db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', req.params.id);
      if (req.query.status) q = q.where('status', '=', req.query.status);
      const rows = await q.orderBy('feed_seq', 'desc').limit(req.query.limit ?? 100).execute();
      return {
        items: rows.map((r) => ({
          id: r.id, subscriptionId: r.subscription_id, seq: Number(r.feed_seq), type: r.type, status: r.status, attempts: r.attempts,
          nextAttemptAt: iso(Number(r.next_attempt_at)), lastStatus: r.last_status, lastError: r.last_error, createdAt: iso(Number(r.created_at)), deliveredAt: isoOrNull(r.delivered_at === null ? null : Number(r.delivered_at)),
        })),
      };
    },
  );

  app.post(
    '/webhooks/deliveries/:id/replay',
    {
      onRequest: app.requireScope('webhooks:write'),
      schema: { tags, security, summary: 'Send a delivery again now (a dead letter, or a delivered one the receiver lost)', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 202: Type.Object({ id: Type.String(), status: Type.String() }), ...errorResponses(401, 403, 404) } },
    },
    async (req, reply) => {
      const d = await app.db.selectFrom('webhook_deliveries').select(['subscription_id']).where('id', '=', req.params.id).executeTakeFirst();
      if (!d) throw new GsError('GS_ERR_NOT_FOUND', `no webhook delivery "${req.params.id}"`);
      await ownSubscription(req, d.subscription_id);
      const r = await app.db.updateTable('webhook_deliveries').set({ status: 'pending', attempts: 0, next_attempt_at: app.clock.now(), locked_until: null }).where('id', '=', req.params.id).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new GsError('GS_ERR_NOT_FOUND', `no webhook delivery "${req.params.id}"`);
      void app.webhooks.runOnce().catch((err: unknown) => app.log.error({ err }, 'webhook replay failed'));
      reply.status(202);
      return { id: req.params.id, status: 'pending' };
    },
  );
};

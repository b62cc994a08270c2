// Telemetry summaries from the edges (edge token), read back per device, and the gaps an edge's outbox
// quota left in them (a fleet record, not an alarm: nothing for a grid worker to handle on the street).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { SummaryBatch, SummaryBatchResult } from '../../contracts/telemetry-summary.js';
import { errorResponses, IsoTime } from '../http/schemas.js';
import { parseTimeParam } from '../http/time.js';
import { townOf } from '../plugins/auth.js';
import { deviceSummaries, ingestSummaries, telemetryGaps } from './summaries.js';
import { telemetryDb } from './tables.js';

const tags = ['telemetry'];
const security = [{ bearer: [] }];
const DAY = 86_400_000;
/** 5,000 summaries of a few hundred bytes each. */
const BODY_LIMIT = 4 * 1024 * 1024;

const SummaryJson = Type.Object(
  {
    point: Type.String(),
    from: IsoTime,
    to: IsoTime,
    count: Type.Integer(),
    min: Type.Number(),
    max: Type.Number(),
    mean: Type.Number(),
    last: Type.Number(),
    lastAt: IsoTime,
    unit: Type.Union([Type.String(), Type.Null()]),
    edgeId: Type.String(),
  },
  { additionalProperties: false },
);
const GapJson = Type.Object(
  {
    edgeId: Type.String(),
    id: Type.String(),
    dropped: Type.Integer({ description: 'telemetry summaries dropped by the outbox quota' }),
    from: IsoTime,
    to: IsoTime,
    droppedAt: IsoTime,
    maxBytes: Type.Integer(),
    receivedAt: IsoTime,
  },
  { additionalProperties: false },
);
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 }));
const TimeParam = (d: string) => Type.Optional(Type.String({ maxLength: 40, description: `ms since the epoch or ISO 8601; ${d}` }));

export const telemetryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/telemetry/summaries',
    {
      onRequest: app.requireEdge,
      bodyLimit: BODY_LIMIT,
      schema: {
        tags,
        summary: 'Upload telemetry summaries and outbox gap records (edge)',
        description: 'Idempotent: a summary is stored once per (device, point, period), a gap once per (edge, id); a retried upload counts as duplicates.',
        security,
        body: SummaryBatch,
        response: { 200: SummaryBatchResult, ...errorResponses(400, 401, 413, 415) },
      },
    },
    async (req) => ingestSummaries(app.db, app.clock, req.edgeId!, req.body),
  );

  app.get(
    '/devices/:id/summaries',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: "A device's telemetry summaries (min/max/mean/last/count per point and period), oldest first",
        security,
        params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
        querystring: Type.Object(
          { from: TimeParam('default to − 24 h'), to: TimeParam('default now'), point: Type.Optional(Type.String({ maxLength: 64 })), limit: Limit },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(SummaryJson) }, { additionalProperties: false }), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const to = parseTimeParam(req.query.to, 'to') ?? app.clock.now();
      const from = parseTimeParam(req.query.from, 'from') ?? to - DAY;
      if (from > to) throw new GsError('GS_ERR_VALIDATION', 'from is after to', [{ path: '/from', message: 'must not be after to' }]);
      const id = req.params.id;
      const town = townOf(req);
      const device = await app.db.selectFrom('devices').select(['town_id']).where('id', '=', id).executeTakeFirst();
      // A town's key sees its town's devices; a county key also sees devices only an edge.yaml knows.
      if (device ? town !== null && device.town_id !== town : town !== null) throw new GsError('GS_ERR_DEVICE_UNKNOWN', `no device "${id}"`);
      const items = await deviceSummaries(app.db, id, { from, to, limit: req.query.limit ?? 1000, ...(req.query.point !== undefined ? { point: req.query.point } : {}) });
      if (!device && items.length === 0) throw new GsError('GS_ERR_DEVICE_UNKNOWN', `no device "${id}"`);
      return { items };
    },
  );

  app.get(
    '/telemetry/gaps',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: 'Gaps in the telemetry summaries: what edges dropped to keep their outbox within its disk quota, newest first',
        security,
        querystring: Type.Object({ edge: Type.Optional(Type.String({ maxLength: 64 })), limit: Limit }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(GapJson) }, { additionalProperties: false }), ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const town = townOf(req);
      const limit = req.query.limit ?? 100;
      const edge = req.query.edge;
      if (town === null) return { items: await telemetryGaps(app.db, { limit, ...(edge !== undefined ? { edgeId: edge } : {}) }) };
      // A town's key: its town's edges only.
      const mine = (await telemetryDb(app.db).selectFrom('edge_fleet').select('edge_id').where('town_id', '=', town).execute()).map((r) => r.edge_id);
      const edgeIds = edge !== undefined ? mine.filter((e) => e === edge) : mine;
      return { items: await telemetryGaps(app.db, { limit, edgeIds }) };
    },
  );
};

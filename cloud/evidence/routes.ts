// Alarm evidence over HTTP. Edges upload the bytes content-addressed (PUT /evidence/:sha256, JPEG
// only, size-limited, idempotent) and link them to their alarms (POST /alarms/:alarmId/evidence,
// idempotent); people and platforms read them (GET /evidence/:id) when they can see the event the
// alarm belongs to — a town's key only its town's.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AlarmEnvelope, EVIDENCE_MAX_BYTES } from '../../contracts/alarm.js';
import { GsError } from '../../contracts/errors.js';
import { errorResponses } from '../http/schemas.js';
import { townOf } from '../plugins/auth.js';
import { evidenceToServe, linkEvidence, storeBlob } from './repo.js';
import { EvidenceLinkBody, Sha256Param } from './schemas.js';

const tags = ['evidence'];

export const evidenceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Only here (this plugin's scope): a JPEG body arrives as a Buffer, up to the evidence limit.
  app.addContentTypeParser('image/jpeg', { parseAs: 'buffer', bodyLimit: EVIDENCE_MAX_BYTES }, (_req, body, done) => done(null, body));

  app.put(
    '/evidence/:sha256',
    {
      onRequest: app.requireEdge,
      bodyLimit: EVIDENCE_MAX_BYTES,
      schema: {
        tags,
        summary: 'Upload a picture (edge): content-addressed, idempotent',
        description: `The body is the JPEG (Content-Type: image/jpeg, at most ${EVIDENCE_MAX_BYTES} bytes) and the path its SHA-256. Bytes already stored answer 200 and change nothing; a body that is not a JPEG is refused with GS_ERR_EVIDENCE_INVALID, one whose hash differs with GS_ERR_EVIDENCE_CHECKSUM.`,
        security: [{ bearer: [] }],
        params: Sha256Param,
        response: {
          200: Type.Object({ sha256: Type.String(), size: Type.Integer(), created: Type.Boolean() }),
          201: Type.Object({ sha256: Type.String(), size: Type.Integer(), created: Type.Boolean() }),
          ...errorResponses(400, 401, 413, 415),
        },
      },
    },
    async (req, reply) => {
      const bytes = req.body as unknown;
      if (!Buffer.isBuffer(bytes)) throw new GsError('GS_ERR_EVIDENCE_INVALID', 'the body must be the JPEG bytes (Content-Type: image/jpeg)');
      const r = await storeBlob(app.db, { sha256: req.params.sha256, bytes, edgeId: req.edgeId!, now: app.clock.now() });
      return reply.status(r.created ? 201 : 200).send({ sha256: req.params.sha256, size: r.size, created: r.created });
    },
  );

  app.post(
    '/alarms/:alarmId/evidence',
    {
      onRequest: app.requireEdge,
      schema: {
        tags,
        summary: "Link evidence to one of the edge's alarms (edge): idempotent",
        description: "`alarmId` is the edge's alarm id (as in the envelope). A picture taken after the alarm was sent follows it this way; a link already made counts as a duplicate. The link may arrive before the alarm: it shows once the alarm does.",
        security: [{ bearer: [] }],
        params: Type.Object({ alarmId: AlarmEnvelope.properties.alarmId }),
        body: EvidenceLinkBody,
        response: { 200: Type.Object({ linked: Type.Integer(), duplicates: Type.Integer() }), ...errorResponses(400, 401, 415) },
      },
    },
    async (req) => linkEvidence(app.db, { edgeId: req.edgeId!, alarmId: req.params.alarmId, evidence: req.body.evidence, newId: app.newId, now: app.clock.now() }),
  );

  app.get(
    '/evidence/:id',
    {
      onRequest: app.requireScope('events:read'),
      schema: {
        tags,
        summary: "A picture of an alarm (image/jpeg), to a credential that sees the alarm's event",
        description: "Ids come from an event's `evidence` list. A town's key sees only pictures of its town's events; anything else answers 404 as if it did not exist.",
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: { description: 'the JPEG', content: { 'image/jpeg': { schema: Type.String({ format: 'binary' }) } } }, ...errorResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const found = await evidenceToServe(app.db, req.params.id);
      const town = townOf(req);
      const visible = found !== undefined && (town === null || found.towns.includes(town));
      if (!visible) throw new GsError('GS_ERR_EVIDENCE_NOT_FOUND', `evidence "${req.params.id}" not found`);
      if (!found.data) throw new GsError('GS_ERR_EVIDENCE_NOT_FOUND', `evidence "${req.params.id}" is linked but its picture has not been uploaded yet`);
      // Content-addressed: the bytes behind an id never change. A Buffer is sent as it is (the schema's
      // "binary string" is for the OpenAPI document only), hence the cast.
      return reply.type('image/jpeg').header('cache-control', 'private, max-age=31536000, immutable').header('etag', `"${found.sha256}"`).send(found.data as unknown as string);
    },
  );
};

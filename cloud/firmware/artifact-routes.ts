// Signing keys (admin) and artifacts (technicians): register/revoke trusted Ed25519 keys; upload an
// image as application/octet-stream with its metadata in the query string.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { errorResponses } from '../http/schemas.js';
import { artifactJson, getArtifact, listArtifacts, storeArtifact } from './artifacts.js';
import { actorOf, countyWide } from './guards.js';
import { addKey, listKeys, revokeKey } from './keys.js';
import { AddKeyBody, ArtifactJson, IdParams, KeyIdParams, KeyJson, PROFILE_ITEM, UploadQuery } from './schemas.js';

const tags = ['firmware'];
const security = [{ bearer: [] }];
/** Largest image accepted; env GRIDSENSE_FIRMWARE_MAX_BYTES. */
export const MAX_IMAGE_BYTES = Number(process.env.GRIDSENSE_FIRMWARE_MAX_BYTES) > 0 ? Number(process.env.GRIDSENSE_FIRMWARE_MAX_BYTES) : 64 * 1024 * 1024;

export const artifactRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const fw = app.firmware;
  // The image is kept aside and the body becomes its size, so that the audit log (which records
  // bodies) and error paths never serialise megabytes of bytes.
  const images = new WeakMap<FastifyRequest, Buffer>();
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES }, (req, body, done) => {
    const bytes = body as Buffer;
    images.set(req, bytes);
    done(null, { bytes: bytes.length });
  });

  app.post(
    '/firmware/keys',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags,
        summary: 'Register a trusted Ed25519 public key (admin); its keyId is the first 16 hex digits of the SHA-256 of the raw key',
        description: 'Artifacts are accepted only when a registered, unrevoked key signed them. A private key is refused (400 GS_ERR_FIRMWARE_KEY_INVALID), a key registered before 409 GS_ERR_FIRMWARE_KEY_EXISTS.',
        security,
        body: AddKeyBody,
        response: { 201: KeyJson, ...errorResponses(400, 401, 403, 409, 413, 415) },
      },
    },
    async (req, reply) => {
      const k = await addKey(fw, req.body, actorOf(req));
      reply.status(201);
      return k;
    },
  );

  app.get(
    '/firmware/keys',
    { onRequest: app.requireScope('devices:read'), schema: { tags, summary: 'Signing keys, revoked ones too', security, response: { 200: Type.Object({ items: Type.Array(KeyJson) }, { additionalProperties: false }), ...errorResponses(401, 403) } } },
    async () => ({ items: await listKeys(fw.db) }),
  );

  app.delete(
    '/firmware/keys/:id',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags,
        summary: 'Revoke a signing key (admin): no upload or new campaign with it from now on',
        security,
        params: KeyIdParams,
        response: { 200: KeyJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => revokeKey(fw, req.params.id),
  );

  app.post(
    '/firmware/artifacts',
    {
      onRequest: [app.requireScope('devices:write'), countyWide],
      preValidation: async (req) => {
        if (!images.has(req)) throw new GsError('GS_ERR_MEDIA_TYPE', 'send the image as Content-Type: application/octet-stream');
      },
      bodyLimit: MAX_IMAGE_BYTES,
      schema: {
        tags,
        summary: 'Upload a firmware image (Content-Type: application/octet-stream) with its version, profiles, SHA-256 and signature in the query',
        description: `The cloud recomputes the SHA-256 (a mismatch is 400 GS_ERR_FIRMWARE_CHECKSUM) and verifies the Ed25519 signature over the manifest {version, sha256, size, profiles} with a registered, unrevoked key (missing, wrong or revoked: 400 GS_ERR_FIRMWARE_SIGNATURE). A version already uploaded for one of the profiles is 409 GS_ERR_FIRMWARE_ARTIFACT_EXISTS. At most ${MAX_IMAGE_BYTES} bytes (env GRIDSENSE_FIRMWARE_MAX_BYTES). The bytes are stored in the database in 256 KiB rows.`,
        security,
        consumes: ['application/octet-stream'],
        querystring: UploadQuery,
        response: { 201: ArtifactJson, ...errorResponses(400, 401, 403, 409, 413, 415) },
      },
    },
    async (req, reply) => {
      const profiles = req.query.profiles.split(',').map((p) => p.trim()).filter((p) => p !== '');
      const bad = profiles.filter((p) => p.length > 128 || !PROFILE_ITEM.test(p));
      if (profiles.length === 0 || profiles.length > 50 || bad.length > 0) {
        throw new GsError('GS_ERR_VALIDATION', 'profiles must be 1 to 50 comma-separated profile ids', [{ path: '/profiles', message: bad.length > 0 ? `not a profile id: ${bad.join(', ')}` : `${profiles.length} given` }]);
      }
      const a = await storeArtifact(fw, images.get(req)!, { version: req.query.version, profiles, sha256: req.query.sha256, signature: req.query.signature, keyId: req.query.keyId }, actorOf(req));
      reply.status(201);
      return a;
    },
  );

  app.get(
    '/firmware/artifacts',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: 'Uploaded artifacts, newest first (at most 500); ?profile= for one model',
        security,
        querystring: Type.Object({ profile: Type.Optional(Type.String({ maxLength: 128 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(ArtifactJson) }, { additionalProperties: false }), ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => ({ items: await listArtifacts(fw.db, req.query.profile) }),
  );

  app.get(
    '/firmware/artifacts/:id',
    { onRequest: app.requireScope('devices:read'), schema: { tags, summary: 'One artifact: its manifest, signature and key', security, params: IdParams, response: { 200: ArtifactJson, ...errorResponses(400, 401, 403, 404) } } },
    async (req) => artifactJson(await getArtifact(fw.db, req.params.id)),
  );
};

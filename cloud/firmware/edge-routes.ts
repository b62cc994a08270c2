// The edge's side (edge token): the jobs to run now, long-polled; the image bytes with Range so a
// broken download resumes; the report of each job's state. Paths are the edge agent's contract.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { FirmwareJob, FirmwareJobList, FirmwareJobReport } from '../../contracts/firmware.js';
import { MAX_WAIT_S, parseEtagVersion } from '../edges/config-routes.js';
import { errorResponses } from '../http/schemas.js';
import { getArtifact, readBytes } from './artifacts.js';
import { edgeVersion } from './changes.js';
import { edgeJobs, edgeMayDownload, reportJob } from './edge-jobs.js';
import { parseRange } from './range.js';

const tags = ['firmware'];
const security = [{ bearer: [] }];

export const edgeFirmwareRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const fw = app.firmware;
  const stillLive = async (edgeId: string): Promise<void> => {
    const e = await fw.db.selectFrom('edges').select('revoked_at').where('id', '=', edgeId).executeTakeFirst();
    if (!e || e.revoked_at !== null) throw new GsError('GS_ERR_EDGE_UNKNOWN', 'this edge was revoked');
  };

  app.get(
    '/edges/firmware/jobs',
    {
      onRequest: app.requireEdge,
      schema: {
        tags,
        summary: "The firmware jobs this edge should run now (edge token): its devices' and its own, released and unfinished",
        description: `At most \`maxInFlightPerEdge\` jobs per campaign (those under way first, then pending ones by notBefore). \`paused\` is true while the campaign is paused, halted or aborted: start nothing new. The ETag is the edge's job-list version. Long-poll with \`?wait=<s>\` (at most ${MAX_WAIT_S}): with \`If-None-Match\` naming the current version it waits for a change (304 if none); without it, it waits only while the list is empty. A release, pause, resume, halt, abort or finished job answers at once.`,
        security,
        querystring: Type.Object({ wait: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_S, description: 'seconds to wait for a change (long-poll)' })) }, { additionalProperties: false }),
        response: { 200: FirmwareJobList, 304: Type.Null({ description: 'no change' }), ...errorResponses(400, 401) },
      },
    },
    async (req, reply) => {
      const edgeId = req.edgeId!;
      const known = parseEtagVersion(req.headers['if-none-match']);
      let version = await edgeVersion(fw.db, edgeId);
      let jobs = known !== undefined && known === version ? [] : await edgeJobs(fw.db, edgeId);
      const waiting = () => (known !== undefined ? known === version : jobs.length === 0);
      const deadline = Date.now() + (req.query.wait ?? 0) * 1000;
      if (waiting() && Date.now() < deadline) {
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        while (waiting() && !fw.watch.isClosed && !gone.signal.aborted && Date.now() < deadline) {
          await fw.watch.wait(edgeId, version, deadline - Date.now(), gone.signal);
          if (fw.watch.isClosed || gone.signal.aborted) break;
          try {
            await stillLive(edgeId);
            const now = await edgeVersion(fw.db, edgeId);
            if (now !== version) {
              version = now;
              jobs = await edgeJobs(fw.db, edgeId);
            }
          } catch (err) {
            // The app began closing between the check above and these queries (the pool is gone).
            if (fw.watch.isClosed) break;
            throw err;
          }
        }
      }
      reply.header('etag', `"${version}"`).header('cache-control', 'no-store');
      if (known !== undefined && known === version) {
        reply.status(304);
        return null;
      }
      return { jobs };
    },
  );

  app.get(
    '/edges/firmware/artifacts/:artifactId',
    {
      onRequest: app.requireEdge,
      schema: {
        tags,
        summary: 'The image bytes (edge token), for an edge with a released job of this artifact; Range resumes a download',
        description: 'One range per request (`Range: bytes=<from>-[<to>]` or `bytes=-<last n>`): 206 with Content-Range. A malformed range or one past the end is 416 GS_ERR_FIRMWARE_RANGE with `Content-Range: bytes */<size>`; several ranges get the whole image. ETag is the image\'s SHA-256.',
        security,
        params: Type.Object({ artifactId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z_-]+$' }) }, { additionalProperties: false }),
        produces: ['application/octet-stream'],
        // Streamed, so never serialised: these only document the answers.
        response: { 200: Type.String({ format: 'binary', description: 'the whole image' }), 206: Type.String({ format: 'binary', description: 'the range asked for' }), ...errorResponses(400, 401, 404, 416) },
      },
    },
    async (req, reply) => {
      const edgeId = req.edgeId!;
      const id = req.params.artifactId;
      if (!(await edgeMayDownload(fw.db, edgeId, id))) throw new GsError('GS_ERR_FIRMWARE_ARTIFACT_NOT_FOUND', `no firmware artifact "${id}" for this edge's jobs`);
      const a = await getArtifact(fw.db, id);
      const size = Number(a.size);
      const range = parseRange(req.headers.range, size);
      reply.header('accept-ranges', 'bytes').header('etag', `"${a.sha256}"`).header('content-type', 'application/octet-stream').header('cache-control', 'no-store');
      if (range.kind === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        throw new GsError('GS_ERR_FIRMWARE_RANGE', `range "${req.headers.range}" cannot be served from ${size} bytes`, [{ path: '/headers/range', message: `use bytes=<from>-[<to>] with from < ${size}` }]);
      }
      const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size - 1];
      if (range.kind === 'partial') reply.status(206).header('content-range', `bytes ${start}-${end}/${size}`);
      reply.header('content-length', end - start + 1);
      // The documented 200/206 type is the bytes; what is sent is a stream of them.
      return reply.send(Readable.from(readBytes(fw.db, a, start, end)) as unknown as string);
    },
  );

  app.post(
    '/edges/firmware/jobs/:jobId/report',
    {
      onRequest: app.requireEdge,
      schema: {
        tags,
        summary: "The edge reports a job's state (edge token): downloading → verifying → installing → succeeded, or failed with a reason",
        description: 'A move the state table refuses (backwards, out of a finished state, a job not yet released) is 409 GS_ERR_FIRMWARE_JOB_STATE; the same state again changes nothing (a downloading report updates `bytes`); another edge\'s job is 404 GS_ERR_FIRMWARE_JOB_NOT_FOUND. A finished job may release the next wave, or halt the campaign.',
        security,
        params: Type.Object({ jobId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z_-]+$' }) }, { additionalProperties: false }),
        body: FirmwareJobReport,
        response: { 200: FirmwareJob, ...errorResponses(400, 401, 404, 409, 413, 415) },
      },
    },
    async (req) => {
      const r = await reportJob(fw, req.edgeId!, req.params.jobId, req.body);
      fw.watch.notify(r.edges);
      if (r.terminal && r.moved) await fw.advance(r.job.campaignId);
      return r.job;
    },
  );
};

// Remote configuration, the cloud's side of the edge's API (edge token): the desired configuration
// with its version as ETag, long-polled with If-None-Match, and the edge's report of applying it.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ConfigReport, DesiredConfig } from '../../contracts/edge-config.js';
import { GsError } from '../../contracts/errors.js';
import { errorResponses } from '../http/schemas.js';
import { desiredConfig, desiredVersion, ensureEdgeFleet } from './desired.js';

const tags = ['edges'];
const security = [{ bearer: [] }];
export const MAX_WAIT_S = 30;

/** The version an If-None-Match names: `"7"`, `W/"7"` or `7` (the first of a list). */
export function parseEtagVersion(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*(?:,|$)/.exec(header);
  return m ? Number(m[1]) : undefined;
}

export const edgeConfigRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const stillLive = async (edgeId: string): Promise<void> => {
    const e = await app.db.selectFrom('edges').select('revoked_at').where('id', '=', edgeId).executeTakeFirst();
    if (!e || e.revoked_at !== null) throw new GsError('GS_ERR_EDGE_UNKNOWN', 'this edge was revoked');
  };

  app.get(
    '/edges/config',
    {
      onRequest: app.requireEdge,
      schema: {
        tags,
        summary: 'This edge\'s desired configuration (edge token); ETag is its version',
        description: `With \`If-None-Match: "<version>"\` naming the current version the answer is 304; with \`?wait=<s>\` (at most ${MAX_WAIT_S}) it first waits that long for a change, answering the moment one commits.`,
        security,
        querystring: Type.Object({ wait: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_S, description: 'seconds to wait for a change (long-poll)' })) }, { additionalProperties: false }),
        response: { 200: DesiredConfig, 304: Type.Null({ description: 'no change' }), ...errorResponses(400, 401) },
      },
    },
    async (req, reply) => {
      const edgeId = req.edgeId!;
      const watch = app.fleet.watch;
      let version = await desiredVersion(app.db, edgeId);
      if (version === undefined) {
        await ensureEdgeFleet(app.db, edgeId, app.clock.now());
        version = (await desiredVersion(app.db, edgeId))!;
      }
      const known = parseEtagVersion(req.headers['if-none-match']);
      if (known !== undefined && known === version) {
        const deadline = Date.now() + (req.query.wait ?? 0) * 1000;
        const gone = new AbortController();
        reply.raw.once('close', () => gone.abort());
        let changed = false;
        while (!changed && !watch.isClosed && !gone.signal.aborted && Date.now() < deadline) {
          await watch.wait(edgeId, version, deadline - Date.now(), gone.signal);
          // Shutting down: answer at once, without the database that is closing.
          if (watch.isClosed || gone.signal.aborted) break;
          try {
            await stillLive(edgeId);
            changed = (await desiredVersion(app.db, edgeId)) !== version;
          } catch (err) {
            // The app began closing between the check above and these queries (the pool is gone).
            if (watch.isClosed) break;
            throw err;
          }
        }
        if (!changed) {
          reply.header('etag', `"${version}"`).header('cache-control', 'no-store').status(304);
          return null;
        }
      }
      const config = await desiredConfig(app.db, edgeId, app.clock.now());
      reply.header('etag', `"${config.version}"`).header('cache-control', 'no-store');
      return config;
    },
  );

  app.post(
    '/edges/config/status',
    {
      onRequest: app.requireEdge,
      schema: {
        tags,
        summary: 'The edge reports applying a configuration version, or why it rejected it (edge token)',
        security,
        body: ConfigReport,
        response: { 204: Type.Null(), ...errorResponses(400, 401, 413, 415) },
      },
    },
    async (req, reply) => {
      const edgeId = req.edgeId!;
      const r = req.body;
      const now = app.clock.now();
      await ensureEdgeFleet(app.db, edgeId, now);
      await app.db
        .updateTable('edge_fleet')
        .set({ report: JSON.stringify(r), report_at: now, ...(r.applied ? { applied_version: r.version } : {}) })
        .where('edge_id', '=', edgeId)
        .execute();
      if (!r.applied) req.log.warn({ edgeId, version: r.version, code: r.error?.code }, 'an edge rejected its configuration');
      reply.status(204);
      return null;
    },
  );
};

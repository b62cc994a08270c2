// Campaigns (admin and technicians): create with waves, jitter, a maintenance window and a failure
// threshold; list, show with counts, list jobs; start, pause, resume, abort.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../http/schemas.js';
import { abortCampaign, createCampaign, getCampaign, pauseCampaign, resumeCampaign, startCampaign, type Changed } from './campaigns.js';
import { actorOf, countyWide } from './guards.js';
import { CampaignJson, CampaignList, CampaignListQuery, CreateCampaignBody, IdParams, JobList, JobListQuery, ResumeBody } from './schemas.js';
import { campaignViews, listCampaigns, listJobs } from './views.js';

const tags = ['firmware'];
const security = [{ bearer: [] }];

export const campaignRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const fw = app.firmware;
  const write = [app.requireScope('devices:write'), countyWide];

  /** After a commit: wake the edges it changed; answer the campaign as it is now. */
  const settled = async (c: Changed) => {
    fw.watch.notify(c.edges);
    const [view] = await campaignViews(fw.db, [await getCampaign(fw, c.id)]);
    return view!;
  };

  app.post(
    '/firmware/campaigns',
    {
      onRequest: write,
      schema: {
        tags,
        summary: 'Create a campaign: an artifact to its targets in staged waves (canary first); a draft unless start=true',
        description:
          "Targets: the active devices of the artifact's profile(s) on live edges, narrowed by `target` (edges, towns, tags, devices); for an artifact of profile `gridsense-edge`, one job per live edge (narrowed by edges and towns). Targets are shuffled (a random canary) and cut into `waves` by cumulative share. Each job gets notBefore = its wave's start + random(0, jitterMs) and the maintenance `window`. A wave whose failed jobs pass `failureThreshold` (strictly more than that share) halts the campaign: nothing more is released. The next wave starts when every job of the current one has ended, after `soakMs`. No target: 400 GS_ERR_FIRMWARE_NO_TARGETS.",
        security,
        body: CreateCampaignBody,
        response: { 201: CampaignJson, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req, reply) => {
      const c = await createCampaign(fw, req.body, actorOf(req));
      reply.status(201);
      return settled(c);
    },
  );

  app.get(
    '/firmware/campaigns',
    {
      onRequest: app.requireScope('devices:read'),
      schema: { tags, summary: 'Campaigns, newest first, with their counts', security, querystring: CampaignListQuery, response: { 200: CampaignList, ...errorResponses(400, 401, 403) } },
    },
    async (req) => listCampaigns(fw.db, req.query),
  );

  app.get(
    '/firmware/campaigns/:id',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: 'One campaign: its state, per-state job counts overall and per wave, failure reasons',
        security,
        params: IdParams,
        response: { 200: CampaignJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (req) => settled({ id: req.params.id, edges: [] }),
  );

  app.get(
    '/firmware/campaigns/:id/jobs',
    {
      onRequest: app.requireScope('devices:read'),
      schema: { tags, summary: "A campaign's jobs (per device or edge), filtered by state, wave or edge; cursor paging", security, params: IdParams, querystring: JobListQuery, response: { 200: JobList, ...errorResponses(400, 401, 403, 404) } },
    },
    async (req) => {
      await getCampaign(fw, req.params.id);
      return listJobs(fw.db, req.params.id, req.query);
    },
  );

  const step = (path: string, summary: string, run: (id: string, req: Parameters<typeof actorOf>[0], body: { overrideHalt?: boolean | undefined } | undefined) => Promise<Changed>, withBody = false) =>
    app.post(
      `/firmware/campaigns/:id/${path}`,
      {
        onRequest: write,
        // The body is optional: none is {}.
        preValidation: async (req) => {
          if (withBody && (req.body === undefined || req.body === null)) req.body = {};
        },
        schema: { tags, summary, security, params: IdParams, ...(withBody ? { body: ResumeBody } : {}), response: { 200: CampaignJson, ...errorResponses(400, 401, 403, 404, 409) } },
      },
      async (req) => settled(await run(req.params.id, req, req.body as { overrideHalt?: boolean } | undefined)),
    );

  step('start', 'Start a draft campaign: its first wave (the canary) is released at once', (id) => startCampaign(fw, id));
  step('pause', 'Pause: no wave is released and edges start no new job (jobs under way may finish)', (id) => pauseCampaign(fw, id));
  step(
    'resume',
    'Resume a paused campaign; a halted one only by an admin with {"overrideHalt": true} (the halted wave\'s failures are accepted)',
    (id, req, body) => resumeCampaign(fw, id, req.principal, body?.overrideHalt === true),
    true,
  );
  step('abort', 'Abort: every job not yet started is cancelled; jobs under way may finish', (id) => abortCampaign(fw, id));
};

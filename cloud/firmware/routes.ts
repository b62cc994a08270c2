import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { artifactRoutes } from './artifact-routes.js';
import { campaignRoutes } from './campaign-routes.js';
import { edgeFirmwareRoutes } from './edge-routes.js';

/** Every firmware route, under /api/v1: keys and artifacts, campaigns, and the edges' side. */
export const firmwareRoutes: FastifyPluginAsyncTypebox = async (app) => {
  await app.register(artifactRoutes);
  await app.register(campaignRoutes);
  await app.register(edgeFirmwareRoutes);
};

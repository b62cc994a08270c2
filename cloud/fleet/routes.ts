import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { Heartbeat } from '../../contracts/heartbeat.js';
import { errorResponses } from '../http/schemas.js';
import { parseTimeParam } from '../http/time.js';
import { townOf } from '../plugins/auth.js';
import { applyHeartbeat } from './heartbeat.js';
import { FleetDeviceList, fleetDevices, FleetDevicesQuery, fleetStatus, FleetStatusJson } from './status.js';

const security = [{ bearer: [] }];
/** A heartbeat may list 10,000 devices. */
const HEARTBEAT_BODY_LIMIT = 8 * 1024 * 1024;

export const fleetRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/edges/heartbeat',
    {
      onRequest: app.requireEdge,
      bodyLimit: HEARTBEAT_BODY_LIMIT,
      schema: {
        tags: ['fleet'],
        summary: "An edge's heartbeat (edge token): its version, uptime, outbox, and every device's health",
        security,
        body: Heartbeat,
        response: {
          200: Type.Object(
            {
              desiredVersion: Type.Integer({ description: 'the configuration version the cloud holds for this edge' }),
              unregistered: Type.Array(Type.String(), { description: 'devices the edge reports that the registry does not have on it' }),
            },
            { additionalProperties: false },
          ),
          ...errorResponses(400, 401, 413, 415),
        },
      },
    },
    async (req) => {
      const r = await applyHeartbeat(app.fleet, req.edgeId!, req.body);
      return { desiredVersion: r.desiredVersion, unregistered: r.unregistered.slice(0, 100) };
    },
  );

  app.get(
    '/fleet/status',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags: ['fleet'],
        summary: 'Per town: devices online/offline/unknown, availability over a period, edges, low batteries',
        description:
          'Availability is time-weighted from the health history: online time over all tracked time in [from, to) (default the last 24 h); disabled time does not count, unknown time (the edge silent, no report yet) counts against it. An edge silent for 3 heartbeat intervals is offline and its devices unknown.',
        security,
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ maxLength: 40, description: 'ms since the epoch or ISO 8601; default to − 24 h' })),
            to: Type.Optional(Type.String({ maxLength: 40, description: 'default now' })),
            town: Type.Optional(Type.String({ maxLength: 128 })),
            lowBattery: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'battery percent at or below which a device is listed (default 20)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: FleetStatusJson, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const from = parseTimeParam(req.query.from, 'from');
      const to = parseTimeParam(req.query.to, 'to');
      return fleetStatus(app.fleet, {
        keyTown: townOf(req),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(req.query.town !== undefined ? { town: req.query.town } : {}),
        ...(req.query.lowBattery !== undefined ? { lowBattery: req.query.lowBattery } : {}),
      });
    },
  );

  app.get(
    '/fleet/devices',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags: ['fleet'],
        summary: 'Active devices by health (e.g. ?status=offline), with when they were last heard and their last error',
        security,
        querystring: FleetDevicesQuery,
        response: { 200: FleetDeviceList, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => fleetDevices(app.fleet, req.query, townOf(req)),
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AlarmBatch, AlarmBatchResult } from '../../contracts/alarm.js';
import { GsError } from '../../contracts/errors.js';
import { errorResponses } from '../http/schemas.js';
import { ingestAlarms } from './ingest.js';
import { townOf } from '../plugins/auth.js';
import { getAlarm, listAlarms } from './repo.js';
import { AlarmJson, AlarmList, AlarmListQuery, type AlarmList as AlarmListT } from './schemas.js';

const tags = ['alarms'];

export const alarmRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/alarms',
    {
      onRequest: app.requireEdge,
      schema: {
        tags,
        summary: 'Upload a batch of alarm transitions (edge)',
        description:
          'Idempotent by (alarmId, seq) per edge: a transition the cloud already has counts as a duplicate and changes nothing, so an edge may retry freely. The whole batch is stored in one transaction. A transition that arrives before its raise is stored and applied once the raise arrives.',
        security: [{ bearer: [] }],
        body: AlarmBatch,
        response: { 200: AlarmBatchResult, ...errorResponses(400, 401, 413, 415) },
      },
    },
    async (req) => {
      const { result, changes } = await ingestAlarms(
        {
          db: app.db,
          clock: app.clock,
          newId: app.newId,
          policy: app.policy,
          locate: (lon, lat) => app.grids.place(lon, lat),
          profileKind: app.profileKind,
        },
        req.edgeId!,
        req.body,
      );
      // After commit only: a listener never hears of an event that was rolled back.
      // The feed rows were committed with the batch; deliver them to this instance's listeners now.
      if (changes.length > 0) await app.bus.wake();
      return result;
    },
  );

  app.get(
    '/alarms',
    {
      onRequest: app.requireScope('alarms:read'),
      schema: { tags, summary: 'List alarms, newest first', querystring: AlarmListQuery, response: { 200: AlarmList, ...errorResponses(400) } },
    },
    async (req): Promise<AlarmListT> => listAlarms(app.db, req.query, townOf(req)),
  );

  app.get(
    '/alarms/:id',
    {
      onRequest: app.requireScope('alarms:read'),
      schema: {
        tags,
        summary: 'One alarm (by its cloud id)',
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: AlarmJson, ...errorResponses(404) },
      },
    },
    async (req) => {
      const alarm = await getAlarm(app.db, req.params.id, townOf(req));
      if (!alarm) throw new GsError('GS_ERR_ALARM_NOT_FOUND', `alarm "${req.params.id}" not found`);
      return alarm;
    },
  );
};

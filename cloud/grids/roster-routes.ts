// CRUD of grid workers (网格员) and departments (职能部门). Reading needs `grids:read`; writing is
// grid administration (`admin`, like the grid import). A town key sees and changes its own town's
// workers and departments only (it also sees the county's departments, which dispatch may use, but
// cannot change them). Every write lands in the audit log (cloud/plugins/audit.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { errorResponses } from '../http/schemas.js';
import { townOf } from '../plugins/auth.js';
import { createDepartment, getDepartment, listDepartments, patchDepartment, retireDepartment, toDepartmentJson } from './departments.js';
import {
  DepartmentCreateBody,
  DepartmentJson,
  DepartmentList,
  DepartmentListQuery,
  DepartmentPatchBody,
  WorkerCreateBody,
  WorkerJson,
  WorkerList,
  WorkerListQuery,
  WorkerPatchBody,
} from './roster-schemas.js';
import { createWorker, getWorker, listWorkers, patchWorker, retireWorker, toWorkerJson } from './workers.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const security = [{ bearer: [] }];

export const rosterRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const deps = () => ({ db: app.db, now: () => app.clock.now(), newId: app.newId, categories: Object.keys(app.policy.categories) });

  // ── grid workers (网格员) ──
  const wtags = ['grid workers'];
  app.get(
    '/grid-workers',
    {
      onRequest: app.requireScope('grids:read'),
      schema: { tags: wtags, summary: 'List grid workers (网格员) by id', description: 'Serving workers only unless includeRetired. A town key lists its town only.', querystring: WorkerListQuery, response: { 200: WorkerList, ...errorResponses(400, 401, 403) } },
    },
    async (req) => listWorkers(app.db, req.query, townOf(req)),
  );
  app.get(
    '/grid-workers/:id',
    { onRequest: app.requireScope('grids:read'), schema: { tags: wtags, summary: 'One grid worker', params: IdParams, response: { 200: WorkerJson, ...errorResponses(401, 403, 404) } } },
    async (req) => toWorkerJson(await getWorker(app.db, req.params.id, townOf(req))),
  );
  app.post(
    '/grid-workers',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: wtags,
        summary: 'Add a grid worker (admin)',
        description: 'The grid must be a current grid of level grid or village; the worker serves the town above it. 409 GS_ERR_WORKER_EXISTS for a taken id.',
        security,
        body: WorkerCreateBody,
        response: { 201: WorkerJson, ...errorResponses(400, 401, 403, 409, 415) },
      },
    },
    async (req, reply) => reply.code(201).send(await createWorker(deps(), req.body, townOf(req))),
  );
  app.patch(
    '/grid-workers/:id',
    {
      onRequest: app.requireAdmin,
      schema: { tags: wtags, summary: 'Change a grid worker: name, phone, grid (admin)', security, params: IdParams, body: WorkerPatchBody, response: { 200: WorkerJson, ...errorResponses(400, 401, 403, 404, 409, 415) } },
    },
    async (req) => patchWorker(deps(), req.params.id, req.body, townOf(req)),
  );
  app.delete(
    '/grid-workers/:id',
    {
      onRequest: app.requireAdmin,
      schema: { tags: wtags, summary: 'Retire a grid worker (admin): no new events; past events keep their name', security, params: IdParams, response: { 200: WorkerJson, ...errorResponses(401, 403, 404) } },
    },
    async (req) => retireWorker(deps(), req.params.id, townOf(req)),
  );

  // ── departments (职能部门) ──
  const dtags = ['departments'];
  app.get(
    '/departments',
    {
      onRequest: app.requireScope('grids:read'),
      schema: {
        tags: dtags,
        summary: 'List departments (职能部门) by id',
        description: '`townId`: departments serving that town (its own and the county\'s); `category`: those handling it. A town key lists those serving its town.',
        querystring: DepartmentListQuery,
        response: { 200: DepartmentList, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => listDepartments(app.db, req.query, townOf(req)),
  );
  app.get(
    '/departments/:id',
    { onRequest: app.requireScope('grids:read'), schema: { tags: dtags, summary: 'One department', params: IdParams, response: { 200: DepartmentJson, ...errorResponses(401, 403, 404) } } },
    async (req) => toDepartmentJson(await getDepartment(app.db, req.params.id, townOf(req))),
  );
  app.post(
    '/departments',
    {
      onRequest: app.requireAdmin,
      schema: {
        tags: dtags,
        summary: 'Add a department (admin)',
        description: 'scope county (no townId) or town (townId: a town-level grid); categories: the policy\'s category codes it handles. 409 GS_ERR_DEPARTMENT_EXISTS for a taken id.',
        security,
        body: DepartmentCreateBody,
        response: { 201: DepartmentJson, ...errorResponses(400, 401, 403, 409, 415) },
      },
    },
    async (req, reply) => reply.code(201).send(await createDepartment(deps(), req.body, townOf(req))),
  );
  app.patch(
    '/departments/:id',
    {
      onRequest: app.requireAdmin,
      schema: { tags: dtags, summary: 'Change a department (admin)', security, params: IdParams, body: DepartmentPatchBody, response: { 200: DepartmentJson, ...errorResponses(400, 401, 403, 404, 409, 415) } },
    },
    async (req) => patchDepartment(deps(), req.params.id, req.body, townOf(req)),
  );
  app.delete(
    '/departments/:id',
    {
      onRequest: app.requireAdmin,
      schema: { tags: dtags, summary: 'Retire a department (admin): no new events; past events keep its name', security, params: IdParams, response: { 200: DepartmentJson, ...errorResponses(401, 403, 404) } },
    },
    async (req) => retireDepartment(deps(), req.params.id, townOf(req)),
  );
};

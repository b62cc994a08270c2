import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import Type from 'typebox';
import type { Database } from '../db/schema.js';
import { GsError } from '../../contracts/errors.js';
import { GRID_IMPORT_BODY_LIMIT } from '../config.js';
import { errorResponses } from '../http/schemas.js';
import { parseTimeParam } from '../http/time.js';
import { importGrids } from './import.js';
import { rosterRoutes } from './roster-routes.js';
import { GridDetailJson, GridDetailQuery, GridFeatureCollection, GridImportResult, GridList, GridListQuery, GridVersionJson, LocateQuery, type GridList as GridListT } from './schemas.js';
import { getGrid, listGrids, listVersions, resolveVersion } from './service.js';

const tags = ['grids'];

/** `version` or `asOf` of a query → the grid version to read (GS_ERR_GRID_VERSION_NOT_FOUND when there is none). */
function versionOf(db: Kysely<Database>, q: { version?: number | undefined; asOf?: string | undefined }): Promise<number> {
  return resolveVersion(db, { version: q.version, asOf: parseTimeParam(q.asOf, 'asOf') });
}

export const gridRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/grids/import',
    {
      onRequest: app.requireAdmin,
      bodyLimit: GRID_IMPORT_BODY_LIMIT,
      config: { validationCode: 'GS_ERR_GRID_INVALID' },
      schema: {
        tags,
        summary: 'Import grid polygons as a new grid version (admin)',
        description:
          'A GeoJSON FeatureCollection of Polygon/MultiPolygon features; properties carry id, name, nameZh?, level (county|town|village|grid), parentId?. Upserts by id, all or nothing. A file that changes anything makes a new grid version: changed grids get a new revision, the old one stays readable (GET /grids?version= or ?asOf=), events keep the grid they opened in, and registered devices are placed again from their locations (devicesMoved). Rings must be closed with ≥ 4 positions; every problem is reported as GS_ERR_GRID_INVALID with its path.',
        security: [{ bearer: [] }],
        body: GridFeatureCollection,
        response: { 200: GridImportResult, ...errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (req) => {
      const result = await importGrids(app.db, req.body, app.clock, req.principal?.name ?? 'admin');
      await app.grids.reload();
      return result;
    },
  );

  app.get(
    '/grids',
    {
      onRequest: app.requireScope('grids:read'),
      schema: {
        tags,
        summary: 'List grids (without geometry), of the current version or a past one',
        description: '`version` or `asOf` (ms or ISO 8601) read a past grid version; a time before the first import is 404 GS_ERR_GRID_VERSION_NOT_FOUND.',
        querystring: GridListQuery,
        response: { 200: GridList, ...errorResponses(400, 404) },
      },
    },
    async (req): Promise<GridListT> => {
      const version = await versionOf(app.db, req.query);
      return { version, items: await listGrids(app.db, version, req.query) };
    },
  );

  app.get(
    '/grids/versions',
    {
      onRequest: app.requireScope('grids:read'),
      schema: {
        tags,
        summary: 'Grid versions, newest first: one per import that changed something',
        response: { 200: Type.Object({ items: Type.Array(GridVersionJson) }, { additionalProperties: false }), ...errorResponses(400) },
      },
    },
    async () => ({ items: await listVersions(app.db) }),
  );

  app.get(
    '/grids/locate',
    {
      onRequest: app.requireScope('grids:read'),
      schema: {
        tags,
        summary: 'Grids that contain a point, most specific first',
        description: 'Deepest level first (grid, village, town, county), then smallest area. A point on a boundary counts as inside. `version`/`asOf` locate in a past grid version.',
        querystring: LocateQuery,
        response: { 200: GridList, ...errorResponses(400, 404) },
      },
    },
    async (req): Promise<GridListT> => {
      const { lon, lat } = req.query;
      if (req.query.version === undefined && req.query.asOf === undefined) return { version: app.grids.version, items: app.grids.containing(lon, lat).map((g) => g.summary) };
      const version = await versionOf(app.db, req.query);
      return { version, items: (await app.grids.containingAt(version, lon, lat)).map((g) => g.summary) };
    },
  );

  app.get(
    '/grids/:id',
    {
      onRequest: app.requireScope('grids:read'),
      schema: {
        tags,
        summary: 'One grid with its geometry and path (county → … → grid)',
        description: '`version`/`asOf`: the grid as it was then (404 GS_ERR_GRID_NOT_FOUND if it did not exist yet).',
        params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
        querystring: GridDetailQuery,
        response: { 200: GridDetailJson, ...errorResponses(400, 404) },
      },
    },
    async (req) => {
      const version = await versionOf(app.db, req.query);
      const grid = await getGrid(app.db, req.params.id, version);
      if (!grid) throw new GsError('GS_ERR_GRID_NOT_FOUND', `grid "${req.params.id}" not found${req.query.version !== undefined || req.query.asOf !== undefined ? ` in grid version ${version}` : ''}`);
      return grid;
    },
  );

  await app.register(rosterRoutes);
};

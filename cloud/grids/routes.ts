import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { GRID_IMPORT_BODY_LIMIT } from '../config.js';
import { errorResponses } from '../http/schemas.js';
import { GridDetailJson, GridFeatureCollection, GridImportResult, GridList, GridListQuery, LocateQuery, type GridList as GridListT } from './schemas.js';
import { getGrid, importGrids, listGrids } from './service.js';

const tags = ['grids'];

export const gridRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/grids/import',
    {
      onRequest: app.requireAdmin,
      bodyLimit: GRID_IMPORT_BODY_LIMIT,
      config: { validationCode: 'GS_ERR_GRID_INVALID' },
      schema: {
        tags,
        summary: 'Import grid polygons (admin)',
        description:
          'A GeoJSON FeatureCollection of Polygon/MultiPolygon features; properties carry id, name, nameZh?, level (county|town|village|grid), parentId?. Upserts by id, all or nothing. Rings must be closed with ≥ 4 positions; every problem is reported as GS_ERR_GRID_INVALID with its path.',
        security: [{ bearer: [] }],
        body: GridFeatureCollection,
        response: { 200: GridImportResult, ...errorResponses(400, 401, 403, 413, 415) },
      },
    },
    async (req) => {
      const result = await importGrids(app.db, req.body, app.clock);
      await app.grids.reload();
      return result;
    },
  );

  app.get(
    '/grids',
    {
      onRequest: app.requireScope('grids:read'),
      schema: { tags, summary: 'List grids (without geometry)', querystring: GridListQuery, response: { 200: GridList, ...errorResponses(400) } },
    },
    async (req): Promise<GridListT> => ({ items: await listGrids(app.db, req.query) }),
  );

  app.get(
    '/grids/locate',
    {
      onRequest: app.requireScope('grids:read'),
      schema: {
        tags,
        summary: 'Grids that contain a point, most specific first',
        description: 'Deepest level first (grid, village, town, county), then smallest area. A point on a boundary counts as inside.',
        querystring: LocateQuery,
        response: { 200: GridList, ...errorResponses(400) },
      },
    },
    async (req): Promise<GridListT> => ({ items: app.grids.containing(req.query.lon, req.query.lat).map((g) => g.summary) }),
  );

  app.get(
    '/grids/:id',
    {
      onRequest: app.requireScope('grids:read'),
      schema: {
        tags,
        summary: 'One grid with its geometry',
        params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
        response: { 200: GridDetailJson, ...errorResponses(404) },
      },
    },
    async (req) => {
      const grid = await getGrid(app.db, req.params.id);
      if (!grid) throw new GsError('GS_ERR_GRID_NOT_FOUND', `grid "${req.params.id}" not found`);
      return grid;
    },
  );
};

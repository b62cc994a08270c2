import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { definePlugin } from './define.js';

/**
 * OpenAPI 3.1 from the routes' own schemas (3.1 because nullable fields are JSON Schema unions with
 * null), served at /docs/json, with Swagger UI at /docs. Must be registered before the routes.
 */
export const openapiPlugin = definePlugin<{ version: string }>('gs-openapi', [], async (app, opts) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'gridsense cloud',
        version: opts.version,
        description:
          'Alarms from town edges become grid events (网格事件) with a grid, a category, a priority and a deadline. Every error is `{code: "GS_ERR_…", message, details?}`.',
      },
      tags: [
        { name: 'alarms', description: 'alarm ingest (edges) and alarm reads' },
        { name: 'events', description: 'grid events (网格事件): list, detail, live stream' },
        { name: 'grids', description: 'governance grids (网格): import, lookup' },
        { name: 'edges', description: 'town edge registration (admin)' },
        { name: 'system', description: 'health' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an edge token (gse_…) or the admin token' } } },
    },
    // Shared schemas keep their $id as their component name (ErrorBody), not def-N.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
});

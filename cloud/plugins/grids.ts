import { GridDirectory } from '../grids/directory.js';
import { definePlugin } from './define.js';

declare module 'fastify' {
  interface FastifyInstance {
    grids: GridDirectory;
  }
}

/** The in-memory grid index, loaded once the database is ready. */
export const gridsPlugin = definePlugin('gs-grids', ['gs-db'], async (app) => {
  const grids = new GridDirectory(app.db);
  await grids.reload();
  app.decorate('grids', grids);
});

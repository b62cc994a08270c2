import { GridDirectory } from '../grids/directory.js';
import { definePlugin } from './define.js';

declare module 'fastify' {
  interface FastifyInstance {
    grids: GridDirectory;
  }
}

/**
 * The in-memory grid index, loaded once the database is ready. Before every write request it checks
 * (at most every few seconds) whether another instance imported grids, so alarms and device
 * registrations are placed in the current grid version on every instance.
 */
export const gridsPlugin = definePlugin('gs-grids', ['gs-db', 'gs-clock'], async (app) => {
  const grids = new GridDirectory(app.db, app.clock);
  await grids.reload();
  app.decorate('grids', grids);
  app.addHook('preHandler', async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') await grids.refreshIfStale();
  });
});

import { ProfileLibrary } from '../../device-profiles/library.js';
import { RuleCatalog } from '../devices/rules.js';
import { definePlugin } from '../plugins/define.js';
import { ConfigWatch } from './config-watch.js';
import type { FleetDeps } from './deps.js';

export interface Fleet extends FleetDeps {
  /** Long-polls of GET /edges/config wait on it; notify it after committing a configuration change. */
  watch: ConfigWatch;
}

declare module 'fastify' {
  interface FastifyInstance {
    fleet: Fleet;
  }
}

/**
 * The device fleet's shared services: the bundled profile library, the rule library, and the watch
 * that wakes configuration long-polls. `configPollMs` (env GRIDSENSE_CONFIG_POLL_MS, default 1000):
 * how often waiting long-polls look for changes made through other instances (PostgreSQL also
 * tells them at once through NOTIFY).
 */
export const fleetPlugin = definePlugin<{ configPollMs?: number }>('gs-fleet', ['gs-db', 'gs-clock', 'gs-grids'], async (app, opts) => {
  let profiles: ProfileLibrary;
  try {
    profiles = ProfileLibrary.load();
  } catch (err) {
    app.log.error({ err }, 'device profiles not loaded; devices cannot be registered');
    profiles = new ProfileLibrary();
  }
  const envPoll = Number(process.env.GRIDSENSE_CONFIG_POLL_MS);
  const pollMs = opts.configPollMs ?? (Number.isInteger(envPoll) && envPoll >= 0 && process.env.GRIDSENSE_CONFIG_POLL_MS ? envPoll : 1000);
  const watch = new ConfigWatch({ db: app.db, pollMs, ...(app.dbListen ? { listen: app.dbListen } : {}), onError: (err) => app.log.warn({ err }, 'configuration watch failed') });
  await watch.start();
  app.decorate('fleet', { db: app.db, clock: app.clock, newId: app.newId, grids: app.grids, profiles, rules: new RuleCatalog(), watch });
  // preClose: waiting long-polls answer (304) before Fastify waits for in-flight requests to end.
  app.addHook('preClose', async () => watch.close());
});

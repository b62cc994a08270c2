// The cloud service, assembled: shared services as named plugins (errors, clock, db, auth, grids,
// events, openapi), then one route plugin per bounded context under /api/v1.
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { cachedValidatorCompiler, useCachedSerializers } from './http/compile-cache.js';
import { resolveOptions, type CloudOptions } from './config.js';
import { errorsPlugin } from './plugins/errors.js';
import { clockPlugin } from './plugins/clock.js';
import { dbPlugin } from './plugins/db.js';
import { authPlugin } from './plugins/auth.js';
import { gridsPlugin } from './plugins/grids.js';
import { eventsPlugin } from './plugins/events.js';
import { openapiPlugin } from './plugins/openapi.js';
import { supervisionPlugin } from './plugins/supervision.js';
import { webhooksPlugin } from './plugins/webhooks.js';
import { webhookRoutes } from './webhooks/routes.js';
import { authRoutes } from './auth/routes.js';
import { auditPlugin } from './plugins/audit.js';
import { healthRoutes } from './health.js';
import { edgeRoutes } from './edges/routes.js';
import { alarmRoutes } from './alarms/routes.js';
import { gridRoutes } from './grids/routes.js';
import { eventRoutes } from './events/routes.js';
import { eventStreamRoutes } from './events/stream.js';
import { fleetPlugin } from './fleet/plugin.js';
import { edgeConfigRoutes } from './edges/config-routes.js';
import { fleetRoutes } from './fleet/routes.js';
import { deviceRoutes } from './devices/routes.js';
import { evidenceRoutes } from './evidence/routes.js';
import { firmwarePlugin } from './firmware/plugin.js';
import { telemetryRoutes } from './telemetry/routes.js';

export type { CloudOptions } from './config.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Builds the app (database opened and migrated, grids loaded); it does not listen. `app.close()` frees everything. */
export async function buildCloud(opts: CloudOptions = {}): Promise<FastifyInstance> {
  const o = resolveOptions(opts);
  const app = Fastify({ logger: o.logger, bodyLimit: o.bodyLimit });
  // Validation through TypeBox itself: the schemas are TypeBox's, and it rejects unknown fields
  // (`additionalProperties: false`) instead of silently stripping them as Fastify's AJV setup does.
  app.setValidatorCompiler(cachedValidatorCompiler);
  useCachedSerializers(app);
  // The API speaks JSON only; without this Fastify would parse text/plain into a string and answer
  // a schema error instead of 415.
  app.removeContentTypeParser('text/plain');
  try {
    await app.register(errorsPlugin);
    await app.register(clockPlugin, { clock: o.clock });
    await app.register(dbPlugin, { url: o.db });
    await app.register(authPlugin, { adminToken: o.adminToken });
    await app.register(auditPlugin, {});
    await app.register(gridsPlugin);
    await app.register(fleetPlugin, {});
    await app.register(eventsPlugin, { config: o.config, feedPollMs: o.feedPollMs });
    await app.register(supervisionPlugin, { everyMs: o.supervisionMs });
    await app.register(webhooksPlugin, { everyMs: o.webhookWorkerMs });
    await app.register(openapiPlugin, { version: VERSION });
    // Firmware campaigns: its services, sweep and routes (under /api/v1) in one plugin.
    await app.register(firmwarePlugin, {});

    await app.register(healthRoutes);
    await app.register(
      async (api) => {
        await api.register(edgeRoutes);
        await api.register(edgeConfigRoutes);
        await api.register(fleetRoutes);
        await api.register(deviceRoutes);
        await api.register(alarmRoutes);
        await api.register(evidenceRoutes);
        await api.register(gridRoutes);
        await api.register(eventRoutes);
        await api.register(eventStreamRoutes);
        await api.register(webhookRoutes);
        await api.register(authRoutes);
        await api.register(telemetryRoutes);
      },
      { prefix: '/api/v1' },
    );
    await app.ready();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

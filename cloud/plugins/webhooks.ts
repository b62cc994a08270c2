import { WebhookDispatcher } from '../webhooks/dispatcher.js';
import { definePlugin } from './define.js';

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookDispatcher;
  }
}

/** Webhook delivery, started with the app and stopped (in-flight sends finished) when it closes. */
export const webhooksPlugin = definePlugin<{ everyMs: number; fetch?: typeof fetch }>('gs-webhooks', ['gs-db', 'gs-clock', 'gs-events'], async (app, opts) => {
  const dispatcher = new WebhookDispatcher({
    db: app.db, clock: app.clock, newId: app.newId, bus: app.bus, everyMs: opts.everyMs, log: app.log,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  dispatcher.start();
  app.decorate('webhooks', dispatcher);
  app.addHook('preClose', async () => dispatcher.stop());
});

import { FeedBus, type EventBus } from '../events/bus.js';
import { resolvePolicy, type EventPolicy } from '../events/policy.js';
import { bundledProfileKinds, type ProfileKindResolver } from '../events/profile-kinds.js';
import { definePlugin } from './define.js';

declare module 'fastify' {
  interface FastifyInstance {
    policy: EventPolicy;
    profileKind: ProfileKindResolver;
    bus: EventBus;
  }
}

/** A client away longer than this re-reads GET /events instead of resuming the stream. */
const FEED_RETENTION_MS = 7 * 24 * 3_600_000;

/** What turns alarms into events and tells the world: the policy, profile kinds, the live bus. */
export const eventsPlugin = definePlugin<{ config: Partial<EventPolicy>; feedPollMs: number }>('gs-events', ['gs-db', 'gs-clock'], async (app, opts) => {
  app.decorate('policy', resolvePolicy(opts.config));
  app.decorate('profileKind', bundledProfileKinds((err) => app.log.warn({ err }, 'device profiles not loaded; categories from alarm types only')));
  const bus = await FeedBus.open({
    db: app.db,
    clock: app.clock,
    pollMs: opts.feedPollMs,
    retentionMs: FEED_RETENTION_MS,
    onListenerError: (err) => app.log.warn({ err }, 'event stream listener failed'),
    onPollError: (err) => app.log.error({ err }, 'reading the event feed failed'),
    listen: app.dbListen,
  });
  app.decorate('bus', bus);
  app.addHook('onClose', async () => bus.close());
});

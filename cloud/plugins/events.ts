import { InProcessEventBus, type EventBus } from '../events/bus.js';
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

/** What turns alarms into events and tells the world: the policy, profile kinds, the live bus. */
export const eventsPlugin = definePlugin<{ config: Partial<EventPolicy> }>('gs-events', [], async (app, opts) => {
  app.decorate('policy', resolvePolicy(opts.config));
  app.decorate('profileKind', bundledProfileKinds((err) => app.log.warn({ err }, 'device profiles not loaded; categories from alarm types only')));
  const bus = new InProcessEventBus((err) => app.log.warn({ err }, 'event stream listener failed'));
  app.decorate('bus', bus);
  app.addHook('onClose', async () => bus.close());
});

import type { Clock } from '../../contracts/clock.js';
import { createIdFactory } from '../db/ids.js';
import { definePlugin } from './define.js';

declare module 'fastify' {
  interface FastifyInstance {
    clock: Clock;
    /** Sortable unique ids (ULID-style) from the injected clock. */
    newId: () => string;
  }
}

/** The injected clock, and the id generator that reads it, for every context. */
export const clockPlugin = definePlugin<{ clock: Clock }>('gs-clock', [], async (app, opts) => {
  app.decorate('clock', opts.clock);
  app.decorate('newId', createIdFactory(opts.clock));
});

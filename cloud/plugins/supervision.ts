import { escalationSweep } from '../events/escalation.js';
import { definePlugin } from './define.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** One supervision pass (督办): escalates late events, publishes them; returns their ids. */
    superviseEvents: () => Promise<string[]>;
  }
}

/**
 * Runs the escalation sweep every `everyMs` (0: never, tests call `superviseEvents` with their clock).
 * Sweeps do not overlap; a failed one is logged and the next tries again.
 */
export const supervisionPlugin = definePlugin<{ everyMs: number }>('gs-supervision', ['gs-db', 'gs-clock', 'gs-events'], async (app, opts) => {
  const sweep = async (): Promise<string[]> => {
    const ids = await escalationSweep({ db: app.db, clock: app.clock, newId: app.newId, policy: app.policy });
    if (ids.length > 0) await app.bus.wake();
    if (ids.length > 0) app.log.info({ escalated: ids.length }, 'supervision escalated late events');
    return ids;
  };
  app.decorate('superviseEvents', sweep);
  if (opts.everyMs <= 0) return;
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = sweep()
      .catch((err: unknown) => app.log.error({ err }, 'supervision sweep failed'))
      .finally(() => (running = undefined));
  }, opts.everyMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
});

import { definePlugin } from '../plugins/define.js';
import type { FirmwareDeps } from './deps.js';
import { firmwareRoutes } from './routes.js';
import { fwDb } from './tables.js';
import { advanceCampaign, sweepCampaigns } from './waves.js';
import { FirmwareWatch } from './watch.js';

export interface Firmware extends FirmwareDeps {
  /** Long-polls of GET /edges/firmware/jobs wait on it; notify it after committing a change. */
  watch: FirmwareWatch;
  /** One pass over the running campaigns (waves, timeouts); notifies the edges it changed. */
  sweep: () => Promise<string[]>;
  /** Moves one campaign as far as it goes now; notifies the edges it changed. */
  advance: (campaignId: string) => Promise<string[]>;
}

declare module 'fastify' {
  interface FastifyInstance {
    firmware: Firmware;
  }
}

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return process.env[name] && Number.isInteger(v) && v >= 0 ? v : fallback;
}

/**
 * Firmware campaigns (bounded context cloud/firmware): the shared services and the routes under
 * /api/v1. `sweepMs` (env GRIDSENSE_FIRMWARE_SWEEP_MS, default 10000, 0 = never): how often waves
 * are moved on by time (soak, timeouts) besides on every report; `pollMs` (env
 * GRIDSENSE_FIRMWARE_POLL_MS, default 1000): how often waiting long-polls look for changes made
 * through other instances (PostgreSQL also tells them at once through NOTIFY). `random` picks
 * canaries and jitter; tests replace `app.firmware.random`.
 */
export const firmwarePlugin = definePlugin<{ sweepMs?: number; pollMs?: number; random?: () => number }>('gs-firmware', ['gs-db', 'gs-clock', 'gs-auth'], async (app, opts) => {
  const db = fwDb(app.db);
  const watch = new FirmwareWatch({ db, pollMs: opts.pollMs ?? envMs('GRIDSENSE_FIRMWARE_POLL_MS', 1000), ...(app.dbListen ? { listen: app.dbListen } : {}), onError: (err) => app.log.warn({ err }, 'firmware watch failed') });
  await watch.start();
  const fw: Firmware = {
    db,
    clock: app.clock,
    newId: app.newId,
    random: opts.random ?? Math.random,
    watch,
    sweep: async () => {
      const edges = await sweepCampaigns(fw);
      watch.notify(edges);
      return edges;
    },
    advance: async (id) => {
      const edges = await advanceCampaign(fw, id);
      watch.notify(edges);
      return edges;
    },
  };
  app.decorate('firmware', fw);
  // preClose: waiting long-polls answer before Fastify waits for in-flight requests to end.
  app.addHook('preClose', async () => watch.close());
  await app.register(firmwareRoutes, { prefix: '/api/v1' });

  const everyMs = opts.sweepMs ?? envMs('GRIDSENSE_FIRMWARE_SWEEP_MS', 10_000);
  if (everyMs <= 0) return;
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = fw
      .sweep()
      .catch((err: unknown) => app.log.error({ err }, 'firmware sweep failed'))
      .finally(() => (running = undefined));
  }, everyMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    await running;
  });
});

import type { Clock } from '../contracts/clock.js';
import { systemClock } from '../contracts/clock.js';
import { GsError } from '../contracts/errors.js';
import type { EventPolicy } from './events/policy.js';

export interface CloudOptions {
  /** SQLite file path, ':memory:', or a postgres:// URL; default env GRIDSENSE_DB, else ./data/cloud.db. */
  db?: string;
  clock?: Clock;
  /** Fastify/pino logger options; default off. */
  logger?: boolean | object;
  /** Largest request body in bytes; default env GRIDSENSE_BODY_LIMIT, else 1 MiB. */
  bodyLimit?: number;
  /** Bearer token of admin routes; default env GRIDSENSE_ADMIN_TOKEN; unset = admin routes answer 403. */
  adminToken?: string;
  /** Overrides of the event policy (categories, priorities, deadlines). */
  config?: Partial<EventPolicy>;
  /** How often an instance looks for events other instances published, ms; default env GRIDSENSE_FEED_POLL_MS, else 1000; 0 = never (one instance). */
  feedPollMs?: number;
  /** How often due webhook deliveries are sent, ms; default env GRIDSENSE_WEBHOOK_MS, else 1000; 0 = only on demand. */
  webhookWorkerMs?: number;
  /** How often supervision escalates late events, ms; default env GRIDSENSE_SUPERVISION_MS, else 30000; 0 = never. */
  supervisionMs?: number;
}

export interface ResolvedOptions {
  db: string;
  clock: Clock;
  logger: boolean | object;
  bodyLimit: number;
  adminToken: string | undefined;
  config: Partial<EventPolicy>;
  supervisionMs: number;
  feedPollMs: number;
  webhookWorkerMs: number;
}

export const DEFAULT_DB = './data/cloud.db';
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
/** Grid GeoJSON of a whole county is larger than any alarm batch, so its route takes more. */
export const GRID_IMPORT_BODY_LIMIT = 32 * 1024 * 1024;

/** Options given win over the environment; the environment wins over defaults. */
export function resolveOptions(opts: CloudOptions, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  const bodyLimit = opts.bodyLimit ?? (env.GRIDSENSE_BODY_LIMIT ? Number(env.GRIDSENSE_BODY_LIMIT) : DEFAULT_BODY_LIMIT);
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1024) {
    throw new GsError('GS_ERR_CONFIG_INVALID', 'body limit must be a whole number of bytes, at least 1024', [
      { path: 'bodyLimit', message: `got ${String(opts.bodyLimit ?? env.GRIDSENSE_BODY_LIMIT)}` },
    ]);
  }
  const supervision = nonNegativeMs(opts.supervisionMs, env.GRIDSENSE_SUPERVISION_MS, 30_000, 'supervisionMs');
  const adminToken = opts.adminToken ?? (env.GRIDSENSE_ADMIN_TOKEN || undefined);
  return {
    db: opts.db ?? (env.GRIDSENSE_DB || DEFAULT_DB),
    clock: opts.clock ?? systemClock,
    logger: opts.logger ?? false,
    bodyLimit,
    adminToken: adminToken === '' ? undefined : adminToken,
    config: opts.config ?? {},
    supervisionMs: supervision,
    webhookWorkerMs: nonNegativeMs(opts.webhookWorkerMs, env.GRIDSENSE_WEBHOOK_MS, 1000, 'webhookWorkerMs'),
    feedPollMs: nonNegativeMs(opts.feedPollMs, env.GRIDSENSE_FEED_POLL_MS, 1000, 'feedPollMs'),
  };
}

/** An interval option: given, else from the environment, else the default; whole ms, 0 = off. */
function nonNegativeMs(given: number | undefined, fromEnv: string | undefined, fallback: number, name: string): number {
  const v = given ?? (fromEnv ? Number(fromEnv) : fallback);
  if (!Number.isInteger(v) || v < 0) {
    throw new GsError('GS_ERR_CONFIG_INVALID', `${name} must be a whole number of ms (0 = off)`, [{ path: name, message: `got ${String(given ?? fromEnv)}` }]);
  }
  return v;
}

// `gridsense edge supervise -c edge.yaml`: the supervisor process. It runs the agent from <dataDir>/current
// (the first time: the installation it runs from) and applies self-update jobs with a rollback.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../contracts/clock.js';
import { loadEdgeConfig } from '../config.js';
import { createLogger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import { EdgeSupervisor } from './supervisor.js';

/** The gridsense installation this code runs from (its package.json is there). */
export const INSTALL_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function superviseEdge(configPath: string, opts: { healthDeadlineMs?: number } = {}): Promise<void> {
  const config = loadEdgeConfig(configPath);
  const logger = createLogger('gridsense-supervisor');
  const supervisor = new EdgeSupervisor({
    dataDir: config.edge.dataDir,
    args: ['edge', '--config', resolve(configPath)],
    cloud: { url: config.cloud.url, token: config.cloud.token },
    bootstrap: INSTALL_ROOT,
    ...(opts.healthDeadlineMs !== undefined ? { healthDeadlineMs: opts.healthDeadlineMs } : {}),
    clock: systemClock,
    scheduler: systemScheduler,
    random: Math.random,
    logger,
  });
  await supervisor.start();
  const sig = await new Promise<NodeJS.Signals>((r) => {
    process.once('SIGINT', r);
    process.once('SIGTERM', r);
  });
  logger.info({ signal: sig }, 'stopping the supervisor and its edge agent');
  await supervisor.stop();
}

// `gridsense edge --config edge.yaml`: the agent, plus what a box running unattended needs around it —
// the cloud's remote configuration, hot reload of the local files, and a clean stop on a signal.
import { createLogger, errFields } from './log.js';
import { EdgeAgent, type EdgeAgentOptions } from './agent.js';
import { loadEdgeConfig } from './config.js';
import { ConfigWatcher } from './config-watch.js';
import { effectiveConfig, readCachedDesired, RemoteConfigClient } from './remote-config.js';
import { systemScheduler } from './scheduler.js';
import { EDGE_VERSION } from './heartbeat.js';
import { notifyHealthy } from './firmware/supervised.js';
import { nodeRedPlan, startNodeRed, type NodeRedFlags } from './node-red/run.js';

/**
 * `gridsense edge --config edge.yaml`: runs the agent until SIGINT or SIGTERM, then stops it cleanly
 * (timers cleared, sockets and files closed) and resolves. A second signal while stopping exits at once.
 */
export async function runEdge(configPath: string, opts: EdgeAgentOptions & { watch?: boolean; nodeRed?: NodeRedFlags } = {}): Promise<void> {
  const logger = opts.logger ?? createLogger();
  const local = loadEdgeConfig(configPath);
  // A cloud-managed edge starts with the devices the cloud last gave it, even while the uplink is down.
  const cached = local.cloud.remoteConfig ? readCachedDesired(local.edge.dataDir) : undefined;
  let initial = local;
  if (cached) {
    try {
      initial = effectiveConfig(configPath, cached);
    } catch (err) {
      logger.error({ ...errFields(err), version: cached.version }, 'the saved remote configuration no longer loads; starting with edge.yaml alone');
    }
  }
  const agent = new EdgeAgent(initial, { ...opts, logger });
  if (initial !== local) agent.configVersion = cached!.version;
  const nodeRed = nodeRedPlan(local, opts.nodeRed);
  await agent.start();
  const editor = nodeRed ? await startNodeRed(agent, nodeRed, logger).catch(async (err: unknown) => { await agent.stop(); throw err; }) : undefined;
  // Under the supervisor (gridsense edge supervise), a release that got this far is healthy: no rollback.
  notifyHealthy(EDGE_VERSION);
  const scheduler = opts.scheduler ?? systemScheduler;
  const remote = local.cloud.remoteConfig
    ? new RemoteConfigClient({ agent, localFile: configPath, scheduler, random: opts.random ?? Math.random, logger: logger.child({ component: 'remote-config' }), ...(opts.fetch ? { fetch: opts.fetch } : {}) })
    : undefined;
  remote?.start();
  // Edits to edge.yaml, its rule files and profile folders apply without a restart (on by default).
  const watcher =
    opts.watch === false
      ? undefined
      : new ConfigWatcher({ agent, logger: logger.child({ component: 'config' }), scheduler, load: () => effectiveConfig(configPath, remote?.desired()) });
  watcher?.start();
  let onSignal: (sig: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    let stopping = false;
    onSignal = (sig) => {
      if (stopping) process.exit(130);
      stopping = true;
      resolve(sig);
    };
  });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const sig = await signalled;
    logger.info({ signal: sig }, 'stopping edge agent');
    watcher?.close();
    await watcher?.idle();
    await remote?.stop();
    await editor?.stop();
    await agent.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

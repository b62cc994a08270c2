// What `gridsense edge run --node-red` adds to the edge: decide from edge.yaml and the flags whether the
// editor runs (before the agent starts, so a missing login fails fast), then start it beside the agent.
import { GsError } from '../../contracts/errors.js';
import type { EdgeAgent } from '../agent.js';
import type { EdgeConfig } from '../config.js';
import type { Logger } from '../log.js';
import { EdgeBridge } from './bridge.js';
import type { NodeRedSettings } from './config.js';
import { EmbeddedNodeRed } from './embedded.js';

export interface NodeRedFlags {
  /** `--node-red`: run the editor this time even if edge.yaml does not enable it. */
  enabled?: boolean;
  /** `--node-red-port`: overrides nodeRed.port. */
  port?: number;
}

/** The editor's settings when it should run, undefined when not; throws GS_ERR_NODE_RED_AUTH when asked for without a nodeRed section. */
export function nodeRedPlan(config: EdgeConfig, flags: NodeRedFlags = {}): NodeRedSettings | undefined {
  if (!flags.enabled && !config.nodeRed?.enabled) return undefined;
  if (!config.nodeRed) {
    throw new GsError('GS_ERR_NODE_RED_AUTH', `${config.file} has no nodeRed section: the editor needs nodeRed.adminUser and nodeRed.adminPasswordHash (gridsense node-red-password)`, [
      { file: config.file, path: '/nodeRed', message: 'missing: add { adminUser, adminPasswordHash } (or allowNoAuth: true on a loopback host)' },
    ]);
  }
  return { ...config.nodeRed, enabled: true, ...(flags.port !== undefined ? { port: flags.port } : {}) };
}

/** The bridge tapped into the running agent and the editor listening; stop() undoes both. */
export async function startNodeRed(agent: EdgeAgent, settings: NodeRedSettings, logger: Logger): Promise<{ editor: EmbeddedNodeRed; stop(): Promise<void> }> {
  const bridge = new EdgeBridge(agent, { logger: logger.child({ component: 'node-red' }) });
  bridge.start();
  const editor = new EmbeddedNodeRed({ settings, dataDir: agent.config.edge.dataDir, bridge, logger: logger.child({ component: 'node-red' }) });
  try {
    await editor.start();
  } catch (err) {
    bridge.stop();
    throw err;
  }
  return {
    editor,
    async stop() {
      await editor.stop();
      bridge.stop();
    },
  };
}

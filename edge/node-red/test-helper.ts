// node-red-node-test-helper (CommonJS, untyped) with the few calls the tests make, and the gridsense
// node modules as Node-RED loads them. The helper runs a real Node-RED runtime (flows, wires, the
// core nodes' own code); only its storage is in memory.
import { createRequire } from 'node:module';

export interface RedNode {
  id: string;
  receive(msg: object): void;
  on(event: string, fn: (arg: { args: unknown[] }) => void): void;
}

export interface NodeTestHelper {
  init(runtimePath?: string, settings?: object): void;
  settings(s: object): object;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: NodeModule[], flow: object[], credentials?: object): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): RedNode;
}

export type NodeModule = (RED: unknown) => unknown;

const require = createRequire(import.meta.url);
export const helper = require('node-red-node-test-helper') as NodeTestHelper;
helper.init(require.resolve('node-red'));

/** A node file of node-red-contrib-gridsense (node-red/nodes/<name>.js), as the runtime imports it. */
export async function gridsenseNode(name: 'readings' | 'alarm' | 'rule'): Promise<NodeModule> {
  const url = new URL(`../../node-red/nodes/${name}.js`, import.meta.url).href;
  return ((await import(url)) as { default: NodeModule }).default;
}

/** A core node file of Node-RED itself, e.g. 'function/10-switch.js'. */
export function coreNode(path: string): NodeModule {
  return require(`@node-red/nodes/core/${path}`) as NodeModule;
}

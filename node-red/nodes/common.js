// Glue shared by the gridsense nodes. Everything that knows about readings, alarms and rules lives in
// the edge's TypeScript (edge/node-red/bridge.ts); the nodes reach it through RED.settings.gridsense,
// which the edge sets when it runs Node-RED embedded.

/** The bridge, or undefined when this Node-RED runtime has no gridsense edge. */
export function bridgeOf(RED) {
  try {
    return RED.settings.gridsense;
  } catch {
    return undefined;
  }
}

/** "GS_ERR_…: message" for node.error / done(err), so a catch node and the log show the stable code. */
export function asNodeError(err) {
  const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : undefined;
  const e = new Error(code && code.startsWith('GS_ERR_') ? `${code}: ${err.message}` : String((err && err.message) || err));
  if (code) e.code = code;
  if (err && Array.isArray(err.details)) e.details = err.details;
  return e;
}

export function noEdge(node) {
  node.status({ fill: 'red', shape: 'ring', text: 'no gridsense edge' });
  return asNodeError({ code: 'GS_ERR_NODE_RED_NO_EDGE', message: 'no gridsense edge in this Node-RED runtime (run it with `gridsense edge run --node-red`)' });
}

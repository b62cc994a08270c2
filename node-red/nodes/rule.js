// `gridsense rule`: a gridsense rule file (YAML) run by the edge's own evaluator over the readings the
// flow sends in; each alarm transition leaves as a message with msg.alarm set (wire it to a
// `gridsense alarm` node to send it to the cloud).
import { asNodeError, bridgeOf, noEdge } from './common.js';

export default function (RED) {
  function GridsenseRule(config) {
    RED.nodes.createNode(this, config);
    // Arrow functions below keep `this`, the node.
    const bridge = bridgeOf(RED);
    let runner;
    let problem;
    if (!bridge) problem = noEdge(this);
    else {
      try {
        runner = bridge.rule(config.rules || '', this.id, (out) => this.send([out]));
        this.status({ fill: 'grey', shape: 'dot', text: runner.ruleIds.join(', ') });
      } catch (err) {
        problem = asNodeError(err);
        this.status({ fill: 'red', shape: 'ring', text: String(err.code || 'invalid rule') });
      }
    }
    if (problem) this.error(problem);
    this.on('input', (msg, send, done) => {
      if (!runner) {
        done(problem);
        return;
      }
      // Transitions leave through the runner's send (ticks emit them too, without an input).
      try {
        runner.process(msg);
        done();
      } catch (err) {
        done(asNodeError(err));
      }
    });
    this.on('close', () => runner && runner.close());
  }
  RED.nodes.registerType('gridsense-rule', GridsenseRule);
}

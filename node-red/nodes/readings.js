// `gridsense readings`: every reading the edge stores, as msg.payload with topic "<device>/<point>".
import { bridgeOf, noEdge } from './common.js';

export default function (RED) {
  function GridsenseReadings(config) {
    RED.nodes.createNode(this, config);
    // Arrow functions below keep `this`, the node.
    const bridge = bridgeOf(RED);
    if (!bridge) {
      this.error(noEdge(this));
      return;
    }
    let count = 0;
    const unsubscribe = bridge.subscribe(
      { device: config.device, profile: config.profile, point: config.point, quality: config.quality === 'all' ? 'all' : 'good' },
      (msg) => {
        count++;
        this.send(msg);
        if (count === 1 || count % 100 === 0) this.status({ fill: 'green', shape: 'dot', text: `${count} readings` });
      },
    );
    this.status({ fill: 'grey', shape: 'ring', text: 'waiting for readings' });
    this.on('close', () => unsubscribe());
  }
  RED.nodes.registerType('gridsense-readings', GridsenseReadings);
}
